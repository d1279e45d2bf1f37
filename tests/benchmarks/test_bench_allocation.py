"""``routeplan bench allocation --quick``: small Olist and synthetic runs, all checked."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from api.cli import app
from api.formats.allocation_files import load_csv
from benchmarks.allocation import PLAN_DATE, olist_frames, request_from_frames, synthetic_frames
from engine.allocation import allocate, evaluate_allocation
from models.allocation import AllocationOptions
from models.status import UnfulfilledReason

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


def _assert_csv_files_give_the_same_request(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], folder: Path
) -> None:
    """The benchmark builds its request from the frames; ``routeplan allocate`` reads the CSV
    files it writes: both must be the same request, so the two paths cannot drift apart."""
    options = AllocationOptions(time_limit_s=3.0)
    built = request_from_frames(*frames, options, folder)
    loaded = load_csv(
        folder / "orders.csv",
        folder / "stock.csv",
        folder / "sites.csv",
        options=options,
        plan_date=PLAN_DATE,
    )
    assert loaded.rejected == []
    assert loaded.request == built


def test_synthetic_csv_files_read_back_as_the_same_request(tmp_path: Path) -> None:
    _assert_csv_files_give_the_same_request(synthetic_frames(300, 10, seed=1), tmp_path)


def test_olist_csv_files_read_back_as_the_same_request(shared_data: Path, tmp_path: Path) -> None:
    frames = olist_frames(shared_data / "olist", n_sites=10, max_orders=800)
    _assert_csv_files_give_the_same_request(frames, tmp_path)


def test_olist_with_every_promise_past_ships_at_least_the_nearest_greedy(
    shared_data: Path,
) -> None:
    """Issue 10's acceptance, on real orders: with today as the plan date every promised
    date is past, and the MIP still ships at least the units the nearest-site greedy ships."""
    frames = olist_frames(shared_data / "olist", n_sites=20, seed=0, max_orders=1500)
    units: dict[str, int] = {}
    for method in ("mip", "greedy_nearest"):
        options = AllocationOptions(method=method, time_limit_s=5.0, explain=False)
        request = request_from_frames(*frames, options, Path(tempfile.mkdtemp()))
        request = request.model_copy(update={"plan_date": dt.date.today()})
        result = allocate(request)
        verdict = evaluate_allocation(request, result, dt.date.today())
        assert verdict.feasible, [v.message for v in verdict.violations][:3]
        assert not any(u.reason == UnfulfilledReason.UNECONOMIC for u in result.unfulfilled)
        units[method] = verdict.units_shipped
    assert units["greedy_nearest"] > 0
    assert units["mip"] >= units["greedy_nearest"]
