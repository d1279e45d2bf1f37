"""``routeplan allocate``: files in, summary and files out; bad input exits 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.api.formats.test_allocation_files import write

runner = CliRunner()


def test_allocate_writes_result_and_csvs(tmp_path: Path) -> None:
    orders, stock, sites = write(tmp_path)
    res = runner.invoke(
        app,
        [
            "allocate",
            "--orders",
            str(orders),
            "--stock",
            str(stock),
            "--sites",
            str(sites),
            "--time-limit",
            "2",
            "--plan-date",
            "2024-03-01",
            "--out",
            str(tmp_path / "r.json"),
            "--shipments",
            str(tmp_path / "shipments.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "vs greedy_nearest" in res.output and "total cost" in res.output
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["totals"]["orders"] == 3
    assert (tmp_path / "unfulfilled.csv").is_file()


def test_bad_file_exits_2_and_names_the_field(tmp_path: Path) -> None:
    orders, stock, sites = write(tmp_path, stock="site_id,sku,on_hand\nrio,a,lots\n")
    res = runner.invoke(
        app, ["allocate", "--orders", str(orders), "--stock", str(stock), "--sites", str(sites)]
    )
    assert res.exit_code == 2
    assert "on_hand" in res.output and "Traceback" not in res.output


def test_missing_inputs_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["allocate", "--orders", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2
    assert "--stock" in res.output


def test_json_request(tmp_path: Path) -> None:
    body = {
        "plan_date": "2024-03-01",
        "sites": [{"id": "s", "location": [-43.2, -22.9]}],
        "stock": [{"site_id": "s", "sku": "a", "on_hand": 1}],
        "orders": [
            {"id": 1, "location": [-43.2, -22.9], "lines": [{"id": 1, "sku": "a", "quantity": 1}]}
        ],
    }
    (tmp_path / "r.json").write_text(json.dumps(body))
    res = runner.invoke(
        app, ["allocate", "--request", str(tmp_path / "r.json"), "--time-limit", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "allocated / partial / unfulfilled" in res.output
