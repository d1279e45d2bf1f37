"""Workload balance by sweeping a cap: ``options.balance`` on the backends that search best.

The balance term is ``weight * max_v metric_v`` (a min-max). For any cap ``T``, ``min
cost(plan with every route's metric <= T) + weight * T`` bounds it, and the best ``T`` gives
the optimum. PyVRP (and the hybrid, with breaks) search a capped day well (a cap is a
``max_duration_s``, ``max_stops`` or ``max_distance_m``), while OR-Tools' global span cost,
the direct min-max, searches poorly on a full day. So the sweep plans the day without the
term, then with caps below its largest route (bisecting between the metric spread evenly
over the fleet and the best plan's largest route, each a share of the time limit), and keeps
the cheapest plan by the request's own cost, balance included.

Every candidate is judged by the independent evaluator against the *original* request (no
cap): a capped plan whose left-out stops would fit without the cap, or whose reasons only
hold under it, fails there and is not kept. Capped candidates are repaired (a stop inserted
under the cap fits without it too) unless the cap left out more mandatory stops than
:data:`CAPPED_REPAIR_LIMIT`: such a cap is too tight to win, and proving that none of them
fits would cost more than the search.
``options.backend = "ortools"`` keeps the direct min-max instead
(:meth:`solvers.routing.ortools.OrToolsModel._balance`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from engine.matrices import TravelMatrices
from engine.routing.decode import balance_cost
from engine.routing.evaluate import evaluate
from engine.routing.geometry import add_geometry
from engine.routing.locations import resolve
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.errors import InvalidInputError
from models.routing import Balance, RoutingRequest, RoutingResult, Vehicle

#: Caps tried, by bisection between the even spread and the best plan's largest route.
CAPS = 3
#: Capped candidates leaving out more mandatory stops than this are not repaired.
CAPPED_REPAIR_LIMIT = 10
#: Share of the time limit the uncapped plan gets; the caps share the rest equally.
FIRST_SHARE = 0.4

#: Plans a request without balance on the given matrices; the flag says whether it is the
#: uncapped plan (repaired as usual) or a capped candidate (not repaired: see the module doc).
Solve = Callable[[RoutingRequest, TravelMatrices, bool], RoutingResult]
#: Called with (seconds since the sweep began, the best plan's cost so far).
Progress = Callable[[float, float], None]


def _largest(result: RoutingResult, balance: Balance) -> float:
    """The largest route's metric (hours, stops or km), 0 without routes."""
    if not result.routes:
        return 0.0
    return {
        "duration": max(r.summary.duration_s for r in result.routes) / 3600,
        "stops": float(max(r.summary.stops for r in result.routes)),
        "distance": max(r.summary.distance_m for r in result.routes) / 1000,
    }[balance.metric]


def _capped(vehicle: Vehicle, balance: Balance, cap: float) -> Vehicle:
    """``vehicle`` with its limit on the balance metric lowered to ``cap``."""
    if balance.metric == "duration":
        limit = cap * 3600
        own = vehicle.max_duration_s
        return vehicle.model_copy(
            update={"max_duration_s": limit if own is None else min(own, limit)}
        )
    if balance.metric == "stops":
        most = int(cap)
        own_stops = vehicle.max_stops
        return vehicle.model_copy(
            update={"max_stops": most if own_stops is None else min(own_stops, most)}
        )
    metres = cap * 1000
    own_m = vehicle.max_distance_m
    return vehicle.model_copy(
        update={"max_distance_m": metres if own_m is None else min(own_m, metres)}
    )


def _judged(
    request: RoutingRequest, result: RoutingResult, matrices: TravelMatrices, note: str
) -> RoutingResult:
    """``result`` costed and checked as a plan of ``request`` (the balance term added)."""
    term = balance_cost(request, result.routes)
    summary = result.summary.model_copy(
        update={
            "balance_cost": term,
            "cost": result.summary.cost - result.summary.balance_cost + term,
        }
    )
    judged = result.model_copy(update={"summary": summary})
    judged.stats = judged.stats.model_copy(
        update={"solver_status": f"balance sweep, {note}: {judged.stats.solver_status}"}
    )
    judged.evaluation = evaluate(request, judged, matrices)
    return judged


