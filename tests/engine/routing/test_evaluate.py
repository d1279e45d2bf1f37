"""The evaluator catches every kind of hand-broken plan, and accepts the untouched one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.routing.evaluate import evaluate
from models.routing import (
    RoutingRequest,
    RoutingResult,
    Step,
    StepType,
    Unassigned,
)
from models.status import UnassignedReason
from tests.helpers import line_request, solve_checked


@pytest.fixture(scope="module")
def planned() -> tuple[RoutingRequest, RoutingResult]:
    """A small day with windows, a skill, capacity, a break and an optional stop."""
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 4}, "service_s": 5, "time_windows": [[0, 500]]},
        {"id": "b", "x": 30, "demand": {"kg": 4}, "service_s": 5},
        {"id": "c", "x": -20, "demand": {"kg": 3}, "skills": ["lift"]},
        {"id": "d", "x": 2000, "optional": True, "drop_penalty": 1},
    ]
    vans = [
        {
            "id": "v1",
            "start_x": 0,
            "end_x": 0,
            "capacity": {"kg": 11},
            "skills": ["lift"],
            "max_stops": 3,
            "shift": [0, 3000],
            "breaks": [{"id": "rest", "time_windows": [[20, 40]], "duration_s": 10}],
        }
    ]
    request = line_request(stops, vans)
    result = solve_checked(request)
    assert [u.id for u in result.unassigned] == ["d"]
    return request, result


def _codes(request: RoutingRequest, result: RoutingResult) -> set[str]:
    return {v.code for v in evaluate(request, result).violations}


def _job(result: RoutingResult, stop_id: str) -> Step:
    return next(s for r in result.routes for s in r.steps if s.id == stop_id)


def test_untouched_plan_is_feasible(planned: tuple[RoutingRequest, RoutingResult]) -> None:
    request, result = planned
    verdict = evaluate(request, result)
    assert verdict.feasible
    assert verdict.cost == pytest.approx(result.summary.cost)


def _shift_times(result: RoutingResult, stop_id: str, delta: float) -> None:
    step = _job(result, stop_id)
    step.arrival_s -= delta
    step.service_start_s -= delta
    step.departure_s -= delta


BREAKERS: dict[str, tuple[str, Callable[[RoutingRequest, RoutingResult], RoutingRequest]]] = {}


def breaker(code: str) -> Callable:
    """Register a function that breaks a copy of the plan so that ``code`` must be reported."""

    def register(fn: Callable) -> Callable:
        BREAKERS[fn.__name__] = (code, fn)
        return fn

    return register


@breaker("capacity")
def shrink_capacity(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"capacity": {"kg": 10}}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker("time_window")
def close_window_early(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    stops = [
        s.model_copy(update={"time_windows": [type(s.time_windows[0])(start_s=0, end_s=1)]})
        if s.id == "a"
        else s
        for s in request.stops
    ]
    return request.model_copy(update={"stops": stops})


@breaker("travel_time")
def arrive_too_early(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _shift_times(result, "b", 15)
    return request


@breaker("served_twice")
def serve_twice(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps = result.routes[0].steps
    first_visit = next(s for s in steps if s.type.is_visit)
    steps.insert(-1, first_visit.model_copy())
    return request


@breaker("missing_stop")
def forget_a_stop(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.unassigned = [u for u in result.unassigned if u.id != "d"]
    return request


@breaker("cost_mismatch")
def misreport_cost(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.summary.cost += 1
    return request


@breaker("skills")
def drop_skill(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"skills": set()}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker("max_stops")
def lower_max_stops(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"max_stops": 1}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker("break_missing")
def skip_break(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.routes[0].steps = [s for s in result.routes[0].steps if s.type != StepType.BREAK]
    return request


@breaker("shift")
def shorten_shift(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    end = result.routes[0].summary.end_s
    vans = [
        v.model_copy(update={"shift": type(v.shift)(start_s=0, end_s=end - 5)})
        for v in request.vehicles
    ]
    return request.model_copy(update={"vehicles": vans})


@breaker("max_duration")
def cap_duration(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    limit = result.routes[0].summary.duration_s - 1
    vans = [v.model_copy(update={"max_duration_s": limit}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker("max_distance")
def cap_distance(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    limit = result.routes[0].summary.distance_m - 1
    vans = [v.model_copy(update={"max_distance_m": limit}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker("load_mismatch")
def misreport_load(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").load["kg"] += 1
    return request


@breaker("service_time")
def shorten_service(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    step = _job(result, "a")
    step.service_s = 1
    return request


@breaker("distance_mismatch")
def misreport_distance(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").distance_m += 3
    return request


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_evaluator_catches_a_broken_plan(
    planned: tuple[RoutingRequest, RoutingResult], name: str
) -> None:
    request, result = planned
    code, fn = BREAKERS[name]
    broken = result.model_copy(deep=True)
    changed_request = fn(request, broken)
    assert code in _codes(changed_request, broken)


@pytest.fixture(scope="module")
def shipped() -> tuple[RoutingRequest, RoutingResult]:
    """A van with a stop that collects goods and a shipment across town."""
    request = line_request(
        [{"id": "a", "x": 10, "demand": {"kg": 3}}, {"id": "b", "x": -10, "pickup": {"kg": 2}}],
        [{"id": "v", "start_x": 0, "end_x": 0, "capacity": {"kg": 6}}],
    )
    data = request.model_dump(by_alias=False)
    data["shipments"] = [
        {
            "pickup": {"id": "p", "location": [20.0, 0.0]},
            "delivery": {"id": "d", "location": [-20.0, 0.0]},
            "amount": {"kg": 4},
        }
    ]
    request = RoutingRequest.model_validate(data)
    return request, solve_checked(request)


def test_evaluator_catches_a_shipment_delivered_before_its_pickup(
    shipped: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = shipped
    broken = result.model_copy(deep=True)
    steps = broken.routes[0].steps
    i = next(k for k, s in enumerate(steps) if s.id == "p")
    j = next(k for k, s in enumerate(steps) if s.id == "d")
    steps[i], steps[j] = steps[j], steps[i]
    assert {"shipment_order", "negative_load"} <= _codes(request, broken)


def test_evaluator_catches_a_shipment_with_one_end_left_out(
    shipped: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = shipped
    broken = result.model_copy(deep=True)
    broken.routes[0].steps = [s for s in broken.routes[0].steps if s.id != "d"]
    broken.unassigned.append(
        Unassigned(id="d", reason=UnassignedReason.NO_ROOM_IN_PLAN, message="left out by hand")
    )
    assert "shipment_split" in _codes(request, broken)


def test_evaluator_catches_a_pickup_over_capacity(
    shipped: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = shipped
    vans = [v.model_copy(update={"capacity": {"kg": 4.5}}) for v in request.vehicles]
    assert "capacity" in _codes(request.model_copy(update={"vehicles": vans}), result)
