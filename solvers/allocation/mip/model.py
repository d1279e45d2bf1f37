"""Building the pattern MIP as arrays: column costs, the rows that bind, its components."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from solvers.allocation.data import AllocationData, BoolArray, FloatArray, IntArray
from solvers.allocation.mip.arrays import Columns, MipArrays, Parts, group
from solvers.allocation.mip.decompose import components

_T = TypeVar("_T", bound=np.generic)
#: The limit of each row, from the row's key (a site, or a site and sku).
_Limit = Callable[[IntArray], FloatArray]


class RowBuilder:
    """Collects constraint rows as COO triplets."""

    def __init__(self) -> None:
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []
        self.lbs: list[FloatArray] = []
        self.ubs: list[FloatArray] = []
        self.coupling: list[tuple[IntArray, IntArray]] = []  # (row, var) of shared rows
        self.n = 0

    def add(
        self,
        row_local: IntArray,
        col: IntArray,
        val: FloatArray,
        lb: FloatArray,
        ub: FloatArray,
        coupling: bool = False,
    ) -> None:
        """Rows ``row_local`` (0..len(lb)-1) of this block, appended after existing rows."""
        n_new = int(lb.shape[0])
        if n_new == 0:
            return
        rows = row_local + self.n
        self.rows.append(rows)
        self.cols.append(col)
        self.vals.append(np.asarray(val, dtype=np.float64))
        self.lbs.append(np.asarray(lb, dtype=np.float64))
        self.ubs.append(np.asarray(ub, dtype=np.float64))
        if coupling:
            self.coupling.append((rows, col))
        self.n += n_new

    def coupling_rows(self) -> IntArray:
        """The rows that couple orders (stock and capacities), sorted."""
        if not self.coupling:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([r for r, _ in self.coupling]))


def build_pattern_model(
    data: AllocationData, cols: Columns, binding_tol: float = 1e-9
) -> tuple[MipArrays, Parts]:
    """The pattern MIP: pick at most one column per order, within stock and capacities.

    A stock or capacity row is kept only where its worst case exceeds the limit by more than
    ``binding_tol``.
    """
    entry_col = np.repeat(np.arange(cols.n), np.diff(cols.ptr))
    p_col, p_site = _shipments(data, cols, entry_col)
    cost = _column_costs(data, cols, entry_col, p_col, p_site)
    lines_in = np.zeros(data.n_lines, dtype=bool)
    lines_in[cols.entry_line] = True
    offset = float((data.line_penalty * data.line_quantity)[lines_in].sum())

    rb = RowBuilder()
    _add_one_per_order(rb, cols)
    _add_coupling_rows(rb, data, cols, entry_col, p_col, p_site, binding_tol)
    mip = MipArrays(
        cost,
        np.zeros(cols.n),
        np.ones(cols.n),
        np.ones(cols.n, dtype=bool),
        _concat(rb.rows, np.int64),
        _concat(rb.cols, np.int64),
        _concat(rb.vals, np.float64),
        _concat(rb.lbs, np.float64),
        _concat(rb.ubs, np.float64),
        offset,
    )
    labels = components(data.n_orders, cols.order, rb.coupling, rb.n)
    order_offset = np.bincount(
        data.line_order,
        weights=np.where(lines_in, data.line_penalty * data.line_quantity, 0.0),
        minlength=data.n_orders,
    ).astype(np.float64)
    parts = Parts(labels[cols.order], labels, order_offset, cols.order, rb.coupling_rows())
    return mip, parts


def _shipments(
    data: AllocationData, cols: Columns, entry_col: IntArray
) -> tuple[IntArray, IntArray]:
    """Every (column, site) shipment, sorted by column then site."""
    pair = np.unique(entry_col * data.n_sites + cols.entry_site)
    return pair // data.n_sites, pair % data.n_sites


def _column_costs(
    data: AllocationData, cols: Columns, entry_col: IntArray, p_col: IntArray, p_site: IntArray
) -> FloatArray:
    """Column cost: shipments, units and splits, minus the penalties it saves."""
    e_order = cols.order[entry_col]
    e_line, e_site, e_qty = cols.entry_line, cols.entry_site, cols.entry_qty
    n_ship = np.bincount(p_col, minlength=cols.n)
    cost = np.bincount(
        p_col, weights=data.shipment_cost[cols.order[p_col], p_site], minlength=cols.n
    ).astype(np.float64)
    cost += np.bincount(
        entry_col,
        weights=(data.unit_cost[e_order, e_site] - data.line_penalty[e_line]) * e_qty,
        minlength=cols.n,
    )
    cost += data.split_penalty * np.maximum(n_ship - 1, 0)
    return cost


def _add_one_per_order(rb: RowBuilder, cols: Columns) -> None:
    """Rows ``sum_j z_j <= 1`` for the orders with more than one column."""
    o_row, _o_keys = group(cols.order)
    multi = np.bincount(o_row) > 1
    if not np.any(multi):
        return
    new_row = np.cumsum(multi) - 1
    keep = multi[o_row]
    rb.add(
        new_row[o_row[keep]],
        np.nonzero(keep)[0],
        np.ones(int(keep.sum())),
        np.full(int(multi.sum()), -np.inf),
        np.ones(int(multi.sum())),
    )


def _add_coupling_rows(
    rb: RowBuilder,
    data: AllocationData,
    cols: Columns,
    entry_col: IntArray,
    p_col: IntArray,
    p_site: IntArray,
    binding_tol: float,
) -> None:
    """Stock rows per (site, sku), unit and order capacity rows per site, where they bind."""
    e_site, e_qty = cols.entry_site, cols.entry_qty.astype(np.float64)
    n_skus = data.n_skus

    def stock(k: IntArray) -> FloatArray:
        return data.available[k // n_skus, k % n_skus].astype(np.float64)

    def units(k: IntArray) -> FloatArray:
        return data.site_capacity_units[k].astype(np.float64)

    def orders(k: IntArray) -> FloatArray:
        return data.site_capacity_orders[k].astype(np.float64)

    e_sku = data.line_sku[cols.entry_line]
    _add_capacity(rb, data, cols, e_site * n_skus + e_sku, entry_col, e_qty, stock, binding_tol)
    _add_capacity(rb, data, cols, e_site, entry_col, e_qty, units, binding_tol)
    ones = np.ones(p_col.shape[0])
    _add_capacity(rb, data, cols, p_site, p_col, ones, orders, binding_tol)


def _add_capacity(
    rb: RowBuilder,
    data: AllocationData,
    cols: Columns,
    row_key: IntArray,
    col: IntArray,
    load: FloatArray,
    limit_of_key: _Limit,
    binding_tol: float,
) -> None:
    """Rows ``sum load z <= limit`` where the worst case (max per order) exceeds it."""
    n_cols = cols.n
    cell, cell_keys = group(row_key * n_cols + col)  # merge entries of one column
    cell_load = np.asarray(np.bincount(cell, weights=load), dtype=np.float64)
    c_row_key, c_col = cell_keys // n_cols, cell_keys % n_cols
    row, keys = group(c_row_key)
    # worst case: each order contributes its largest column load
    oc, _ = group(row * data.n_orders + cols.order[c_col])
    worst_oc = np.zeros(int(oc.max()) + 1 if oc.shape[0] else 0)
    np.maximum.at(worst_oc, oc, cell_load)
    oc_row = np.zeros_like(worst_oc, dtype=np.int64)
    oc_row[oc] = row
    worst = np.bincount(oc_row, weights=worst_oc, minlength=keys.shape[0]).astype(np.float64)
    _add_binding(rb, row, c_col, cell_load, worst, limit_of_key(keys), binding_tol)


def _add_binding(
    rb: RowBuilder,
    row: IntArray,
    col: IntArray,
    val: FloatArray,
    load: FloatArray,
    limit: FloatArray,
    tol: float,
) -> None:
    """Add rows ``sum val x <= limit`` only where the largest possible load exceeds it."""
    binding: BoolArray = load > limit + tol
    if not np.any(binding):
        return
    new_row = np.cumsum(binding) - 1
    keep = binding[row]
    rb.add(
        new_row[row[keep]],
        col[keep],
        val[keep],
        np.full(int(binding.sum()), -np.inf),
        limit[binding],
        coupling=True,
    )


def _concat(parts: list[npt.NDArray[_T]], dtype: type[_T]) -> npt.NDArray[_T]:
    """The parts end to end as ``dtype`` (an empty array when there are none)."""
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
