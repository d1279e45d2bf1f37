"""``routeplan plan`` and the whole-day ``routeplan demo``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.formats.sample_plan import sample_plan
from engine.allocation.evaluate import evaluate_allocation
from engine.routing.evaluate import evaluate
from models.plan import PlanRequest, PlanResult
from tests.engine.plan.test_pipeline import expected_site_requests

runner = CliRunner()


def _small_day() -> PlanRequest:
    day = sample_plan(n_orders=30, routing_time_limit_s=1.0)
    return day.model_copy(
        update={
            "options": day.options.model_copy(update={"parallel": False}),
            "allocation_options": day.allocation_options.model_copy(update={"time_limit_s": 2}),
        }
    )


def _check(day: PlanRequest, result: PlanResult) -> None:
    assert day.plan_date is not None
    checked = evaluate_allocation(day.allocation_request(), result.allocation, day.plan_date)
    assert checked.feasible, [v.message for v in checked.violations]
    requests = expected_site_requests(day, result.allocation)
    assert {s.site_id for s in result.sites} == set(requests)
    for site in result.sites:
        assert evaluate(requests[site.site_id], site.routing).feasible


def test_plan_from_json_writes_checked_outputs(tmp_path: Path) -> None:
    day = _small_day()
    path = tmp_path / "day.json"
    path.write_text(day.model_dump_json())
    result = runner.invoke(app, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    plan = PlanResult.model_validate_json((tmp_path / "out" / "plan.json").read_text())
    _check(day, plan)
    shipments = pd.read_csv(tmp_path / "out" / "shipments.csv")
    assert set(shipments["mode"]) <= {"van", "carrier", "unrouted"}
    assert (tmp_path / "out" / "routes.png").exists()


def test_plan_from_csv_files(tmp_path: Path) -> None:
    day = _small_day()
    rows = [
        {
            "order_id": o.id,
            "line_id": ln.id,
            "sku": ln.sku,
            "quantity": ln.quantity,
            "lat": o.location[1],
            "lon": o.location[0],
            "priority": o.priority,
        }
        for o in day.orders
        if o.location
        for ln in o.lines
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "orders.csv", index=False)
    pd.DataFrame([s.model_dump() for s in day.stock]).to_csv(tmp_path / "stock.csv", index=False)
    pd.DataFrame(
        [
            {
                "site_id": s.id,
                "kind": s.kind,
                "lat": s.location[1],
                "lon": s.location[0],
                "capacity_orders": s.capacity_orders,
                "capacity_units": s.capacity_units,
                "handling_cost_per_unit": s.handling_cost_per_unit,
            }
            for s in day.sites
        ]
    ).to_csv(tmp_path / "sites.csv", index=False)
    pd.DataFrame(
        [
            {
                "id": v.id,
                "site_id": v.site_id,
                "capacity_weight_kg": v.capacity["weight_kg"],
                "shift_start_s": 28800,
                "shift_end_s": 64800,
            }
            for v in day.fleet
        ]
    ).to_csv(tmp_path / "fleet.csv", index=False)
    pd.DataFrame([p.model_dump() for p in day.products]).to_csv(
        tmp_path / "products.csv", index=False
    )
    out = tmp_path / "out"
    args = ["plan", "--out", str(out)]
    for name in ("orders", "stock", "sites", "fleet", "products"):
        args += [f"--{name}", str(tmp_path / f"{name}.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = PlanResult.model_validate_json((out / "plan.json").read_text())
    assert plan.kpis.orders == len({r["order_id"] for r in rows})
    assert plan.kpis.shipments_by_van > 0


def test_plan_rejects_a_fleet_at_an_unknown_site(tmp_path: Path) -> None:
    data = json.loads(_small_day().model_dump_json())
    data["fleet"][0]["site_id"] = "nowhere"
    path = tmp_path / "day.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "fleet[0].site_id = 'nowhere' is not a known site" in result.output


def test_plan_reports_a_malformed_order_and_plans_the_rest(tmp_path: Path) -> None:
    data = json.loads(_small_day().model_dump_json())
    data["orders"][0]["lines"][0]["quantity"] = "many"
    path = tmp_path / "day.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    plan = PlanResult.model_validate_json((tmp_path / "out" / "plan.json").read_text())
    bad = [u for u in plan.unassigned if u.order_id == data["orders"][0]["id"]]
    assert bad and bad[0].reason == "invalid_order"


def test_missing_plan_input_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--orders", str(tmp_path / "none.csv")])
    assert result.exit_code == 2


def test_demo_plans_the_whole_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.settings import get_settings
    from engine.book.store import BookStore

    url = f"sqlite:///{tmp_path / 'server.db'}"  # the server's database, not the user's
    monkeypatch.setenv("ROUTEPLAN_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--time-limit", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    stored = re.search(r"#/plans/([0-9a-f-]{36})", result.output)
    assert stored is not None, result.output  # the dashboard's address of the stored plan
    book = BookStore(url)
    try:
        assert book.get_plan(stored.group(1)).kpis.cost > 0
    finally:
        book.close()
    day = PlanRequest.model_validate_json((tmp_path / "request.json").read_text())
    plan = PlanResult.model_validate_json((tmp_path / "plan.json").read_text())
    _check(day, plan)
    assert (tmp_path / "routes.png").stat().st_size > 10_000
    assert "Day plan" in result.output
