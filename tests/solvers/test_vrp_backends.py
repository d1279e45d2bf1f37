"""Each VRP backend on its own arrays, with plans checked by the evaluator after decoding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.compile import compile_request
from engine.decode import decode
from engine.evaluate import evaluate
from engine.locations import resolve
from engine.sample_day import sample_day
from models.routing import RoutingRequest, StepType
from solvers.vrp_hybrid import hybrid_supported, relax_breaks, solve_hybrid
from solvers.vrp_ortools import OrToolsParams, solve_ortools
from solvers.vrp_pyvrp import PyVrpParams, solve_pyvrp, unsupported


@pytest.fixture(scope="module")
def day() -> RoutingRequest:
    """40 stops of the sample day: windows, two sizes of van, a skill, lunch breaks."""
    request = sample_day(n_stops=40)
    return request.model_copy(update={"vehicles": request.vehicles[:6]})


def _check(request: RoutingRequest, solution: object, backend: str) -> None:
    problem = compile_request(resolve(request))
    result = decode(problem, solution, backend)  # type: ignore[arg-type]
    verdict = evaluate(request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert result.summary.stops_served >= 35


def test_pyvrp_reports_breaks_as_unsupported_and_honours_skills_and_max_stops(
    day: RoutingRequest,
) -> None:
    data = compile_request(resolve(day)).data
    assert unsupported(data) == ["breaks"]
    relaxed = relax_breaks(data)
    assert unsupported(relaxed) == []
    assert hybrid_supported(data)
    assert np.all(relaxed.shift[:, 1] == data.shift[:, 1] - 18000)  # 30 min of lunch, in ticks


def test_pyvrp_backend_with_skills_and_max_stops(day: RoutingRequest) -> None:
    no_breaks = day.model_copy(
        update={
            "vehicles": [v.model_copy(update={"breaks": [], "max_stops": 9}) for v in day.vehicles]
        }
    )
    data = compile_request(resolve(no_breaks)).data
    solution = solve_pyvrp(data, PyVrpParams(time_limit_s=1.5))
    assert solution.found
    _check(no_breaks, solution, "pyvrp")
    problem = compile_request(resolve(no_breaks))
    result = decode(problem, solution, "pyvrp")
    assert all(r.summary.stops <= 9 for r in result.routes)
    cold = {s.id for s in no_breaks.stops if s.skills}
    skilled = {v.id for v in no_breaks.vehicles if v.skills}
    for route in result.routes:
        served = {s.id for s in route.steps if s.type == StepType.STOP}
        if served & cold:
            assert route.vehicle_id in skilled


def test_hybrid_plans_with_breaks_and_beats_no_plan(day: RoutingRequest) -> None:
    data = compile_request(resolve(day)).data
    solution = solve_hybrid(data, time_limit_s=2.0)
    assert solution.found
    assert solution.status.startswith("hybrid")
    _check(day, solution, "hybrid")


def test_ortools_accepts_a_feasible_start_and_rejects_an_impossible_one(
    day: RoutingRequest,
) -> None:
    from solvers.vrp_ortools import OrToolsModel

    data = compile_request(resolve(day)).data
    first = solve_pyvrp(relax_breaks(data), PyVrpParams(time_limit_s=1.0))
    model = OrToolsModel(dataclasses.replace(data, breaks=[]))
    routes: list[list[int]] = [[] for _ in range(data.n_vehicles)]
    for route in first.routes:
        routes[route.vehicle] = [int(n) for n in route.stops]
    assert model.initial_assignment(routes) is not None
    everything_on_one = [list(range(data.n_stops))] + [[] for _ in range(data.n_vehicles - 1)]
    assert model.initial_assignment(everything_on_one) is None
    solution = solve_ortools(
        dataclasses.replace(data, breaks=[]),
        OrToolsParams(time_limit_s=1.0),
        model=model,
        initial=model.initial_assignment(routes),
    )
    assert solution.found
