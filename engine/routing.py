"""Route a request end to end: matrices, pre-checks, solve, decode, evaluate."""

from __future__ import annotations

from collections.abc import Callable

from engine.compile import CompiledProblem, compile_request
from engine.decode import decode, empty_solution
from engine.errors import InvalidRequestError, SolverError
from engine.evaluate import evaluate
from engine.locations import resolve
from engine.matrices import TravelMatrices
from engine.parallel import solve_portfolio
from engine.units import COST_SCALE
from models.routing import RoutingRequest, RoutingResult
from solvers.vrp_hybrid import hybrid_supported
from solvers.vrp_pyvrp import unsupported

#: Called with (seconds since the search began, best objective so far in cost units).
Progress = Callable[[float, float], None]


def choose_backend(problem: CompiledProblem) -> str:
    """PyVRP when it supports every feature of the problem (it searches best); with breaks,
    the hybrid (PyVRP plans without them, OR-Tools fits them in); else OR-Tools.

    A forced backend that cannot honour the problem is invalid input, named by feature.
    """
    wanted = problem.request.options.backend
    missing = unsupported(problem.data)
    if wanted == "pyvrp" and missing:
        raise InvalidRequestError(
            f"options.backend = 'pyvrp' cannot honour {', '.join(missing)}; "
            "use 'auto', 'hybrid' or 'ortools'"
        )
    if wanted == "hybrid" and not hybrid_supported(problem.data):
        raise InvalidRequestError(
            f"options.backend = 'hybrid' cannot honour {', '.join(missing)}; "
            "use 'auto' or 'ortools'"
        )
    if wanted == "auto":
        if not missing:
            return "pyvrp"
        return "hybrid" if hybrid_supported(problem.data) else "ortools"
    return wanted


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
    backend = choose_backend(problem)
    if problem.data.n_stops == 0:
        solution = empty_solution(problem)
    else:
        relay = None
        if on_progress is not None:

            def relay(elapsed: float, objective: int) -> None:
                on_progress(elapsed, objective / COST_SCALE)

        try:
            solution = solve_portfolio(problem.data, backend, request.options, relay)
        except (RuntimeError, ValueError, MemoryError) as error:
            raise SolverError(f"the {backend} backend failed: {error}") from error
    result = decode(problem, solution, backend=backend)
    result.evaluation = evaluate(request, result, resolved=resolved)
    return result
