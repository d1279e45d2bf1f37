"""The evaluator catches every kind of hand-broken plan, and accepts the untouched one."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable
from types import ModuleType

import pytest

from engine.routing.evaluate import evaluate, evaluate_routes
from models.routing import (
    RoutingRequest,
    RoutingResult,
    Step,
    StepType,
    Unassigned,
)
from models.status import UnassignedReason, ViolationCode
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


def _codes(request: RoutingRequest, result: RoutingResult) -> set[ViolationCode]:
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


Breaker = Callable[[RoutingRequest, RoutingResult], RoutingRequest]
BREAKERS: dict[str, tuple[ViolationCode, Breaker]] = {}


def breaker(code: ViolationCode) -> Callable[[Breaker], Breaker]:
    """Register a function that breaks a copy of the plan so that ``code`` must be reported."""

    def register(fn: Breaker) -> Breaker:
        BREAKERS[fn.__name__] = (code, fn)
        return fn

    return register


@breaker(ViolationCode.CAPACITY)
def shrink_capacity(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"capacity": {"kg": 10}}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.TIME_WINDOW)
def close_window_early(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    stops = [
        s.model_copy(update={"time_windows": [type(s.time_windows[0])(start_s=0, end_s=1)]})
        if s.id == "a"
        else s
        for s in request.stops
    ]
    return request.model_copy(update={"stops": stops})


@breaker(ViolationCode.TRAVEL_TIME)
def arrive_too_early(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _shift_times(result, "b", 15)
    return request


@breaker(ViolationCode.SERVED_TWICE)
def serve_twice(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps = result.routes[0].steps
    first_visit = next(s for s in steps if s.type.is_visit)
    steps.insert(-1, first_visit.model_copy())
    return request


@breaker(ViolationCode.MISSING_STOP)
def forget_a_stop(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.unassigned = [u for u in result.unassigned if u.id != "d"]
    return request


@breaker(ViolationCode.COST_MISMATCH)
def misreport_cost(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.summary.cost += 1
    return request


@breaker(ViolationCode.SKILLS)
def drop_skill(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"skills": set()}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.MAX_STOPS)
def lower_max_stops(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    vans = [v.model_copy(update={"max_stops": 1}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.BREAK_MISSING)
def skip_break(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.routes[0].steps = [s for s in result.routes[0].steps if s.type != StepType.BREAK]
    return request


@breaker(ViolationCode.SHIFT)
def shorten_shift(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    end = result.routes[0].summary.end_s
    vans = [
        v.model_copy(update={"shift": type(v.shift)(start_s=0, end_s=end - 5)})
        for v in request.vehicles
    ]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.MAX_DURATION)
def cap_duration(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    limit = result.routes[0].summary.duration_s - 1
    vans = [v.model_copy(update={"max_duration_s": limit}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.MAX_DISTANCE)
def cap_distance(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    limit = result.routes[0].summary.distance_m - 1
    vans = [v.model_copy(update={"max_distance_m": limit}) for v in request.vehicles]
    return request.model_copy(update={"vehicles": vans})


@breaker(ViolationCode.LOAD_MISMATCH)
def misreport_load(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").load["kg"] += 1
    return request


@breaker(ViolationCode.SERVICE_TIME)
def shorten_service(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    step = _job(result, "a")
    step.service_s = 1
    return request


@breaker(ViolationCode.DISTANCE_MISMATCH)
def misreport_distance(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").distance_m += 3
    return request


def _break_step(result: RoutingResult) -> tuple[list[Step], int]:
    steps = result.routes[0].steps
    return steps, next(k for k, s in enumerate(steps) if s.type == StepType.BREAK)


@breaker(ViolationCode.UNKNOWN_VEHICLE)
def hand_route_to_a_stranger(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.routes[0].vehicle_id = "ghost"
    return request


@breaker(ViolationCode.VEHICLE_TWICE)
def drive_one_van_twice(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.routes.append(result.routes[0].model_copy(deep=True))
    return request


@breaker(ViolationCode.ROUTE_SHAPE)
def never_come_back(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.routes[0].steps.pop()
    return request


@breaker(ViolationCode.UNKNOWN_STOP)
def leave_out_a_ghost(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    ghost = Unassigned(id="ghost", reason=UnassignedReason.NO_ROOM_IN_PLAN, message="by hand")
    result.unassigned.append(ghost)
    return request


@breaker(ViolationCode.SERVED_AND_UNASSIGNED)
def serve_and_leave_out(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    item = Unassigned(id="a", reason=UnassignedReason.NO_ROOM_IN_PLAN, message="by hand")
    result.unassigned.append(item)
    return request


@breaker(ViolationCode.UNASSIGNED_TWICE)
def leave_out_twice(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.unassigned.append(result.unassigned[0].model_copy())
    return request


@breaker(ViolationCode.STEP_TYPE)
def call_a_job_a_pickup(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").type = StepType.PICKUP
    return request


@breaker(ViolationCode.SERVICE_BEFORE_ARRIVAL)
def serve_before_arriving(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    step = _job(result, "a")
    step.service_start_s = step.arrival_s - 5
    return request


@breaker(ViolationCode.DEPARTURE)
def linger_after_service(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").departure_s += 2
    return request


@breaker(ViolationCode.WAITING)
def misreport_waiting(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    _job(result, "a").waiting_s += 1
    return request


@breaker(ViolationCode.BREAK_UNKNOWN)
def rename_break(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps, k = _break_step(result)
    steps[k].id = "nap"
    return request


@breaker(ViolationCode.BREAK_OVERLAP)
def start_break_too_early(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps, k = _break_step(result)
    steps[k].arrival_s = steps[k - 1].departure_s - 5
    return request


@breaker(ViolationCode.BREAK_WINDOW)
def take_break_late(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps, k = _break_step(result)
    steps[k].arrival_s += 100
    steps[k].service_start_s += 100
    steps[k].departure_s += 100
    return request


@breaker(ViolationCode.BREAK_DURATION)
def lengthen_break(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps, k = _break_step(result)
    steps[k].departure_s += 3
    return request


@breaker(ViolationCode.BREAK_REPEATED)
def take_break_twice(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    steps, k = _break_step(result)
    steps.insert(k + 1, steps[k].model_copy())
    return request


@breaker(ViolationCode.TIME_UNACCOUNTED)
def come_back_late(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    end = result.routes[0].steps[-1]
    end.arrival_s += 50
    end.service_start_s += 50
    end.departure_s += 50
    return request


@breaker(ViolationCode.SUMMARY_MISMATCH)
def misreport_route_count(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.summary.routes += 1
    return request


@breaker(ViolationCode.FALSE_REASON)
def misstate_a_reason(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    result.unassigned[0].reason = UnassignedReason.NO_VEHICLE_WITH_SKILLS  # any van may serve d
    return request


@breaker(ViolationCode.INSERTABLE_UNASSIGNED)
def leave_out_a_stop_that_fits(request: RoutingRequest, result: RoutingResult) -> RoutingRequest:
    stops = [
        s.model_copy(update={"optional": False, "drop_penalty": None, "location": (40.0, 0.0)})
        if s.id == "d"
        else s
        for s in request.stops
    ]
    vans = [v.model_copy(update={"max_stops": 4}) for v in request.vehicles]
    return request.model_copy(update={"stops": stops, "vehicles": vans})


@pytest.mark.parametrize(
    "field",
    ["service_s", "waiting_s", "break_s", "start_s", "end_s", "travel_s", "duration_s"],
)
def test_every_route_summary_figure_is_recomputed(
    planned: tuple[RoutingRequest, RoutingResult], field: str
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    summary = broken.routes[0].summary
    setattr(summary, field, getattr(summary, field) + 1)
    assert ViolationCode.SUMMARY_MISMATCH in _codes(request, broken)


def test_what_a_route_delivered_is_recomputed(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    broken.routes[0].summary.delivered["kg"] = broken.routes[0].summary.delivered["kg"] - 1
    assert ViolationCode.SUMMARY_MISMATCH in _codes(request, broken)


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("duration_s", ViolationCode.SUMMARY_MISMATCH),
        ("travel_s", ViolationCode.SUMMARY_MISMATCH),
        ("service_s", ViolationCode.SUMMARY_MISMATCH),
        ("waiting_s", ViolationCode.SUMMARY_MISMATCH),
        ("travel_cost", ViolationCode.COST_MISMATCH),
        ("fixed_cost", ViolationCode.COST_MISMATCH),
        ("drop_penalty", ViolationCode.COST_MISMATCH),
    ],
)
def test_every_plan_total_is_recomputed(
    planned: tuple[RoutingRequest, RoutingResult], field: str, code: ViolationCode
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    setattr(broken.summary, field, getattr(broken.summary, field) + 1)
    assert code in _codes(request, broken)


def test_a_step_duration_since_the_start_is_recomputed(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    _job(broken, "b").duration_s += 1
    assert ViolationCode.SUMMARY_MISMATCH in _codes(request, broken)


EVALUATOR_MODULES = [
    "engine.routing.evaluate",
    "engine.routing.evaluate_links",
    "engine.routing.evaluate_reasons",
    "engine.routing.evaluate_schedule",
    "engine.routing.evaluate_plan",
    "engine.routing.evaluate_walk",
    "engine.routing.evaluate_reloads",
]


def test_the_evaluator_reads_nothing_the_solve_computed() -> None:
    """No evaluator module imports the solve path (compile, decode, schedule, locations)."""
    forbidden = {
        "engine.routing.compile",
        "engine.routing.decode",
        "engine.routing.schedule",
        "engine.routing.locations",
        "engine.routing.solve",
        "engine.routing.repair",
        "solvers",
    }
    for name in EVALUATOR_MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        bad = {m for m in imported if any(m == f or m.startswith(f + ".") for f in forbidden)}
        assert not bad, (name, bad)


def test_evaluate_routes_with_no_routes_is_infeasible(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, _ = planned
    plan, verdict = evaluate_routes(request, {})
    assert plan.summary.cost == pytest.approx(1)  # d's penalty: nothing else is counted
    assert not verdict.feasible
    flagged = {v.stop_id for v in verdict.violations if v.code == "insertable_unassigned"}
    assert flagged == {"a", "b", "c"}


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
    assert {ViolationCode.SHIPMENT_ORDER, ViolationCode.NEGATIVE_LOAD} <= _codes(request, broken)


def test_evaluator_catches_a_shipment_with_one_end_left_out(
    shipped: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = shipped
    broken = result.model_copy(deep=True)
    broken.routes[0].steps = [s for s in broken.routes[0].steps if s.id != "d"]
    broken.unassigned.append(
        Unassigned(id="d", reason=UnassignedReason.NO_ROOM_IN_PLAN, message="left out by hand")
    )
    assert ViolationCode.SHIPMENT_SPLIT in _codes(request, broken)


def test_evaluator_catches_a_pickup_over_capacity(
    shipped: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = shipped
    vans = [v.model_copy(update={"capacity": {"kg": 4.5}}) for v in request.vehicles]
    assert ViolationCode.CAPACITY in _codes(request.model_copy(update={"vehicles": vans}), result)


#: Codes that the shipment tests above provoke (the day of ``planned`` has no shipment).
SHIPMENT_CODES = {
    ViolationCode.SHIPMENT_ORDER,
    ViolationCode.NEGATIVE_LOAD,
    ViolationCode.SHIPMENT_SPLIT,
}


#: Codes that tests/engine/routing/test_links.py provokes (locks and stops tied to vehicles).
LINK_CODES = {ViolationCode.LOCKED_PREFIX, ViolationCode.VEHICLE_NOT_ALLOWED}

#: Codes that tests/engine/routing/test_reloads.py provokes (multi-trip).
RELOAD_CODES = {ViolationCode.RELOAD_PLACE, ViolationCode.RELOAD_TIME, ViolationCode.MAX_RELOADS}


def emitted_codes(module: ModuleType) -> set[ViolationCode]:
    """The violation codes an evaluator's source can report (each must be a member)."""
    names = set(re.findall(r"ViolationCode\.([A-Z_]+)", inspect.getsource(module)))
    return {ViolationCode[name] for name in names}


def test_every_code_the_evaluator_emits_is_provoked_by_a_broken_plan() -> None:
    provoked = {code for code, _ in BREAKERS.values()} | SHIPMENT_CODES | LINK_CODES | RELOAD_CODES
    emitted = set().union(*(emitted_codes(importlib.import_module(m)) for m in EVALUATOR_MODULES))
    assert emitted == provoked


def test_violations_serialise_with_the_same_shape(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    broken.summary.cost += 1
    data = evaluate(request, broken).model_dump(mode="json")
    assert list(data) == ["feasible", "violations", "cost", "distance_m", "duration_s"]
    assert data["violations"][0]["code"] == "cost_mismatch"
    assert {"code", "message", "vehicle_id", "stop_id"} <= set(data["violations"][0])
