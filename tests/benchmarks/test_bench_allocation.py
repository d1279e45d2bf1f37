"""``routeplan bench allocation --quick``: small Olist and synthetic runs, all checked."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from benchmarks.allocation import olist_frames, synthetic_frames

runner = CliRunner()


def test_quick_benchmark_runs_and_every_result_passes_the_checker(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "bench",
            "allocation",
            "--quick",
            "--out",
            str(tmp_path / "out"),
            "--results",
            str(tmp_path / "RESULTS.md"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "rows.json").is_file()
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Allocation" in text and "synthetic-300x10" in text


def test_olist_set_has_real_orders_and_scarce_skus(shared_data: Path) -> None:
    orders, stock, sites = olist_frames(shared_data / "olist", n_sites=10, max_orders=800)
    assert orders.order_id.nunique() == 800
    assert len(sites) <= 10 and set(stock.site_id) <= set(sites.site_id)


def test_synthetic_instance_shape() -> None:
    orders, stock, sites = synthetic_frames(200, 7, seed=2)
    assert orders.order_id.nunique() == 200 and len(sites) == 7
    assert set(stock.site_id) <= set(sites.site_id)
