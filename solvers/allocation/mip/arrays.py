"""The array forms the MIP's steps hand each other: columns, the model, its parts, outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers.allocation.data import BoolArray, FloatArray, IntArray


@dataclass
class Columns:
    """Shipping patterns: column ``j`` ships ``entry_qty`` of ``entry_line`` from ``entry_site``
    for entries ``ptr[j]:ptr[j + 1]``; ``order[j]`` is its order."""

    order: IntArray
    ptr: IntArray
    entry_line: IntArray
    entry_site: IntArray
    entry_qty: IntArray

    @property
    def n(self) -> int:
        """Number of columns."""
        return int(self.order.shape[0])


@dataclass
class MipArrays:
    """A MIP in array form: ``min c x + offset`` s.t. ``row_lb <= A x <= row_ub``."""

    cost: FloatArray
    lb: FloatArray
    ub: FloatArray
    integer: BoolArray
    rows: IntArray
    cols: IntArray
    vals: FloatArray
    row_lb: FloatArray
    row_ub: FloatArray
    offset: float = 0.0

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return int(self.cost.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of constraint rows."""
        return int(self.row_lb.shape[0])


@dataclass
class Parts:
    """Independent components: label per variable and per order, and each order's share of
    the objective offset; plus each variable's order and the rows that couple orders."""

    var_label: IntArray
    order_label: IntArray
    order_offset: FloatArray
    var_order: IntArray
    coupling_rows: IntArray


@dataclass
class Outcome:
    """What a solve returned: values (None: no solution), objective, bound, status."""

    values: FloatArray | None
    objective: float
    bound: float
    status: str
    reduced_costs: FloatArray | None = None


def group(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Dense group index per element and the unique keys."""
    uniq, inv = np.unique(keys, return_inverse=True)
    return inv.astype(np.int64), uniq


def ragged_arange(counts: IntArray) -> IntArray:
    """``concatenate([arange(c) for c in counts])`` without a loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    starts = np.repeat(ends - counts, counts)
    return np.arange(total) - starts
