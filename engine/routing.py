"""Route a request end to end: matrices, pre-checks, solve, decode, evaluate."""

from __future__ import annotations

from collections.abc import Callable

from engine.compile import compile_request
from engine.decode import decode, empty_solution
from engine.evaluate import evaluate
from engine.locations import resolve
from engine.matrices import TravelMatrices
from engine.units import COST_SCALE
from models.routing import RoutingRequest, RoutingResult
from solvers.vrp_ortools import OrToolsParams, solve_ortools

#: Called with (seconds since the search began, best objective so far in cost units).
Progress = Callable[[float, float], None]


def solve_routes(
    request: RoutingRequest,
    matrices: TravelMatrices | None = None,
    on_progress: Progress | None = None,
) -> RoutingResult:
    """Plan routes for ``request``; the result always carries the evaluator's verdict.

    ``matrices`` may be given to reuse travel matrices already built for the request's
    locations (in the order of :class:`engine.locations.LocationTable`).
    """
    resolved = resolve(request, matrices)
    problem = compile_request(resolved)
    options = request.options
    if problem.data.n_stops == 0:
        solution = empty_solution(problem)
    else:
        params = OrToolsParams(
            time_limit_s=options.time_limit_s, solution_limit=options.solution_limit
        )
        relay = None
        if on_progress is not None:

            def relay(elapsed: float, objective: int) -> None:
                on_progress(elapsed, objective / COST_SCALE)

        solution = solve_ortools(problem.data, params, relay)
    result = decode(problem, solution, backend="ortools")
    result.evaluation = evaluate(request, result, resolved=resolved)
    return result
