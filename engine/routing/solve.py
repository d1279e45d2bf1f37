"""Route a request end to end: matrices, pre-checks, solve, decode, evaluate."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from engine.matrices import TravelMatrices
from engine.routing.balance import CAPPED_REPAIR_LIMIT, solve_balanced
from engine.routing.compile import CompiledProblem, compile_request
from engine.routing.decode import decode, empty_solution, place_breaks
from engine.routing.evaluate import evaluate
from engine.routing.geometry import add_geometry
from engine.routing.locations import resolve
from engine.routing.portfolio import solve_portfolio, worker_seed
from engine.routing.repair import repair
from engine.units import COST_SCALE
from models.errors import InvalidInputError, SolverError
from models.routing import RoutingOptions, RoutingRequest, RoutingResult
from solvers.routing.data import BreakVisit, ProgressCallback, VehicleRoute, VrpSolution
from solvers.routing.hybrid import hybrid_supported, relax_breaks
from solvers.routing.pyvrp import PyVrpParams, solve_pyvrp, unsupported

#: The least search time a request gets, however long building its problem took.
MIN_SEARCH_S = 0.05
#: The least share of ``time_limit_s`` the search gets, however long building the matrices
#: took: a slow matrix build then makes the call overrun its limit (by up to this share;
#: ``stats.matrix_s`` says how long the matrices took) instead of starving the search.
MIN_SEARCH_SHARE = 0.5
#: Backend statuses of a search that stopped on its time limit before it had any plan.
#: PyVRP's ``feasible_with_drops`` is not one: PyVRP gives up on serving every mandatory stop
#: after a fifth of its time, the usual sign that they cannot all be served; the repair step
#: then proves each stop still left out fits nowhere (``no_room_in_plan``).
CUT_SHORT_STATUSES = frozenset({"fail_timeout"})


def search_time_s(time_limit_s: float, spent_s: float) -> float:
    """The search's share of the call: what is left of the limit, at least
    :data:`MIN_SEARCH_SHARE` of it (and :data:`MIN_SEARCH_S`)."""
    return max(time_limit_s - spent_s, MIN_SEARCH_SHARE * time_limit_s, MIN_SEARCH_S)


def cut_short(solution: VrpSolution, options: RoutingOptions, starved: bool) -> bool:
    """Whether the search stopped on a limit before it could finish: no plan at all, a status
    of :data:`CUT_SHORT_STATUSES`, a solution limit reached, or less than its time share."""
    limited = options.solution_limit is not None and solution.solve_s < options.time_limit_s
    return not solution.found or solution.status in CUT_SHORT_STATUSES or limited or starved


#: Called with (seconds since the search began, best objective so far in cost units).
Progress = Callable[[float, float], None]


def choose_backend(problem: CompiledProblem) -> str:
    """PyVRP when it supports every feature of the problem (it searches best); with breaks,
    the hybrid (PyVRP plans without them, OR-Tools fits them in); else OR-Tools.

    A forced backend that cannot honour the problem is invalid input, named by feature.
    """
    wanted = problem.request.options.backend
    missing = unsupported(problem.data)
    if problem.data.has_reloads:
        _reloads_backend(problem, wanted, missing)
    if wanted == "pyvrp" and missing:
        raise InvalidInputError.for_field(
            "options.backend",
            "pyvrp",
            f"cannot honour {', '.join(missing)}; use 'auto', 'hybrid' or 'ortools'",
        )
    if wanted == "hybrid" and not hybrid_supported(problem.data):
        raise InvalidInputError.for_field(
            "options.backend",
            "hybrid",
            f"cannot honour {', '.join(missing)}; use 'auto' or 'ortools'",
        )
    if wanted == "auto":
        if not missing:
            return "pyvrp"
        return "hybrid" if hybrid_supported(problem.data) else "ortools"
    return wanted


def _reloads_backend(problem: CompiledProblem, wanted: str, missing: list[str]) -> None:
    """Reloads are PyVRP's alone: refuse another backend, or a feature PyVRP lacks with them."""
    v = next(i for i, x in enumerate(problem.request.vehicles) if x.has_reloads)
    vehicle = problem.request.vehicles[v]
    field = "reload_locations" if vehicle.reload_locations else "reload_indices"
    if wanted in ("ortools", "hybrid"):
        raise InvalidInputError.for_field(
            "options.backend",
            wanted,
            f"cannot honour reloads (vehicles[{v}].{field}); use 'auto' or 'pyvrp'",
        )
    if missing:
        raise InvalidInputError.for_field(
            f"vehicles[{v}].{field}",
            [list(p) for p in vehicle.reload_locations] or list(vehicle.reload_indices),
            f"reloads cannot be combined with {', '.join(missing)} yet: only the PyVRP "
            "backend plans reloads, and it cannot honour those",
        )


