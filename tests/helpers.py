"""Small named instances and a solve that is always checked by the independent evaluator."""

from __future__ import annotations

from typing import Any

from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest, RoutingResult

#: The backend that ``line_request`` asks for; tests switch it to run under each backend.
BACKEND = {"name": "auto"}


def line_request(
    stops: list[dict[str, Any]], vehicles: list[dict[str, Any]], **options: Any
) -> RoutingRequest:
    """Stops and depots on a straight line (x in metres), driven at 1 m/s: 1 m takes 1 s.

    Stops and vehicles give ``x`` (and ``start_x`` / ``end_x``); each vehicle costs 1 per
    metre unless it says otherwise, so a plan's cost is its length in metres.
    """
    built_stops = []
    for stop in stops:
        item = {k: v for k, v in stop.items() if k != "x"}
        item["location"] = [float(stop["x"]), 0.0]
        built_stops.append(item)
    built_vehicles = []
    for vehicle in vehicles:
        item = {"cost_per_km": 1000.0}
        for key, value in vehicle.items():
            if key in ("start_x", "end_x"):
                item[key.removesuffix("_x")] = [float(value), 0.0]
            else:
                item[key] = value
        built_vehicles.append(item)
    return RoutingRequest.model_validate(
        {
            "stops": built_stops,
            "vehicles": built_vehicles,
            "matrix": {"provider": "euclidean", "speed_mps": 1.0},
            "options": {"time_limit_s": 0.5, "backend": BACKEND["name"], **options},
        }
    )


def solve_checked(request: RoutingRequest) -> RoutingResult:
    """Solve, then check the plan with a fresh run of the evaluator (never the solver's word)."""
    result = solve_routes(request)
    verdict = evaluate(request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert result.evaluation is not None and result.evaluation.feasible
    return result


def served_by(result: RoutingResult) -> dict[Any, list[Any]]:
    """Stop ids in visiting order, per vehicle id."""
    return {
        route.vehicle_id: [step.id for step in route.steps if step.type.is_visit]
        for route in result.routes
    }


def reasons(result: RoutingResult) -> dict[Any, str]:
    """The reason code of each unassigned stop."""
    return {item.id: item.reason.value for item in result.unassigned}
