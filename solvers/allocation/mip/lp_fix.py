"""The LP-fix heuristic: LP relaxation, then MIPs over growing neighbourhoods of what the LP
left fractional, then (if the gap is still open) the full MIP."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.allocation.data import BoolArray, FloatArray, IntArray
from solvers.allocation.mip.arrays import MipArrays, Outcome, Parts
from solvers.allocation.mip.backends import solve_arrays
from solvers.allocation.mip.decompose import solve_components, submip
from solvers.allocation.mip.params import LpFixParams, MipParams

#: Smallest |objective| in the denominator of a relative gap (avoids dividing by zero).
_GAP_FLOOR = 1e-9


@dataclass
class _Neighbourhood:
    """What the LP says: its whole-column values, the fractional orders, and the orders that
    may be freed with them (``cand_order``, ranked by regret within each tight row)."""

    lp_values: FloatArray
    frac_order: BoolArray
    cand_order: IntArray
    rank: IntArray
    var_order: IntArray
    n_orders: int


def solve_lp_fix(
    mip: MipArrays,
    parts: Parts,
    params: MipParams,
    deadline: float,
    hint: FloatArray | None,
    stats: dict[str, float],
) -> tuple[Outcome, int]:
    """LP relaxation, then MIPs over growing neighbourhoods of what the LP left fractional.

    The LP optimum is a valid lower bound of the whole model. Orders the LP serves with one
    whole column keep it, except those that share a tight stock or capacity row with a
    fractional order and would lose least by moving (smallest reduced cost of another
    column): these are freed too, up to ``width`` per row, and the freed orders are solved as
    a MIP over what the fixed ones leave. The neighbourhood widens until the gap to the LP
    bound meets the target or time runs out; then the full MIP gets the rest of the time.
    """
    t0 = time.perf_counter()
    lp = solve_arrays(mip, params, deadline - t0, None, relax=True)
    stats["lp_s"] = time.perf_counter() - t0
    if lp.values is None or lp.status != "optimal":
        return solve_components(mip, parts, params, deadline, hint)
    hood = _neighbourhood(mip, parts, lp.values, lp.reduced_costs, params.neighbourhood)
    stats["lp_fractional_orders"] = int(hood.frac_order.sum())
    best = hood.lp_values
    if hint is not None and float(mip.cost @ hint) < float(mip.cost @ best):
        best = hint
    best, objective = _rounds(mip, hood, params, deadline, best, lp.objective, stats, t0)
    return _finish(mip, parts, params, deadline, best, objective, lp.objective)


def _gap(objective: float, bound: float) -> float:
    """Relative gap of ``objective`` to ``bound``."""
    return (objective - bound) / max(abs(objective), _GAP_FLOOR)


def _neighbourhood(
    mip: MipArrays,
    parts: Parts,
    z: FloatArray,
    reduced_costs: FloatArray | None,
    fix: LpFixParams,
) -> _Neighbourhood:
    """Fractional orders of the LP solution ``z``, and the whole orders on tight rows shared
    with them, ranked within each row by regret."""
    var_order = parts.var_order
    n_orders = int(parts.order_label.shape[0])
    tol = fix.integrality_tol
    frac_var = (z > tol) & (z < 1 - tol)
    frac_order = np.zeros(n_orders, dtype=bool)
    frac_order[var_order[frac_var]] = True
    lp_values = np.where(frac_order[var_order], 0.0, np.rint(z))
    # Regret of each order: the smallest reduced cost among its columns the LP did not use.
    rc = reduced_costs if reduced_costs is not None else mip.cost
    regret = np.full(n_orders, np.inf)
    unused = z < tol
    np.minimum.at(regret, var_order[unused], rc[unused])
    cand_row, cand_order = _orders_on_tight_rows(mip, parts, z, frac_order, fix)
    # rank candidates within each row by regret
    srt = np.lexsort((regret[cand_order], cand_row))
    cand_row, cand_order = cand_row[srt], cand_order[srt]
    first = np.r_[0, np.nonzero(np.diff(cand_row))[0] + 1] if cand_row.shape[0] else cand_row
    rank = np.arange(cand_row.shape[0]) - np.repeat(first, np.diff(np.r_[first, cand_row.shape[0]]))
    return _Neighbourhood(lp_values, frac_order, cand_order, rank, var_order, n_orders)


def _orders_on_tight_rows(
    mip: MipArrays, parts: Parts, z: FloatArray, frac_order: BoolArray, fix: LpFixParams
) -> tuple[IntArray, IntArray]:
    """(row, order) for every whole order on a tight coupling row that a fractional order
    is also on (through the column the LP chose)."""
    var_order = parts.var_order
    activity = np.bincount(mip.rows, weights=mip.vals * z[mip.cols], minlength=mip.n_rows)
    tight = np.zeros(mip.n_rows, dtype=bool)
    cr = parts.coupling_rows
    tight[cr] = activity[cr] >= mip.row_ub[cr] - fix.tight_tol
    on_row = tight[mip.rows]
    nz_rows, nz_cols = mip.rows[on_row], mip.cols[on_row]
    frac_rows = np.zeros(mip.n_rows, dtype=bool)
    frac_rows[nz_rows[frac_order[var_order[nz_cols]]]] = True
    chosen = (z > 1 - fix.integrality_tol)[nz_cols] & frac_rows[nz_rows]
    return nz_rows[chosen], var_order[nz_cols[chosen]]


def _rounds(
    mip: MipArrays,
    hood: _Neighbourhood,
    params: MipParams,
    deadline: float,
    best: FloatArray,
    bound: float,
    stats: dict[str, float],
    t0: float,
) -> tuple[FloatArray, float]:
    """Neighbourhood MIPs of growing width while they help and time allows: the best values
    and their objective."""
    fix = params.neighbourhood
    rounds = 0
    objective = float(mip.cost @ best) + mip.offset
    width = fix.initial_width
    while True:
        left = deadline - time.perf_counter()
        if _gap(objective, bound) <= params.relative_gap or left < fix.min_round_s:
            break
        free_order = hood.frac_order.copy()
        free_order[hood.cand_order[hood.rank < width]] = True
        limit = left * fix.round_time_share
        candidate = _solve_neighbourhood(mip, hood, free_order, params, limit)
        rounds += 1
        improved = False
        if candidate is not None:
            cand_obj = float(mip.cost @ candidate) + mip.offset
            if cand_obj < objective - fix.improve_abs_tol:
                improved = objective - cand_obj > fix.improve_rel_tol * abs(objective)
                best, objective = candidate, cand_obj
        stats[f"round{rounds}_free_orders"] = int(free_order.sum())
        stats[f"round{rounds}_gap"] = _gap(objective, bound)
        stats[f"round{rounds}_s"] = time.perf_counter() - t0
        if free_order.sum() >= hood.n_orders or width > int(hood.rank.max(initial=0)):
            break
        if rounds > 1 and not improved:
            break  # the fixed part is what holds the gap: go to the full MIP
        width *= fix.width_growth
    stats["neighbourhood_rounds"] = rounds
    return best, objective


def _solve_neighbourhood(
    mip: MipArrays,
    hood: _Neighbourhood,
    free_order: BoolArray,
    params: MipParams,
    time_limit_s: float,
) -> FloatArray | None:
    """The freed orders as a MIP over what the fixed ones leave: all values, or None."""
    free = free_order[hood.var_order]
    base = np.where(free, 0.0, hood.lp_values)
    load = np.bincount(mip.rows, weights=mip.vals * base[mip.cols], minlength=mip.n_rows)
    residual = MipArrays(
        mip.cost,
        mip.lb,
        mip.ub,
        mip.integer,
        mip.rows,
        mip.cols,
        mip.vals,
        mip.row_lb - load,
        mip.row_ub - load,
        0.0,
    )
    sub, idx = submip(residual, free)
    out = solve_arrays(sub, params, time_limit_s, None)
    if out.values is None:
        return None
    candidate = base.copy()
    candidate[idx] = np.rint(out.values)
    return candidate


def _finish(
    mip: MipArrays,
    parts: Parts,
    params: MipParams,
    deadline: float,
    best: FloatArray,
    objective: float,
    bound: float,
) -> tuple[Outcome, int]:
    """The outcome of the rounds, or of the full MIP (per component) if the gap is still
    open and enough time is left."""
    fix = params.neighbourhood
    target = params.relative_gap + fix.gap_tol
    status = "optimal" if _gap(objective, bound) <= target else "feasible"
    n_components = int(np.unique(parts.var_label).shape[0])
    if status != "optimal" and deadline - time.perf_counter() > fix.min_full_mip_s:
        full, n_components = solve_components(mip, parts, params, deadline, best)
        if full.values is not None and full.objective < objective - fix.improve_abs_tol:
            best, objective = np.rint(full.values), full.objective
        bound = max(bound, full.bound)
        status = "optimal" if _gap(objective, bound) <= target else full.status
    return Outcome(best, objective, bound, status), n_components
