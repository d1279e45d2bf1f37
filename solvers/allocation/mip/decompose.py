"""Decomposition: orders that share no stock or capacity row are solved apart."""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from solvers.allocation.data import BoolArray, FloatArray, IntArray
from solvers.allocation.mip.arrays import MipArrays, Outcome, Parts
from solvers.allocation.mip.backends import solve_arrays
from solvers.allocation.mip.params import MipParams


def components(
    n_orders: int, var_order: IntArray, coupling: list[tuple[IntArray, IntArray]], n_rows: int
) -> IntArray:
    """Connected components of orders joined by shared coupling rows."""
    if not coupling:
        return np.arange(n_orders)
    rows = np.concatenate([r for r, _ in coupling])
    orders = var_order[np.concatenate([c for _, c in coupling])]
    graph = sparse.coo_matrix(
        (np.ones(rows.shape[0]), (orders, n_orders + rows)), shape=(n_orders + n_rows,) * 2
    )
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels[:n_orders], dtype=np.int64)


def submip(mip: MipArrays, var_mask: BoolArray, offset: float = 0.0) -> tuple[MipArrays, IntArray]:
    """The rows and variables of one component (row set = rows touching its variables)."""
    var_idx = np.nonzero(var_mask)[0]
    new_var = np.full(mip.n_vars, -1, dtype=np.int64)
    new_var[var_idx] = np.arange(var_idx.shape[0])
    keep = var_mask[mip.cols]
    row_used = np.zeros(mip.n_rows, dtype=bool)
    row_used[mip.rows[keep]] = True
    row_idx = np.nonzero(row_used)[0]
    new_row = np.full(mip.n_rows, -1, dtype=np.int64)
    new_row[row_idx] = np.arange(row_idx.shape[0])
    sub = MipArrays(
        mip.cost[var_idx],
        mip.lb[var_idx],
        mip.ub[var_idx],
        mip.integer[var_idx],
        new_row[mip.rows[keep]],
        new_var[mip.cols[keep]],
        mip.vals[keep],
        mip.row_lb[row_idx],
        mip.row_ub[row_idx],
        offset,
    )
    return sub, var_idx.astype(np.int64)


def solve_components(
    mip: MipArrays, parts: Parts, params: MipParams, deadline: float, hint: FloatArray | None
) -> tuple[Outcome, int]:
    """Solve each large component on its own; all small ones together in one model.

    Each model carries its own share of the objective offset, so the solver's relative gap is
    measured against the true cost of that part. Time is shared by number of variables.
    """
    labels, comp_of_var, sizes = np.unique(parts.var_label, return_inverse=True, return_counts=True)
    comp_offset = np.bincount(parts.order_label, weights=parts.order_offset)
    groups = _groups(comp_of_var, sizes, params.component_min_vars)
    values = np.zeros(mip.n_vars)
    objective = bound = mip.offset - float(comp_offset[labels].sum())
    statuses: list[str] = []
    remaining = int(sum(int(g.sum()) for g in groups))
    for mask in groups:
        offset = float(comp_offset[np.unique(parts.var_label[mask])].sum())
        sub, idx = submip(mip, mask, offset)
        share = sub.n_vars / max(remaining, 1)
        remaining -= sub.n_vars
        limit = max((deadline - time.perf_counter()) * share, params.min_solve_time_s)
        sub_hint = hint[idx] if hint is not None else None
        out = solve_arrays(sub, params, limit, sub_hint)
        statuses.append(out.status)
        if out.values is None:
            return Outcome(None, float("inf"), float("-inf"), out.status), int(labels.shape[0])
        values[idx] = out.values
        objective += out.objective
        bound += out.bound
    bad = [s for s in statuses if s != "optimal"]
    return Outcome(values, objective, bound, bad[0] if bad else "optimal"), int(labels.shape[0])


def _groups(comp_of_var: IntArray, sizes: IntArray, min_vars: int) -> list[BoolArray]:
    """Variable masks: all small components together, then each large one, largest first."""
    big = sizes >= min_vars
    groups: list[BoolArray] = []
    small_mask = ~big[comp_of_var]
    if np.any(small_mask):
        groups.append(small_mask)
    for c in np.nonzero(big)[0][np.argsort(-sizes[big])]:
        groups.append(comp_of_var == c)
    return groups
