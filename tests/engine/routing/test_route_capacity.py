"""Each route summary reports its vehicle's capacity, and the evaluator holds it to that."""

from __future__ import annotations

import pytest

from engine.routing.evaluate import evaluate, evaluate_routes
from models.routing import RouteSummary, RoutingRequest, RoutingResult
from models.status import ViolationCode
from tests.helpers import line_request, solve_checked

#: What each van can carry, written here (not read back from the code under test).
CAPACITY = {"v1": {"kg": 11.0, "crates": 3.0}, "v2": {"kg": 7.0}}


def _request(backend: str) -> RoutingRequest:
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 4, "crates": 1}},
        {"id": "b", "x": 30, "demand": {"kg": 4}},
        {"id": "c", "x": -20, "demand": {"kg": 3}},
        {"id": "d", "x": -40, "demand": {"kg": 6}},
    ]
    vans = [{"id": vid, "start_x": 0, "end_x": 0, "capacity": cap} for vid, cap in CAPACITY.items()]
    return line_request(stops, vans, backend=backend)


@pytest.fixture(scope="module", params=["ortools", "pyvrp", "hybrid"])
def planned(request: pytest.FixtureRequest) -> tuple[RoutingRequest, RoutingResult]:
    """The same small day solved by each backend (each decodes its own way)."""
    routing = _request(request.param)
    return routing, solve_checked(routing)


def _codes(request: RoutingRequest, result: RoutingResult) -> set[ViolationCode]:
    return {v.code for v in evaluate(request, result).violations}


def test_solved_routes_report_their_vehicles_capacity(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    _, result = planned
    assert result.routes
    for route in result.routes:
        assert route.summary.capacity == CAPACITY[str(route.vehicle_id)]


def test_routes_scheduled_by_the_evaluator_report_capacity() -> None:
    request = _request("auto")
    result, verdict = evaluate_routes(request, {"v1": ["a", "b"], "v2": ["c"]})
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert {r.vehicle_id: r.summary.capacity for r in result.routes} == {
        "v1": CAPACITY["v1"],
        "v2": CAPACITY["v2"],
    }


@pytest.mark.parametrize(
    "capacity",
    [{"kg": 12.0, "crates": 3.0}, {"kg": 11.0}, {"kg": 11.0, "crates": 3.0, "litre": 5.0}],
    ids=["wrong-value", "missing-dimension", "extra-dimension"],
)
def test_a_wrong_capacity_in_a_summary_is_reported(
    planned: tuple[RoutingRequest, RoutingResult], capacity: dict[str, float]
) -> None:
    request, result = planned
    broken = result.model_copy(deep=True)
    route = next(r for r in broken.routes if r.vehicle_id == "v1")
    route.summary.capacity = capacity
    verdict = evaluate(request, broken)
    assert ViolationCode.SUMMARY_MISMATCH in _codes(request, broken)
    assert any("capacity[" in v.message and v.vehicle_id == "v1" for v in verdict.violations)


def test_a_summary_stored_before_capacity_was_reported_still_parses() -> None:
    old = {
        "stops": 1,
        "distance_m": 20.0,
        "duration_s": 20.0,
        "travel_s": 20.0,
        "service_s": 0.0,
        "waiting_s": 0.0,
        "break_s": 0.0,
        "start_s": 0.0,
        "end_s": 20.0,
        "delivered": {"kg": 4.0},
        "cost": 20.0,
    }
    assert RouteSummary.model_validate(old).capacity == {}


def test_a_summary_without_capacity_is_one_not_reported(
    planned: tuple[RoutingRequest, RoutingResult],
) -> None:
    """Results made elsewhere (a route check's body) or stored before the field existed
    report none: that is not a mismatch; solved plans always report it (above)."""
    request, result = planned
    quiet = result.model_copy(deep=True)
    for route in quiet.routes:
        route.summary.capacity = {}
    assert ViolationCode.SUMMARY_MISMATCH not in _codes(request, quiet)
