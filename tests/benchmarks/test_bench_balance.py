"""``routeplan bench balance --quick``: every plan checked, both searches, files written."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli.app import app


def test_the_quick_curve_writes_its_files_and_every_plan_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "balance", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "balance.json").read_text())
    assert {r["metric"] for r in rows} == {"duration", "stops"}
    assert {r["search"] for r in rows} == {"sweep", "ortools"}
    assert all(r["feasible"] for r in rows)
    for row in rows:
        assert (row["balance_cost"] == 0) == (row["weight"] == 0)
        assert row["largest"] >= row["smallest"]
    assert "| search | metric | weight |" in (tmp_path / "balance.md").read_text()
