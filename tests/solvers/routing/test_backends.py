"""Each VRP backend on its own arrays, with plans checked by the evaluator after decoding."""

from __future__ import annotations

import numpy as np
import pytest
import pyvrp
from pyvrp.stop import MaxRuntime

from api.formats.sample_day import sample_day
from engine.routing.compile import compile_request
from engine.routing.decode import decode
from engine.routing.evaluate import evaluate
from engine.routing.locations import resolve
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest, StepType
from solvers.routing.hybrid import hybrid_supported, relax_breaks
from solvers.routing.pyvrp import (
    Plan,
    PyVrpParams,
    _Problem,
    _shift_end_never_binds,
    solve_pyvrp,
    unsupported,
)


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


def test_hybrid_plan_with_breaks_passes_the_evaluator(day: RoutingRequest) -> None:
    request = day.model_copy(
        update={"options": day.options.model_copy(update={"time_limit_s": 2.0, "workers": 1})}
    )
    result = solve_routes(request)
    assert result.stats.backend == "hybrid"
    verdict = evaluate(request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    for route in result.routes:
        assert sum(s.type == StepType.BREAK for s in route.steps) == 1  # lunch, inside


def test_open_shifts_never_bind_but_given_ones_may(day: RoutingRequest) -> None:
    open_shifts = day.model_copy(
        update={
            "vehicles": [v.model_copy(update={"shift": None, "breaks": []}) for v in day.vehicles]
        }
    )
    data = compile_request(resolve(open_shifts)).data
    assert all(_shift_end_never_binds(data, v) for v in range(data.n_vehicles))
    given = compile_request(resolve(day)).data
    assert not any(_shift_end_never_binds(given, v) for v in range(given.n_vehicles))
    solution = solve_pyvrp(data, PyVrpParams(time_limit_s=1.0))
    _check(open_shifts, solution, "pyvrp")


class _OfferOnce:
    """An exchange that offers one fixed plan and records what it is offered."""

    def __init__(self, cost: float, plan: Plan) -> None:
        self.offer = (cost, plan)
        self.published: list[float] = []

    def publish(self, cost: float, plan: Plan) -> None:
        self.published.append(cost)

    def best(self) -> tuple[float, Plan] | None:
        return self.offer


def test_a_stalled_search_adopts_a_better_shared_plan(day: RoutingRequest) -> None:
    request = day.model_copy(
        update={"vehicles": [v.model_copy(update={"breaks": []}) for v in day.vehicles]}
    )
    data = compile_request(resolve(request)).data
    problem = _Problem(data, all_optional=False)
    good = pyvrp.solve(problem.problem, stop=MaxRuntime(1.0), seed=3, collect_stats=False)
    assert good.is_feasible()
    plan = problem.plan(good.best)
    assert problem.plan(problem.solution(plan)) == plan
    # offered as far cheaper than it is: a stalled search takes it whatever its own best
    exchange = _OfferOnce(-1.0, plan)
    params = PyVrpParams(time_limit_s=1.0, seed=5, stall_s=0.01)
    adopted = solve_pyvrp(data, params, exchange=exchange)
    assert adopted.objective is not None
    assert adopted.objective <= round(good.cost()) * problem.scale
    assert exchange.published  # and it offered its own best along the way
    _check(request, adopted, "pyvrp")
