"""``routeplan bench balance --quick``: every plan checked, files written, the curve moves."""

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
    assert all(r["feasible"] for r in rows)
    for row in rows:
        assert (row["balance_cost"] == 0) == (row["weight"] == 0)
        assert row["largest"] >= row["smallest"]
    # a weight on the busiest route never makes it busier than no weight at all would
    stops = {r["weight"]: r for r in rows if r["metric"] == "stops"}
    assert stops[10.0]["largest"] <= stops[0.0]["largest"]
    assert "| metric | weight |" in (tmp_path / "balance.md").read_text()