def _rank(request: RoutingRequest, result: RoutingResult) -> tuple[bool, int, float]:
    """Feasible first, then fewest mandatory stops left out, then cost."""
    mandatory = {t.id for t in request.tasks() if not t.optional}
    assert result.evaluation is not None
    missed = sum(u.id in mandatory for u in result.unassigned)
    return (not result.evaluation.feasible, missed, result.summary.cost)


def _floor(result: RoutingResult, balance: Balance, vehicles: int) -> float:
    """A cap below which no plan of all that ``result`` serves can go: the metric's total
    spread evenly over every vehicle (stops: rounded up)."""
    total = {
        "duration": sum(r.summary.duration_s for r in result.routes) / 3600,
        "stops": float(sum(r.summary.stops for r in result.routes)),
        "distance": sum(r.summary.distance_m for r in result.routes) / 1000,
    }[balance.metric]
    even = total / max(vehicles, 1)
    return float(math.ceil(even)) if balance.metric == "stops" else even


def _probe(low: float, high: float, balance: Balance) -> float:
    """The cap halfway between what is known too tight (``low``) and the best plan's
    largest route (``high``); stops: a whole number strictly below ``high`` (0: none left)."""
    if balance.metric == "stops":
        cap = min(math.floor((low + high) / 2), math.ceil(high) - 1)
        return float(cap) if cap >= max(low, 1) else 0.0
    return (low + high) / 2 if high - low > 1e-6 * max(high, 1) else 0.0


def solve_balanced(
    request: RoutingRequest,
    solve: Solve,
    matrices: TravelMatrices | None = None,
    *,
    matrix_cache_dir: Path | None = None,
    on_progress: Progress | None = None,
) -> RoutingResult:
    """The cheapest plan of ``request`` (balance included) over the uncapped plan and the
    capped ones (see the module doc). ``solve`` plans a request without balance on the
    given matrices (the engine's ``solve_routes``, without geometry: the winner gets it).
    ``on_progress`` hears (seconds since the start, the best cost so far, balance included)
    after each plan."""
    balance = request.options.balance
    assert balance is not None
    began = time.monotonic()
    resolved = resolve(request, matrices, cache_dir=matrix_cache_dir)
    exact = TravelMatrices(  # the request's matrices, exact in ticks, built once
        distances_m=resolved.ticks.distance / DISTANCE_SCALE,
        durations_s=resolved.ticks.base_time / TIME_SCALE,
    )
    limit_s = request.options.time_limit_s
    share_s = limit_s * (1 - FIRST_SHARE) / CAPS

    def plan(cap: float | None, seconds: float) -> RoutingResult:
        options = request.options.model_copy(
            update={"balance": None, "geometry": False, "time_limit_s": max(seconds, 0.1)}
        )
        vehicles = (
            request.vehicles
            if cap is None
            else [_capped(v, balance, cap) for v in request.vehicles]
        )
        return solve(
            request.model_copy(update={"options": options, "vehicles": vehicles}),
            exact,
            cap is None,
        )

    def report(best: RoutingResult) -> None:
        if on_progress is not None:
            on_progress(time.monotonic() - began, best.summary.cost)

    best = _judged(request, plan(None, limit_s * FIRST_SHARE), exact, "no cap")
    report(best)
    # bisect the cap between the even spread (too tight to beat) and the best's largest
    low, high = _floor(best, balance, len(request.vehicles)), _largest(best, balance)
    for _ in range(CAPS):
        left_s = limit_s - (time.monotonic() - began)
        cap = _probe(low, high, balance)
        if cap <= 0 or left_s < share_s / 4:
            break  # nothing left to try, or no time: stop within the limit
        try:
            capped = plan(cap, min(share_s, left_s))
        except InvalidInputError:
            break  # the cap adds a limit no backend can honour with the rest (reloads)
        candidate = _judged(request, capped, exact, f"{balance.metric} <= {cap:g}")
        if _rank(request, candidate) < _rank(request, best):
            best, high = candidate, _largest(candidate, balance)
            report(best)
        else:
            low = cap  # no better plan this tight: look between it and the best
    best.stats.solve_s = time.monotonic() - began
    best.stats.matrix_s = resolved.matrix_s
    return add_geometry(request, best, cache_dir=matrix_cache_dir)
