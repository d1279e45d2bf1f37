"""The entry point: the exact MIP (:mod:`~solvers.allocation.mip.exact`) when it is small
enough, else warm starts, pruning, patterns, model, solve, decoding the plan, and the valid
lower bound (the LP of the full model, :mod:`~solvers.allocation.mip.bound`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models.errors import SolverError
from solvers.allocation.data import AllocationData, AllocationSolution, FloatArray, plan_cost
from solvers.allocation.greedy import fewest_splits, nearest_full_stock
from solvers.allocation.mip.arrays import Columns, MipArrays, Outcome, Parts, ragged_arange
from solvers.allocation.mip.backends import solve_arrays
from solvers.allocation.mip.bound import count_eligible_arcs, full_lp_bound
from solvers.allocation.mip.candidates import candidate_arcs
from solvers.allocation.mip.decompose import solve_components
from solvers.allocation.mip.exact import solve_exact
from solvers.allocation.mip.lp_fix import solve_lp_fix
from solvers.allocation.mip.model import build_pattern_model
from solvers.allocation.mip.params import MipParams
from solvers.allocation.mip.patterns import enumerate_patterns


@dataclass
class _Built:
    """The model of one instance, its columns, the warm-start hint and the constant cost of
    lines no column serves."""

    cols: Columns
    mip: MipArrays
    parts: Parts
    hint: FloatArray | None
    constant: float


def solve(
    data: AllocationData,
    params: MipParams | None = None,
    warm_start: AllocationSolution | tuple[AllocationSolution, ...] | None = None,
) -> AllocationSolution:
    """Solve the allocation MIP; the plan is never worse than the warm start (greedy by default).

    ``params.strategy`` picks the model: the exact MIP of every arc
    (:mod:`~solvers.allocation.mip.exact`), the pattern MIP, or (``auto``) the exact one up to
    ``exact_max_arcs`` eligible arcs. Under ``auto`` the exact MIP gets ``exact_time_share``
    of the time; if it proves no gap within ``relative_gap`` the pattern path runs on what is
    left (at least ``min_solve_time_s``), its plan one more warm start. The time limit covers
    everything: greedy warm start, building, solving and the valid bound. The ``bound`` is a
    lower bound of the true optimum: the exact MIP's dual bound, or the LP bound of the full
    model (:mod:`~solvers.allocation.mip.bound`); NaN when neither was computed. ``status``
    is ``"optimal"`` only when the gap to that bound is within ``relative_gap`` (or
    ``absolute_gap``). Raises :class:`~models.errors.SolverError` if nothing is found and
    there is no warm start to fall back on.
    """
    params = params or MipParams()
    start = time.perf_counter()
    n_arcs = count_eligible_arcs(data)
    stats: dict[str, float] = {"bound_arcs": float(n_arcs)}
    plans = _warm_starts(data, params, warm_start)
    costs = [plan_cost(data, p) for p in plans]
    stats["greedy_s"] = time.perf_counter() - start
    known_bound = float("nan")
    if n_arcs > 0 and params.uses_exact(n_arcs):
        left_s = params.time_limit_s - (time.perf_counter() - start)
        share = 1.0 if params.strategy == "exact" else params.exact_time_share
        result = solve_exact(data, left_s * share, params.relative_gap)
        stats.update(
            exact=1.0, exact_s=result.solve_s, exact_vars=result.n_vars, exact_rows=result.n_rows
        )
        stats["exact_proven"] = float(result.status == "optimal")
        stats["solve_s"] = result.solve_s  # the pattern path adds its own
        known_bound = result.bound
        if result.plan is not None:
            plans, costs = (*plans, result.plan), [*costs, result.objective]
            done = result.status == "optimal" or params.strategy == "exact"
            end_s = params.time_limit_s - (time.perf_counter() - start)
            if done or end_s < params.min_solve_time_s:
                best_i = int(np.argmin(costs))  # a stopped solve may lose to its start
                elapsed = time.perf_counter() - start
                plan, objective = plans[best_i], costs[best_i]
                return _with(plan, data, params, "optimal", known_bound, elapsed, stats, objective)
    end = max(start + params.time_limit_s, time.perf_counter() + params.min_solve_time_s)
    return _solve_patterns(data, params, (plans, costs), (start, end), stats, known_bound)


def _solve_patterns(
    data: AllocationData,
    params: MipParams,
    starts: tuple[tuple[AllocationSolution, ...], list[float]],
    window: tuple[float, float],
    stats: dict[str, float],
    known_bound: float,
) -> AllocationSolution:
    """The pattern path: prune, patterns, model, solve, and the full LP's bound, between
    ``window`` = (start, end); ``known_bound`` (NaN if none) is a valid bound already had."""
    plans, costs = starts
    start, end = window
    n_arcs = int(stats["bound_arcs"])
    want_bound = 0 < n_arcs <= params.bound_max_arcs and not np.isfinite(known_bound)
    # The pattern MIP leaves ``bound_time_share`` of the time it has to the full LP.
    share = (end - time.perf_counter()) * params.bound_time_share if want_bound else 0.0
    deadline = end - share
    best_i = int(np.argmin(costs)) if plans else -1
    best_start = plans[best_i] if plans else None

    t0 = time.perf_counter()
    built = _build(data, params, plans, best_i)
    stats["build_s"] = time.perf_counter() - t0
    mip = built.mip
    stats.update(n_vars=mip.n_vars, n_rows=mip.n_rows, n_nonzeros=int(mip.vals.shape[0]))

    t0 = time.perf_counter()
    outcome, n_components = _run(built, params, deadline, stats)
    stats["solve_s"] = stats.get("solve_s", 0.0) + time.perf_counter() - t0
    stats["components"] = n_components

    stats["pattern_bound"] = outcome.bound + built.constant
    bound = known_bound
    if not np.isfinite(bound):
        bound = _valid_bound(data, params, n_arcs, end, stats)
    if outcome.values is None:
        if best_start is None:
            raise SolverError(f"MIP found no solution ({outcome.status}) and has no warm start")
        elapsed = time.perf_counter() - start
        return _with(best_start, data, params, outcome.status, bound, elapsed, stats)
    plan = _decode(built.cols, outcome.values, outcome.status)
    objective = plan_cost(data, plan)
    if best_start is not None and costs[best_i] < objective - params.keep_start_tol:
        plan, objective = best_start, costs[best_i]  # a stopped solve that lost to its start
    elapsed = time.perf_counter() - start
    return _with(plan, data, params, outcome.status, bound, elapsed, stats, objective)


def _valid_bound(
    data: AllocationData, params: MipParams, n_arcs: int, end: float, stats: dict[str, float]
) -> float:
    """The full LP's bound within the time left before ``end`` (NaN if none); its time goes to
    ``stats["bound_s"]``."""
    if n_arcs == 0:  # nothing can ship: every plan costs the full penalty
        stats["bound_s"] = 0.0
        return float((data.line_penalty * data.line_quantity).sum())
    if params.bound_max_arcs == 0:
        stats["bound_s"] = 0.0
        return float("nan")
    result = full_lp_bound(data, end - time.perf_counter(), params.bound_max_arcs)
    stats["bound_s"] = result.solve_s
    return result.value


def _warm_starts(
    data: AllocationData,
    params: MipParams,
    warm_start: AllocationSolution | tuple[AllocationSolution, ...] | None,
) -> tuple[AllocationSolution, ...]:
    """The plans given, or both greedy plans if none are and ``params.warm_start``."""
    if isinstance(warm_start, AllocationSolution):
        return (warm_start,)
    if warm_start:
        return tuple(warm_start)
    if params.warm_start:
        return (nearest_full_stock(data), fewest_splits(data))
    return ()


def _build(
    data: AllocationData,
    params: MipParams,
    plans: tuple[AllocationSolution, ...],
    best_i: int,
) -> _Built:
    """Prune, enumerate patterns (with every plan's), build the model, and hint plan
    ``best_i`` (none if negative)."""
    arc_line, arc_site = candidate_arcs(data, params, plans)
    cols, hint_cols = enumerate_patterns(
        data, arc_line, arc_site, plans, params.patterns_per_order, params.patterns
    )
    mip, parts = build_pattern_model(data, cols, params.binding_tol)
    hint = None
    if best_i >= 0:
        hint = np.zeros(mip.n_vars)
        chosen = hint_cols[best_i]
        hint[chosen[chosen >= 0]] = 1.0
    lines_in = np.zeros(data.n_lines, dtype=bool)
    lines_in[cols.entry_line] = True
    # Lines in no column are unfulfilled whatever happens: a constant.
    constant = float((data.line_penalty * data.line_quantity)[~lines_in].sum())
    return _Built(cols, mip, parts, hint, constant)


def _run(
    built: _Built, params: MipParams, deadline: float, stats: dict[str, float]
) -> tuple[Outcome, int]:
    """Solve the model the way ``params`` asks: LP fix, per component, or whole; the outcome
    and the number of components."""
    mip = built.mip
    if mip.n_vars == 0:
        return Outcome(np.zeros(0), mip.offset, mip.offset, "optimal"), 0
    if params.lp_fix and params.backend != "cp_sat":
        return solve_lp_fix(mip, built.parts, params, deadline, built.hint, stats)
    if params.decompose:
        return solve_components(mip, built.parts, params, deadline, built.hint)
    return solve_arrays(mip, params, deadline - time.perf_counter(), built.hint), 1


def _decode(cols: Columns, values: FloatArray, status: str) -> AllocationSolution:
    """The plan of the columns ``values`` chooses (binaries: above one half is one)."""
    chosen = np.nonzero(values > 0.5)[0]
    counts = np.diff(cols.ptr)[chosen]
    entries = np.repeat(cols.ptr[chosen], counts) + ragged_arange(counts)
    return AllocationSolution(
        cols.entry_line[entries],
        cols.entry_site[entries],
        cols.entry_qty[entries],
        method="mip",
        status=status,
    )


def _with(
    plan: AllocationSolution,
    data: AllocationData,
    params: MipParams,
    status: str,
    bound: float,
    elapsed: float,
    stats: dict[str, float],
    objective: float | None = None,
) -> AllocationSolution:
    """``plan`` as the MIP's result, with its objective, bound (NaN stays NaN: no proven
    bound), time and stats; ``"optimal"`` becomes ``"feasible"`` unless the gap to ``bound``
    is within ``params.relative_gap`` (or ``params.absolute_gap``)."""
    objective = plan_cost(data, plan) if objective is None else objective
    bound = min(bound, objective) if np.isfinite(bound) else float("nan")
    if status == "optimal" and not _proven(objective, bound, params):
        status = "feasible"
    return AllocationSolution(
        plan.line,
        plan.site,
        plan.quantity,
        method="mip",
        status=status,
        objective=objective,
        bound=bound,
        solve_time_s=elapsed,
        stats=stats,
    )


def _proven(objective: float, bound: float, params: MipParams) -> bool:
    """The gap between ``objective`` and the valid ``bound`` is within the target."""
    if not np.isfinite(bound):
        return False
    diff = objective - bound
    return diff <= params.absolute_gap or diff <= params.relative_gap * abs(objective) + 1e-12
