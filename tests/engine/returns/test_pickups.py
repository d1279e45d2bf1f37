"""Approved returns in the next plan from the book: a pickup stop beside the day's
deliveries on a van whose load, worked out here from the steps, the lines and the product
sizes, never exceeds its capacity (and the routing evaluator agrees); unserved pickups
listed with their reason; the commit schedules them; the driver's ``picked_up`` and
``failed`` at the pickup stop reach the return."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.plan.pipeline import plan, site_requests
from engine.returns.store import ReturnsStore
from engine.routing.evaluate import evaluate
from models.book import PlanRecord, SiteIn
from models.dispatch import RouteEventIn
from models.plan import PlanResult
from models.returns import ReturnIn, ReturnRecord, ReturnStatus
from models.routing import StepType
from models.status import OrderStatus
from tests.engine.returns.conftest import SIZES, book_request, capture, delivered

DAY_START = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
#: The van of the second day: 4 kg, less than a delivery of 2 kettles and a pickup of 2.
SMALL_VAN = {
    "id": "van-1",
    "site_id": "w1",
    "capacity": {"weight_kg": 4.0},
    "shift": [28800, 64800],
    "cost_per_km": 0.3,
}


def _approved(returns: ReturnsStore) -> ReturnRecord:
    """o-1 sends its 2 kettles back (3 kg); approved."""
    body = ReturnIn.model_validate(
        {"order_id": "o-1", "lines": [{"line_id": "l1", "quantity": 2}], "reason": "broken"}
    )
    opened, _ = returns.create(body)
    return returns.approve(opened.id)


def _second_day(store: DispatchStore, fleet: list[dict[str, Any]]) -> tuple[PlanResult, Any]:
    """A new order of 2 kettles (3 kg), planned from the book with ``fleet``; the result and
    the full plan request."""
    capture(store, "o-3", (4.95, 52.37), 2, 0)
    request = book_request(fleet)
    full, _refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    return plan(full), full


def _weight(lines: list[tuple[str, int]]) -> float:
    return sum(SIZES[sku][0] * units for sku, units in lines)


def test_a_van_carries_deliveries_and_a_pickup_within_its_capacity(store: DispatchStore) -> None:
    returns = delivered(store)
    ret = _approved(returns)
    result, full = _second_day(store, [SMALL_VAN])
    assert [p.id for p in full.pickups] == [ret.id] and full.pickups[0].site_id == "w1"
    assert result.unassigned == [], result.unassigned
    (site,) = result.sites
    (route,) = site.routing.routes
    pickup_id = f"return:{ret.id}@w1"
    picked = {pickup_id: _weight([("kettle", 2)])}  # the return's lines, sized here
    dropped = {
        f"{s.order_id}@{s.site_id}": _weight([(ln.sku, ln.quantity) for ln in s.lines])
        for s in result.shipments
        if s.mode == "van"
    }
    visits = [str(step.id) for step in route.steps if step.type is StepType.STOP]
    assert sorted(visits) == sorted([pickup_id, *dropped])
    load = sum(dropped[v] for v in visits if v in dropped)  # all deliveries on at the start
    assert load <= 4.0
    for visit in visits:
        load += picked.get(visit, 0.0) - dropped.get(visit, 0.0)
        assert load <= 4.0 + 1e-9, (visit, load)
    assert visits.index("o-3@w1") < visits.index(pickup_id)  # 3 + 3 kg would not fit
    routing_request, _index = site_requests(full, result.allocation)["w1"]
    verdict = evaluate(routing_request, site.routing)
    assert verdict.feasible, [v.message for v in verdict.violations]


def test_pickups_no_van_can_collect_are_listed_with_their_reason(store: DispatchStore) -> None:
    returns = delivered(store)
    ret = _approved(returns)
    tiny = {**SMALL_VAN, "capacity": {"weight_kg": 2.0}}  # the 3 kg pickup fits no van
    result, _full = _second_day(store, [tiny])
    (left,) = [u for u in result.unassigned if u.return_id is not None]
    assert (left.return_id, left.order_id, left.site_id) == (ret.id, "o-1", "w1")
    assert left.stage == "routing" and left.reason == "demand_exceeds_capacity"


def test_a_site_without_vans_leaves_its_pickups_out(store: DispatchStore) -> None:
    returns = delivered(store)
    ret = _approved(returns)
    store.put_site("w2", SiteIn.model_validate({"location": (4.80, 52.30)}))
    result, _full = _second_day(store, [{**SMALL_VAN, "site_id": "w2"}])
    (left,) = [u for u in result.unassigned if u.return_id is not None]
    assert (left.return_id, left.site_id, left.reason) == (ret.id, "w1", "no_vehicle")


def _commit_second_day(store: DispatchStore) -> tuple[PlanRecord, str]:
    request = book_request([SMALL_VAN])
    full, refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    draft = store.save_plan("book", request.model_dump(mode="json"), plan(full), refs)
    store.commit_plan(draft.id)
    committed = store.get_plan(draft.id)
    (ref,) = committed.routes
    return committed, ref.route_id


def _event(kind: str, stop_id: str, seconds: float) -> RouteEventIn:
    at = DAY_START + dt.timedelta(seconds=seconds)
    return RouteEventIn.model_validate({"type": kind, "stop_id": stop_id, "at": at.isoformat()})


@pytest.mark.parametrize("outcome", ["picked_up", "failed"])
def test_commit_schedules_the_pickup_and_the_driver_reports_it(
    any_store: DispatchStore, outcome: str
) -> None:
    returns = delivered(any_store)
    ret = _approved(returns)
    capture(any_store, "o-3", (4.95, 52.37), 2, 0)
    committed, route_id = _commit_second_day(any_store)
    scheduled = returns.get(ret.id)
    assert scheduled.status is ReturnStatus.PICKUP_SCHEDULED
    assert (scheduled.pickup.plan_id, scheduled.pickup.route_id) == (committed.id, route_id)
    assert scheduled.history[-1].cause == "plan_commit"
    route = any_store.get_route(route_id)
    (stop,) = [s for s in route.stops if s.kind == "pickup"]
    assert stop.stop_id == f"return:{ret.id}@w1" == scheduled.pickup.stop_id
    assert stop.order_id is None
    for status in (OrderStatus.PICKING, OrderStatus.PACKED):
        any_store.change_status("o-3", status)
    any_store.dispatch(route_id)  # the pickup's order (delivered) is not asked to be packed
    any_store.report(route_id, _event(outcome, stop.stop_id, 40000))
    after = returns.get(ret.id)
    if outcome == "picked_up":
        assert after.status is ReturnStatus.PICKUP_SCHEDULED
        assert after.history[-1].event == "picked_up"
        assert after.pickup.picked_up_at == DAY_START + dt.timedelta(seconds=40000)
        assert returns.receive(ret.id).status is ReturnStatus.RECEIVED
    else:
        assert after.status is ReturnStatus.APPROVED  # the next plan collects it again
        assert [h.event for h in after.history[-2:]] == ["pickup_failed", "status"]
        assert after.pickup.route_id is None
