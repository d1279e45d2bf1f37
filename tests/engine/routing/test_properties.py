"""Property tests: on random small instances every plan passes the evaluator, and the
evaluator notices when such a plan is broken by hand."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.routing.evaluate import evaluate, evaluate_routes
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest

coordinate = st.integers(min_value=-300, max_value=300)


@st.composite
def small_requests(draw: st.DrawFn) -> RoutingRequest:
    """A random instance on a plane: windows, demands, skills, optional stops, breaks, limits."""
    n_stops = draw(st.integers(1, 8))
    stops: list[dict[str, Any]] = []
    for i in range(n_stops):
        stop: dict[str, Any] = {
            "id": f"s{i}",
            "location": [draw(coordinate), draw(coordinate)],
            "demand": {"kg": draw(st.integers(0, 6))},
            "service_s": draw(st.integers(0, 60)),
        }
        if draw(st.booleans()):
            start = draw(st.integers(0, 1500))
            stop["time_windows"] = [[start, start + draw(st.integers(0, 600))]]
            if draw(st.booleans()):
                later = start + draw(st.integers(700, 1200))
                stop["time_windows"].append([later, later + 300])
        if draw(st.integers(0, 4)) == 0:
            stop["skills"] = ["lift"]
        if draw(st.integers(0, 3)) == 0:
            stop.update(optional=True, drop_penalty=draw(st.integers(0, 2000)) / 10)
        stop["priority"] = draw(st.integers(0, 3))
        if draw(st.integers(0, 4)) == 0:
            stop["pickup"] = {"kg": draw(st.integers(1, 6))}
        stops.append(stop)
    shipments = []
    for k in range(draw(st.integers(0, 2))):
        shipment: dict[str, Any] = {
            "pickup": {"id": f"p{k}", "location": [draw(coordinate), draw(coordinate)]},
            "delivery": {"id": f"d{k}", "location": [draw(coordinate), draw(coordinate)]},
            "amount": {"kg": draw(st.integers(1, 8))},
        }
        if draw(st.booleans()):
            start = draw(st.integers(0, 1500))
            shipment["delivery"]["time_windows"] = [[start, start + draw(st.integers(100, 900))]]
        if draw(st.integers(0, 2)) == 0:
            shipment.update(optional=True, drop_penalty=draw(st.integers(0, 2000)) / 10)
        shipments.append(shipment)
    vehicles = []
    for v in range(draw(st.integers(1, 3))):
        vehicle: dict[str, Any] = {
            "id": f"v{v}",
            "start": [draw(coordinate), draw(coordinate)],
            "capacity": {"kg": draw(st.integers(4, 20))},
            "shift": [0, draw(st.integers(1500, 4000))],
            "cost_per_km": 1000,
            "fixed_cost": draw(st.integers(0, 200)),
            "speed_factor": draw(st.sampled_from([0.5, 1.0, 1.5])),
        }
        if draw(st.booleans()):
            vehicle["end"] = vehicle["start"]
        if draw(st.booleans()):
            vehicle["skills"] = ["lift"]
        if draw(st.integers(0, 2)) == 0:
            vehicle["max_stops"] = draw(st.integers(1, 4))
        if draw(st.integers(0, 2)) == 0:
            vehicle["max_duration_s"] = draw(st.integers(300, 3000))
        if draw(st.integers(0, 2)) == 0:
            vehicle["max_distance_m"] = draw(st.integers(300, 3000))
        if draw(st.integers(0, 2)) == 0:
            opens = draw(st.integers(0, 1000))
            vehicle["breaks"] = [
                {"id": "rest", "time_windows": [[opens, opens + 400]], "duration_s": 120}
            ]
        vehicles.append(vehicle)
    return RoutingRequest.model_validate(
        {
            "stops": stops,
            "shipments": shipments,
            "vehicles": vehicles,
            "matrix": {"provider": "euclidean", "speed_mps": 1.0},
            "options": {"time_limit_s": 0.2},
        }
    )


#: No shrinking: each example runs solvers, so minimising a failure would take minutes; the
#: failing example is reported as drawn.
COMMON = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)


@COMMON
@given(small_requests())
def test_every_plan_passes_the_evaluator(request: RoutingRequest) -> None:
    result = solve_routes(request)
    verdict = evaluate(request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    served = {s.id for r in result.routes for s in r.steps if s.type.is_visit}
    assert served | {u.id for u in result.unassigned} == {t.id for t in request.tasks()}


@COMMON
@given(small_requests(), st.integers(0, 10_000))
def test_evaluator_notices_a_stop_removed_from_a_plan(request: RoutingRequest, pick: int) -> None:
    result = solve_routes(request)
    routes = [r for r in result.routes if any(s.type.is_visit for s in r.steps)]
    if not routes:
        return
    route = routes[pick % len(routes)]
    jobs = [k for k, s in enumerate(route.steps) if s.type.is_visit]
    del route.steps[jobs[pick % len(jobs)]]
    assert not evaluate(request, result).feasible


@COMMON
@given(small_requests(), st.integers(0, 10_000))
def test_evaluator_notices_an_earlier_arrival(request: RoutingRequest, pick: int) -> None:
    result = solve_routes(request)
    steps = [s for r in result.routes for s in r.steps if s.type.is_visit]
    if not steps:
        return
    step = steps[pick % len(steps)]
    step.arrival_s -= 1
    step.service_start_s -= 1
    step.departure_s -= 1
    codes = {v.code for v in evaluate(request, result).violations}
    assert codes & {"travel_time", "waiting", "time_window", "shift"}, codes


@COMMON
@given(small_requests())
def test_stops_rejected_before_the_solve_fit_no_vehicle_alone(request: RoutingRequest) -> None:
    """A pre-check reason is honest: the evaluator finds each such stop alone infeasible."""
    result = solve_routes(request)
    prechecked = {
        u.id
        for u in result.unassigned
        if u.reason.value not in ("dropped_for_cost", "no_room_in_plan")
    }
    for stop_id in prechecked:
        for vehicle in request.vehicles:
            _, verdict = evaluate_routes(request, {vehicle.id: [stop_id]})
            assert not verdict.feasible, (stop_id, vehicle.id)


@COMMON
@given(small_requests())
def test_bare_routes_of_a_plan_evaluate_to_the_same_cost(request: RoutingRequest) -> None:
    result = solve_routes(request)
    sequences = {r.vehicle_id: [s.id for s in r.steps if s.type.is_visit] for r in result.routes}
    plan, verdict = evaluate_routes(request, sequences)
    assert plan.summary.distance_m == pytest.approx(result.summary.distance_m)
    if not any(v.breaks for v in request.vehicles):
        assert verdict.feasible, (
            [v.message for v in verdict.violations],
            result.stats,
            result.evaluation,
        )
        assert verdict.cost == pytest.approx(result.summary.cost)
