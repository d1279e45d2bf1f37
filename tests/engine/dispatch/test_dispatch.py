"""Dispatch on SQLite and PostgreSQL: routes stored at commit, dispatch, stop events (their
checks, stale ones, the orders they move, the events they emit), live ETAs worked out here
from the route's stored travel and service times, positions, and failed deliveries."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from engine.dispatch.events import FailurePolicy
from engine.dispatch.store import DispatchStore
from engine.events.store import EventStore
from models.dispatch import PositionIn, RouteEventIn, RouteRecord
from models.errors import ConflictError, InvalidInputError, NotFoundError
from models.status import OrderStatus
from tests.engine.dispatch.conftest import DAY_START, PLACES, at, packed_day, plan_with_van

ORDERS = ["o-1", "o-2", "o-3"]


def _event(kind: str, stop_id: str, seconds: float, **extra: object) -> RouteEventIn:
    return RouteEventIn.model_validate(
        {"type": kind, "stop_id": stop_id, "at": at(seconds).isoformat(), **extra}
    )


def _events(store: DispatchStore) -> list[tuple[str, dict]]:
    events = EventStore(store.url)
    try:
        return [(e.type.value, e.data) for e in events.events(limit=1000).events]
    finally:
        events.close()


def _by_order(route: RouteRecord) -> dict[str, object]:
    return {s.order_id: s for s in route.stops if s.order_id is not None}


def test_commit_stores_each_van_route_from_the_plan(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    route = store.get_route(day.route_id)
    (planned,) = day.plan.sites[0].routing.routes
    assert route.status == "committed" and route.vehicle_id == "van-1"
    assert route.day_start == DAY_START
    steps = planned.steps
    assert [s.stop_id for s in route.stops] == [str(x.id or x.type.value) for x in steps[1:]]
    for k, stop in enumerate(route.stops, start=1):
        assert stop.position == k
        assert stop.travel_s == pytest.approx(steps[k].arrival_s - steps[k - 1].departure_s)
        assert stop.planned_start_s == steps[k].service_start_s
        assert stop.eta_start_s == stop.planned_start_s
        assert stop.status == "pending"
    assert {s.order_id for s in route.stops} == {*ORDERS, None}
    for stop in route.stops[:-1]:  # 09:00-12:00 of the day
        assert (stop.window_start_s, stop.window_end_s) == (9 * 3600, 12 * 3600)
    assert route.stops[0].eta_start_time == DAY_START + dt.timedelta(
        seconds=route.stops[0].eta_start_s
    )


def test_dispatch_needs_every_order_packed(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    store.change_status("o-2", OrderStatus.CANCELLED)
    with pytest.raises(ConflictError) as caught:
        store.dispatch(day.route_id)
    assert "o-2" in str(caught.value)
    assert store.get_order("o-1").status is OrderStatus.PACKED


def test_dispatch_ships_the_orders_once(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    first = store.get_route(day.route_id).stops[0]
    with pytest.raises(ConflictError):  # not out yet
        store.report(day.route_id, _event("arrived", first.stop_id, 33000))
    route = store.dispatch(day.route_id)
    assert route.status == "dispatched" and route.dispatched_at is not None
    for order_id in ORDERS:
        order = store.get_order(order_id)
        assert order.status is OrderStatus.SHIPPED and order.lines[0].shipped == 1
    with pytest.raises(ConflictError):
        store.dispatch(day.route_id)
    dispatched = [d for kind, d in _events(store) if kind == "route.dispatched"]
    assert dispatched == [
        {
            "route_id": day.route_id,
            "plan_id": day.plan.id,
            "site_id": "w1",
            "vehicle_id": "van-1",
            "orders": ORDERS,
        }
    ]
    with pytest.raises(NotFoundError):
        store.get_route("nope")


def test_events_move_orders_and_etas(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    store.dispatch(day.route_id)
    stops = store.get_route(day.route_id).stops
    s1, s2, s3, end = stops
    with pytest.raises(InvalidInputError) as unknown:
        store.report(day.route_id, _event("arrived", "o-9@w1", 33000))
    assert unknown.value.details[0]["field"] == "stop_id"
    # arrived 30 min late at the first stop; delivered after its service
    late = s1.planned_arrival_s + 1800
    route = store.report(day.route_id, _event("arrived", s1.stop_id, late)).route
    assert route.stops[0].status == "arrived"
    # by hand: the first stop starts at its arrival (its window is open), leaves after its
    # service; each later stop: previous departure + its travel, no earlier than 09:00
    depart = late + s1.service_s
    for stop in (s2, s3):
        arrival = depart + stop.travel_s
        start = max(arrival, stop.window_start_s)
        got = _by_order(route)[stop.order_id]
        assert (got.eta_arrival_s, got.eta_start_s) == pytest.approx((arrival, start))
        depart = start + stop.service_s
    assert route.stops[3].eta_arrival_s == pytest.approx(depart + end.travel_s)
    done = store.report(
        day.route_id,
        _event("delivered", s1.stop_id, late + 400, proof={"signature_name": "A. Costa"}),
    )
    assert done.applied and done.route.stops[0].status == "delivered"
    assert done.route.stops[0].proof.signature_name == "A. Costa"
    assert store.get_order(s1.order_id).status is OrderStatus.DELIVERED
    # the van left at late + 400: the next stop at late + 400 + its travel
    got = done.route.stops[1]
    assert got.eta_arrival_s == pytest.approx(late + 400 + s2.travel_s)
    with pytest.raises(ConflictError):
        store.report(day.route_id, _event("delivered", s1.stop_id, late + 500))
    # an older event is kept, but the newer state stands
    stale = store.report(day.route_id, _event("arrived", s1.stop_id, late - 100))
    assert not stale.applied and stale.route.stops[0].status == "delivered"
    kinds = [kind for kind, _ in _events(store)]
    assert kinds.count("stop.arrived") == 1 and kinds.count("stop.delivered") == 1
    changed = [d for kind, d in _events(store) if kind == "eta.changed"]
    assert {d["order_id"] for d in changed} >= {s2.order_id, s3.order_id}
    first = next(d for d in changed if d["stop_id"] == s2.stop_id)
    assert first["old_eta_s"] == s2.eta_start_s


def test_only_moves_beyond_the_threshold_emit_eta_changed(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS, window=False)
    store.dispatch(day.route_id)
    s1, s2, *_ = store.get_route(day.route_id).stops
    store.report(day.route_id, _event("arrived", s1.stop_id, s1.planned_arrival_s + 60))
    assert not [kind for kind, _ in _events(store) if kind == "eta.changed"]
    before = store.get_route(day.route_id).stops[1].eta_start_s
    left = s1.planned_arrival_s + 1000
    store.report(day.route_id, _event("delivered", s1.stop_id, left), threshold_s=600)
    expected = left + s2.travel_s  # no window: it starts when it arrives
    assert abs(expected - before) > 600
    changed = [d for kind, d in _events(store) if kind == "eta.changed"]
    mine = next(d for d in changed if d["stop_id"] == s2.stop_id)
    assert mine["old_eta_s"] == before and mine["new_eta_s"] == pytest.approx(expected)
    assert mine["order_id"] == s2.order_id and mine["route_id"] == day.route_id


def test_a_position_moves_the_etas(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    store.dispatch(day.route_id)
    s1 = store.get_route(day.route_id).stops[0]
    t = s1.planned_arrival_s + 3600
    here = (4.905, 52.365)
    report = PositionIn.model_validate({"at": at(t).isoformat(), "position": list(here)})
    moved = store.report_position("van-1", report).routes[0]
    assert moved.position == here and moved.position_at == at(t)
    # by hand: great-circle metres to the first stop over the plan's average speed
    summary = day.plan.sites[0].routing.routes[0].summary
    speed = summary.distance_m / summary.travel_s
    lon1, lat1, lon2, lat2 = map(math.radians, (*here, *PLACES[s1.order_id]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    metres = 2 * 6_371_008.8 * math.asin(math.sqrt(h))
    assert moved.stops[0].eta_arrival_s == pytest.approx(t + metres / speed)
    with pytest.raises(NotFoundError):
        store.report_position("van-9", report)


def test_failed_delivery_is_planned_again_then_returned(store: DispatchStore) -> None:
    day = packed_day(store, ["o-1"])
    store.dispatch(day.route_id)
    stop = store.get_route(day.route_id).stops[0]
    policy = FailurePolicy("requeue", max_attempts=2)
    failed = store.report(
        day.route_id, _event("failed", stop.stop_id, 36000, reason="nobody home"), policy=policy
    )
    assert failed.route.stops[0].status == "failed"
    assert failed.route.stops[0].reason == "nobody home"
    order = store.get_order("o-1")
    assert order.status is OrderStatus.READY and order.lines[0].shipped == 0
    moves = [t.to_status for t in store.history("o-1").transitions]
    assert moves[-3:] == [OrderStatus.SHIPPED, OrderStatus.DELIVERY_FAILED, OrderStatus.READY]
    (data,) = [d for kind, d in _events(store) if kind == "stop.failed"]
    assert data["reason"] == "nobody home" and data["attempts"] == 1
    with pytest.raises(ConflictError):
        store.report(day.route_id, _event("failed", stop.stop_id, 36100), policy=policy)
    # the next plan takes it again; the second failure is the last
    draft = plan_with_van(store)
    assert [str(s.order_id) for s in draft.shipments if s.mode == "van"] == ["o-1"]
    store.commit_plan(draft.id)
    route_id = store.get_plan(draft.id).routes[0].route_id
    store.change_status("o-1", OrderStatus.PICKING)
    store.change_status("o-1", OrderStatus.PACKED)
    store.dispatch(route_id)
    store.report(route_id, _event("failed", stop.stop_id, 50000), policy=policy)
    assert store.get_order("o-1").status is OrderStatus.RETURNED
    assert store.ledger_mismatches() == []


def test_return_policy_returns_at_once(store: DispatchStore) -> None:
    day = packed_day(store, ["o-1"])
    store.dispatch(day.route_id)
    stop = store.get_route(day.route_id).stops[0]
    store.report(
        day.route_id, _event("failed", stop.stop_id, 36000), policy=FailurePolicy("return")
    )
    assert store.get_order("o-1").status is OrderStatus.RETURNED
    assert store.get_route(day.route_id).status == "completed"
