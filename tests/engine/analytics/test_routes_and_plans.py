"""Planned against actual, and the plans' cost: hand-made route and stop rows, then a real
day of the book (planned, committed, dispatched, its stops reported at chosen times) on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.analytics.plans import summarise as summarise_plans
from engine.analytics.reads import Analytics
from engine.analytics.routes import stop_outcome, summarise
from engine.dispatch.store import DispatchStore
from models.dispatch import RouteEventIn
from tests.engine.dispatch.conftest import DAY_START, at, packed_day

ROUTE: dict[str, Any] = {
    "route_id": "r1",
    "plan_id": "p1",
    "site_id": "w1",
    "vehicle_id": "van-1",
    "status": "completed",
    "day_start": DAY_START,
}


def _stop(position: int, status: str, planned_s: float, actual_s: float | None, **kw: Any) -> Any:
    """A stop row; its window 09:00-12:00 unless ``ws``/``we`` say otherwise."""
    return {
        "position": position,
        "stop_id": f"s{position}",
        "kind": "job",
        "status": status,
        "planned_start_s": planned_s,
        "last_event_at": None if actual_s is None else at(actual_s),
        "window_start_s": kw.get("ws", 32400.0),
        "window_end_s": kw.get("we", 43200.0),
    }


def test_a_stop_done_against_its_plan() -> None:
    late = stop_outcome(ROUTE, _stop(1, "delivered", 36000, 36000 + 900))
    assert late is not None and late.lateness_s == 900 and late.on_time is True
    after = stop_outcome(ROUTE, _stop(2, "failed", 40000, 43200 + 1))
    assert after is not None and after.on_time is False and after.lateness_s == 3201
    early = stop_outcome(ROUTE, _stop(3, "delivered", 33000, 32000))
    assert early is not None and early.lateness_s == -1000 and early.on_time is False
    no_window = stop_outcome(ROUTE, _stop(4, "delivered", 33000, 33000, ws=None, we=None))
    assert no_window is not None and no_window.on_time is None
    assert stop_outcome(ROUTE, _stop(5, "pending", 33000, None)) is None
    assert stop_outcome(ROUTE, _stop(6, "arrived", 33000, 33100)) is None


def test_mean_p90_and_share_per_route_and_overall() -> None:
    # ten stops 0, 60, ..., 540 s late, all within 09:00-12:00; p90 (linear) by hand:
    # position 0.9 * 9 = 8.1 between 480 and 540: 480 + 0.1 * 60 = 486
    stops = [_stop(k + 1, "delivered", 36000, 36000 + 60 * k) for k in range(10)]
    stops.append(_stop(11, "pending", 37000, None))
    second = {**ROUTE, "route_id": "r2"}
    routes, done, overall = summarise(
        [ROUTE, second], {"r1": stops, "r2": [_stop(1, "failed", 36000, 50000)]}
    )
    r1, r2 = routes
    assert (r1.stops_done, r1.stops_planned, r1.delivered) == (10, 11, 10)
    assert r1.mean_lateness_s == pytest.approx(270.0)
    assert r1.p90_lateness_s == pytest.approx(486.0)
    assert r1.on_time_share == 1.0
    assert (r2.stops_done, r2.failed, r2.on_time_share) == (1, 1, 0.0)
    assert len(done) == 11 and overall.stops_done == 11
    assert overall.mean_lateness_s == pytest.approx((2700 + 14000) / 11)
    assert overall.on_time_share == pytest.approx(10 / 11)


def _plan(plan_id: str, status: str, cost: float, orders: int, day: dt.date) -> dict[str, Any]:
    """A plan row with one van route of two visits (and a break)."""
    visit = {"type": "job"}
    steps = [{"type": "start"}, visit, {"type": "break"}, visit, {"type": "end"}]
    kpis = {
        "cost": cost,
        "routing_cost": 10.0,
        "orders": orders,
        "shipments": orders,
        "on_time_share": 0.5,
        "vehicles_used": 1,
        "distance_m": 1000.0,
    }
    return {
        "id": plan_id,
        "status": status,
        "source": "book",
        "plan_date": day,
        "committed_at": None,
        "result": {"kpis": kpis, "sites": [{"routing": {"routes": [{"steps": steps}]}}]},
    }


def test_plan_rows_and_the_committed_totals() -> None:
    d1, d2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    plans = [_plan("a", "superseded", 30.0, 3, d1), _plan("b", "committed", 40.0, 4, d1)]
    plans.append(_plan("c", "committed", 50.0, 0, d2))
    report = summarise_plans(plans, d1, d1)
    assert [(p.plan_id, p.status) for p in report.plans] == [
        ("a", "superseded"),
        ("b", "committed"),
    ]
    b = report.plans[1]
    assert (b.cost_per_order, b.van_stops, b.routing_cost_per_stop) == (10.0, 2, 5.0)
    assert (report.committed_orders, report.committed_cost, report.cost_per_order) == (
        4,
        40.0,
        10.0,
    )
    everything = summarise_plans(plans, None, None)
    assert everything.plans[2].cost_per_order is None  # no orders
    assert everything.committed_cost == 90.0


def _event(kind: str, stop_id: str, seconds: float) -> RouteEventIn:
    """An event at ``seconds`` after the day start."""
    return RouteEventIn(type=kind, stop_id=stop_id, at=at(seconds))  # type: ignore[arg-type]


def test_a_driven_day_of_the_book(store: DispatchStore) -> None:
    """Plan, commit, dispatch; the first stop delivered 10 min after its planned start, the
    second failed at 13:00 (after its 09:00-12:00 window), the third not reported."""
    day = packed_day(store, ["o-1", "o-2", "o-3"])
    store.dispatch(day.route_id)
    s1, s2, _s3, _end = store.get_route(day.route_id).stops
    store.report(day.route_id, _event("delivered", s1.stop_id, s1.planned_start_s + 600))
    store.report(day.route_id, _event("failed", s2.stop_id, 13 * 3600))
    analytics = Analytics(store)

    report = analytics.routes(DAY_START.date(), DAY_START.date())
    (route,) = report.routes
    assert (route.route_id, route.status, route.stops_planned) == (day.route_id, "dispatched", 3)
    first, second = report.stops
    assert (first.stop_id, first.on_time) == (s1.stop_id, True)
    assert first.lateness_s == pytest.approx(600.0, abs=1e-3)
    assert second.lateness_s == pytest.approx(13 * 3600 - s2.planned_start_s, abs=1e-3)
    assert (second.status, second.on_time) == ("failed", False)
    assert route.on_time_share == 0.5 and report.overall.stops_done == 2
    assert analytics.routes(dt.date(2026, 12, 3), None).routes == []

    plans = analytics.plans(None, None)
    (row,) = plans.plans
    kpis = day.plan.kpis
    assert (row.plan_id, row.status, row.van_stops) == (day.plan.id, "committed", 3)
    assert row.cost_per_order == pytest.approx(kpis.cost / kpis.orders)
    assert row.routing_cost_per_stop == pytest.approx(kpis.routing_cost / 3)

    today = dt.datetime.now(dt.UTC).date()  # the orders have no placed_at: captured today
    orders = analytics.orders(today - dt.timedelta(days=1), today)
    assert {(r.site_id, r.channel): r.orders for r in orders.rows} == {("w1", "web"): 3}