def solve_routes(
    request: RoutingRequest,
    matrices: TravelMatrices | None = None,
    on_progress: Progress | None = None,
    *,
    matrix_cache_dir: Path | None = None,
    repair_limit: int | None = None,
) -> RoutingResult:
    """Plan routes for ``request``; the result always carries the evaluator's verdict.

    ``matrices`` may be given to reuse travel matrices already built for the request's
    locations (in the order of :class:`engine.routing.locations.LocationTable`). The time limit
    covers the whole call: building the problem counts against the search's share, but the
    search gets at least :data:`MIN_SEARCH_SHARE` of the limit (the call may then overrun).
    Mandatory stops the search left out but that fit are inserted by
    :func:`engine.routing.repair.repair` before the evaluation. With ``options.balance``
    (and a backend other than ``ortools``) the day is planned by
    :func:`engine.routing.balance.solve_balanced`, which sweeps caps on the balance metric.
    ``matrix_cache_dir`` is where road graphs of OSM extracts are cached (None: the engine's
    default, :data:`engine.matrices.DEFAULT_GRAPH_CACHE_DIR`). ``repair_limit``
    skips the repair when the search left out more mandatory stops than that (the balance
    sweep's capped candidates; None: always repair).
    """
    balance = request.options.balance
    if balance is not None and balance.weight > 0 and request.options.backend != "ortools":
        return solve_balanced(
            request,
            lambda capped, exact, uncapped: solve_routes(
                capped,
                exact,
                matrix_cache_dir=matrix_cache_dir,
                repair_limit=None if uncapped else CAPPED_REPAIR_LIMIT,
            ),
            matrices,
            matrix_cache_dir=matrix_cache_dir,
            on_progress=on_progress,
        )
    began = time.monotonic()
    resolved = resolve(request, matrices, cache_dir=matrix_cache_dir)
    problem = compile_request(resolved)
    backend = choose_backend(problem)
    if problem.data.n_stops == 0:
        solution = empty_solution(problem)
    else:
        relay = None
        if on_progress is not None:

            def relay(elapsed: float, objective: int) -> None:
                on_progress(elapsed, objective / COST_SCALE)

        limit_s = request.options.time_limit_s
        spent_s = time.monotonic() - began
        search_s = search_time_s(limit_s, spent_s)
        # the search got less than it asked for: the floor, not the remainder, gave its time
        starved = spent_s > (1 - MIN_SEARCH_SHARE) * limit_s
        options = request.options.model_copy(update={"time_limit_s": search_s})
        hybrid: RoutingResult | None = None
        try:
            if backend == "hybrid":
                hybrid = _solve_hybrid(problem, options, relay, starved, repair_limit)
            else:
                solution = solve_portfolio(problem.data, backend, options, relay)
        except (RuntimeError, ValueError, MemoryError) as error:
            raise SolverError(f"the {backend} backend failed: {error}") from error
        result = hybrid or _finish(
            problem, solution, backend, cut_short(solution, options, starved), repair_limit
        )
        return add_geometry(request, result, cache_dir=matrix_cache_dir)
    return add_geometry(
        request, _finish(problem, solution, backend, False), cache_dir=matrix_cache_dir
    )


def _finish(
    problem: CompiledProblem,
    solution: VrpSolution,
    backend: str,
    short: bool,
    repair_limit: int | None = None,
) -> RoutingResult:
    """Decode, repair (keeping the plan as decoded should the repair ever break it), evaluate.

    ``repair_limit``: no repair when more mandatory stops than this are left out."""
    decoded = decode(problem, solution, backend=backend)
    mandatory = {t.id for t in problem.resolved.tasks if not t.optional}
    left_out = sum(u.id in mandatory for u in decoded.unassigned)
    hopeless = repair_limit is not None and left_out > repair_limit
    # the repair makes a new plan when it inserts anything
    result = decoded if hopeless else repair(problem, decoded, cut_short=short)
    result.evaluation = evaluate(problem.request, result, resolved=problem.resolved)
    if result.stats.repaired and not result.evaluation.feasible:
        decoded.evaluation = evaluate(problem.request, decoded, resolved=problem.resolved)
        if decoded.evaluation.feasible:
            return decoded
    return result


#: Share of the time limit the hybrid gives PyVRP; OR-Tools has the rest.
HYBRID_PYVRP_SHARE = 0.3


def _solve_hybrid(
    problem: CompiledProblem,
    options: RoutingOptions,
    relay: ProgressCallback | None,
    starved: bool = False,
    repair_limit: int | None = None,
) -> RoutingResult:
    """PyVRP on the relaxation (breaks fitted in afterwards), OR-Tools on the real problem;
    the better feasible plan wins (fewest mandatory stops left out, then cost)."""
    began = time.monotonic()
    first = solve_pyvrp(
        relax_breaks(problem.data),
        PyVrpParams(
            time_limit_s=options.time_limit_s * HYBRID_PYVRP_SHARE,
            seed=worker_seed(options.seed, 0),
        ),
    )
    candidates = []
    if first.found:
        routes = [
            VehicleRoute(
                r.vehicle,
                r.stops,
                r.start,
                [
                    BreakVisit(b, leg, 0)
                    for b, leg in place_breaks(
                        problem, r.vehicle, [int(problem.stop_of_node[int(n)]) for n in r.stops]
                    )
                ],
            )
            for r in first.routes
        ]
        relaxed = dataclasses.replace(first, routes=routes)
        plan = _finish(
            problem, relaxed, "hybrid", cut_short(relaxed, options, starved), repair_limit
        )
        assert plan.evaluation is not None
        if plan.evaluation.feasible:
            candidates.append(plan)
    remaining = max(options.time_limit_s - (time.monotonic() - began), 0.1)
    rest = options.model_copy(update={"time_limit_s": remaining})
    solution = solve_portfolio(problem.data, "ortools", rest, relay)
    second = _finish(problem, solution, "hybrid", cut_short(solution, rest, starved), repair_limit)
    candidates.append(second)
    mandatory = {t.id for t in problem.resolved.tasks if not t.optional}

    def rank(plan: RoutingResult) -> tuple[bool, int, float]:
        assert plan.evaluation is not None
        missed = sum(u.id in mandatory for u in plan.unassigned)
        return (not plan.evaluation.feasible, missed, plan.summary.cost)

    best = min(candidates, key=rank)
    best.stats.solve_s = time.monotonic() - began
    best.stats.solver_status = (
        "hybrid: PyVRP's plan with breaks fitted in"
        if best is not second
        else f"hybrid: OR-Tools' plan ({best.stats.solver_status})"
    )
    return best
