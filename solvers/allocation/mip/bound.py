r"""A valid lower bound of the full allocation problem: the LP relaxation of a compact model.

The pattern MIP (``model``) solves a restricted problem: pruned arcs, a few greedy patterns per
order. Its LP bound holds for that restriction only. This module bounds the real problem: every
eligible arc, no patterns. Every feasible plan maps to a point of the LP below with the same
cost as :func:`~solvers.allocation.data.plan_cost`, so the LP value is at most the optimum.

Data (see :class:`~solvers.allocation.data.AllocationData`)
    As in the package docstring: stock ``a_{sk}``, capacities ``C^u_s``, ``C^o_s``, lines
    ``l`` of order ``o(l)``, sku ``k(l)``, quantity ``q_l``, penalty ``p_l``; max shipments
    ``m_o``; ship-complete orders ``O^c``; costs ``f_{os}`` (per shipment), ``c_{os}`` (per
    unit), ``\sigma`` (per shipment beyond the first).

Arcs
    ``(l, s)`` for every site eligible for ``o(l)`` with ``a_{s,k(l)} > 0`` and both
    capacities positive (any other arc ships nothing in any plan); its capacity
    ``u_{ls} = \min(q_l, a_{s,k(l)}, C^u_s)``. Pairs ``(o, s)`` are the sites some arc of
    ``o`` reaches.

Variables
    ``x_{ls} \in [0, u_{ls}]`` units of line ``l`` from ``s``; ``y_{os} \in [0, 1]`` order
    ``o`` ships from ``s``; ``z_o \in [0, n_o - 1]`` its splits (``n_o`` pairs of ``o``);
    ``w_o \in [0, 1]`` the share of ship-complete order ``o`` that ships.

Constraints
    link:         ``x_{ls} \le u_{ls} y_{o(l)s}``                        every arc;
    order room:   ``\sum_{l \in o} x_{ls} \le C^u_s y_{os}``            pairs where it binds;
    line:         ``\sum_s x_{ls} \le q_l`` (``= q_l w_o`` if ``o \in O^c``)  every line;
    stock:        ``\sum_{l: k(l) = k} x_{ls} \le a_{sk}``                every (site, sku);
    unit cap.:    ``\sum_l x_{ls} \le C^u_s``;  order cap.: ``\sum_o y_{os} \le C^o_s``;
    splits:       ``\sum_s y_{os} - z_o \le 1``;  max shipments: ``\sum_s y_{os} \le m_o``.
    non-empty:    ``y_{os} \le \sum_{l \in o} x_{ls}``                  pairs with ``f_{os} < 0``.
    Rows that no point within the variable bounds can violate are left out. A pair with a
    single arc and ``f_{os} \ge 0`` has no ``y``: some optimum has ``y = x / u`` (``y`` only
    costs and loads ``\le`` rows), so its ``x`` takes ``f / u`` per unit and ``1 / u`` in
    the pair's rows -- the same LP value with far fewer rows (10x faster on synthetic 1k).
    With integer ``x, y, z, w`` and every pair given its ``y`` this is the exact MIP of the full
    problem (:mod:`~solvers.allocation.mip.exact`); both build it with :func:`build_full_lp`.

Objective (minimise)
    ``\sum f_{os} y_{os} + \sum (c_{o(l)s} - p_l) x_{ls} + \sigma \sum z_o + \sum_l p_l q_l``.

The value reported is not the solver's primal objective but the Lagrangian bound of the dual
it returns: with row duals ``\lambda`` (sign-corrected) and reduced costs
``r = c - A^\top \lambda``, ``b^\top \lambda + \sum_j \min(r_j lb_j, r_j ub_j)``. Every
variable is bounded, so this holds for any ``\lambda``: solver tolerances cannot make the bound
exceed the LP optimum. HiGHS runs through :func:`scipy.optimize.linprog`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from solvers.allocation.data import AllocationData, FloatArray, IntArray

#: The bound's statuses: computed, too many arcs, no time left, or the LP did not finish.
BOUND_STATUSES = ("optimal", "too_large", "no_time", "not_solved")


@dataclass(frozen=True)
class FullBound:
    """The valid lower bound (NaN when none) and how it went."""

    value: float
    status: str
    n_arcs: int
    solve_s: float


@dataclass
class FullLp:
    """The compact model as scipy wants it (inequalities, equalities, bounds), its offset,
    and its arcs (the first ``arc_line.shape[0]`` columns are their ``x``)."""

    cost: FloatArray
    lb: FloatArray
    ub: FloatArray
    a_ub: sparse.csr_matrix
    b_ub: FloatArray
    a_eq: sparse.csr_matrix
    b_eq: FloatArray
    offset: float
    arc_line: IntArray
    arc_site: IntArray


def _arc_mask(data: AllocationData) -> npt.NDArray[np.bool_]:
    """(line, site): the site is eligible for the line's order, holds its sku, and has room
    for at least one unit and one order."""
    room = (data.site_capacity_units > 0) & (data.site_capacity_orders > 0)
    return data.eligible[data.line_order] & (data.available[:, data.line_sku].T > 0) & room


def eligible_arcs(data: AllocationData) -> tuple[IntArray, IntArray]:
    """Every arc of :func:`_arc_mask` (the only ones a plan can ship on): (lines, sites)."""
    line, site = np.nonzero(_arc_mask(data))
    return line.astype(np.int64), site.astype(np.int64)


def count_eligible_arcs(data: AllocationData) -> int:
    """The number of arcs :func:`eligible_arcs` gives, without building them."""
    return int(np.count_nonzero(_arc_mask(data)))


def full_lp_bound(data: AllocationData, time_limit_s: float, max_arcs: int) -> FullBound:
    """The LP bound of the full model, or NaN with the reason when it is too large, there is
    no time, or HiGHS does not finish within ``time_limit_s``."""
    start = time.perf_counter()
    n_arcs = count_eligible_arcs(data)
    if n_arcs > max_arcs:
        return FullBound(float("nan"), "too_large", n_arcs, 0.0)
    if time_limit_s <= 0:
        return FullBound(float("nan"), "no_time", n_arcs, 0.0)
    lp = build_full_lp(data)
    if lp.cost.shape[0] == 0:
        return FullBound(lp.offset, "optimal", n_arcs, time.perf_counter() - start)
    left_s = time_limit_s - (time.perf_counter() - start)
    if left_s <= 0:
        return FullBound(float("nan"), "no_time", n_arcs, time.perf_counter() - start)
    res = linprog(
        lp.cost,
        A_ub=lp.a_ub if lp.b_ub.shape[0] else None,
        b_ub=lp.b_ub if lp.b_ub.shape[0] else None,
        A_eq=lp.a_eq if lp.b_eq.shape[0] else None,
        b_eq=lp.b_eq if lp.b_eq.shape[0] else None,
        bounds=np.column_stack([lp.lb, lp.ub]),
        method="highs",
        options={"time_limit": left_s},
    )
    elapsed = time.perf_counter() - start
    if res.status != 0:
        return FullBound(float("nan"), "not_solved", n_arcs, elapsed)
    duals_ub = np.minimum(_marginals(res, "ineqlin", lp.b_ub.shape[0]), 0.0)
    duals_eq = _marginals(res, "eqlin", lp.b_eq.shape[0])
    value = lagrangian_bound(lp, duals_ub, duals_eq)
    return FullBound(value, "optimal", n_arcs, time.perf_counter() - start)


def _marginals(res: object, name: str, n: int) -> FloatArray:
    """The row duals ``name`` of a linprog result (zeros when there are no such rows)."""
    if n == 0:
        return np.zeros(0)
    return np.asarray(getattr(res, name).marginals, dtype=np.float64)


def lagrangian_bound(lp: FullLp, duals_ub: FloatArray, duals_eq: FloatArray) -> float:
    """``b^T y + sum_j min(r_j lb_j, r_j ub_j) + offset`` for duals ``y`` (``duals_ub <= 0``):
    a lower bound of the LP for any such duals, since every variable is bounded."""
    reduced = lp.cost - lp.a_ub.T @ duals_ub - lp.a_eq.T @ duals_eq
    per_var = np.minimum(reduced * lp.lb, reduced * lp.ub)
    return float(lp.b_ub @ duals_ub + lp.b_eq @ duals_eq + per_var.sum() + lp.offset)


def build_full_lp(data: AllocationData, integral: bool = False) -> FullLp:
    """The compact model of the module docstring over every eligible arc, as arrays.

    For the LP (``integral=False``) a pair with one arc and a non-negative shipment cost has
    no ``y``: at an optimum ``y = x / u`` (``y`` costs, and only loads ``<=`` rows), so ``x``
    carries ``f / u`` per unit and ``1 / u`` in the pair's rows. With ``integral`` every pair
    has its ``y`` and every column is meant integer (the exact MIP, ``exact``): this LP is its
    relaxation. Arc capacities also obey the site's unit capacity.
    """
    arc_line, arc_site = eligible_arcs(data)
    arc_order = data.line_order[arc_line]
    arc_sku = data.line_sku[arc_line]
    arc_cap = np.minimum(data.line_quantity[arc_line], data.available[arc_site, arc_sku])
    arc_cap = np.minimum(arc_cap, data.site_capacity_units[arc_site]).astype(np.float64)
    pairs, arc_pair = np.unique(arc_order * data.n_sites + arc_site, return_inverse=True)
    pair_order, pair_site = pairs // data.n_sites, pairs % data.n_sites
    pair_cost = data.shipment_cost[pair_order, pair_site].astype(np.float64)
    n_a, n_o = arc_line.shape[0], data.n_orders
    pairs_per_order = np.bincount(pair_order, minlength=n_o)
    single = (np.bincount(arc_pair, minlength=pairs.shape[0]) == 1) & (pair_cost >= 0)
    single &= not integral
    with_y = np.nonzero(~single)[0]
    sc_orders = np.nonzero(data.order_ship_complete)[0]
    # Variables: x (arcs), y (pairs with several arcs), z (orders), w (ship-complete orders).
    ix, iy = 0, n_a
    iz = iy + with_y.shape[0]
    iw = iz + n_o
    n_vars = iw + sc_orders.shape[0]
    # Each pair's column in its rows: y, or the one arc's x at 1 / u.
    pair_col = np.full(pairs.shape[0], -1, dtype=np.int64)
    pair_col[with_y] = iy + np.arange(with_y.shape[0])
    pair_coef = np.ones(pairs.shape[0])
    single_arc = np.nonzero(single[arc_pair])[0]
    pair_col[arc_pair[single_arc]] = ix + single_arc
    pair_coef[arc_pair[single_arc]] = 1.0 / arc_cap[single_arc]
    arc_unit = data.unit_cost[arc_order, arc_site] - data.line_penalty[arc_line]
    arc_unit[single_arc] += pair_cost[arc_pair[single_arc]] / arc_cap[single_arc]
    cost = np.concatenate(
        [
            arc_unit,
            pair_cost[with_y],
            np.full(n_o, data.split_penalty),
            np.zeros(sc_orders.shape[0]),
        ]
    ).astype(np.float64)
    lb = np.zeros(n_vars)
    ub = np.concatenate(
        [
            arc_cap,
            np.ones(with_y.shape[0]),
            np.maximum(pairs_per_order - 1, 0),
            np.ones(sc_orders.shape[0]),
        ]
    ).astype(np.float64)
    rows = _Rows()
    linked = np.nonzero(~single[arc_pair])[0]  # link: x - u y <= 0
    n_link = linked.shape[0]
    rows.add_block(
        np.r_[np.arange(n_link), np.arange(n_link)],
        np.r_[ix + linked, pair_col[arc_pair[linked]]],
        np.r_[np.ones(n_link), -arc_cap[linked]],
        np.zeros(n_link),
    )
    _order_room_rows(rows, data, arc_pair, arc_cap, pair_site, pair_col)
    _line_rows(rows, data, arc_line, arc_cap, sc_orders, ix, iw)
    _site_rows(rows, data, arc_site, arc_sku, arc_cap, pair_site, (pair_col, pair_coef))
    _order_rows(rows, data, pair_order, pairs_per_order, (pair_col, pair_coef), iz)
    _nonempty_rows(rows, arc_pair, pair_cost, pair_col, ix)
    offset = float((data.line_penalty * data.line_quantity).sum())
    a_ub, b_ub = rows.matrix(n_vars, eq=False)
    a_eq, b_eq = rows.matrix(n_vars, eq=True)
    return FullLp(cost, lb, ub, a_ub, b_ub, a_eq, b_eq, offset, arc_line, arc_site)


class _Rows:
    """Collects ``<=`` and ``=`` rows as COO triplets (row ids local to each block)."""

    def __init__(self) -> None:
        self.parts: dict[bool, list[tuple[IntArray, IntArray, FloatArray]]] = {
            False: [],
            True: [],
        }
        self.rhs: dict[bool, list[FloatArray]] = {False: [], True: []}
        self.n: dict[bool, int] = {False: 0, True: 0}

    def add_block(
        self, row: IntArray, col: IntArray, val: FloatArray, rhs: FloatArray, eq: bool = False
    ) -> None:
        """Rows ``row`` (0..len(rhs)-1 of this block) with right-hand sides ``rhs``."""
        if rhs.shape[0] == 0:
            return
        self.parts[eq].append((row + self.n[eq], col, np.asarray(val, dtype=np.float64)))
        self.rhs[eq].append(np.asarray(rhs, dtype=np.float64))
        self.n[eq] += int(rhs.shape[0])

    def matrix(self, n_vars: int, eq: bool) -> tuple[sparse.csr_matrix, FloatArray]:
        """The rows of one kind as a CSR matrix and their right-hand sides."""
        n = self.n[eq]
        if n == 0:
            return sparse.csr_matrix((0, n_vars)), np.zeros(0)
        row = np.concatenate([p[0] for p in self.parts[eq]])
        col = np.concatenate([p[1] for p in self.parts[eq]])
        val = np.concatenate([p[2] for p in self.parts[eq]])
        mat = sparse.csr_matrix((val, (row, col)), shape=(n, n_vars))
        return mat, np.concatenate(self.rhs[eq])


def _kept(keys: IntArray, load: FloatArray, limit_of: FloatArray) -> tuple[IntArray, IntArray]:
    """Groups of ``keys`` whose worst-case ``load`` exceeds their limit: (kept group ids, the
    local row of each entry, -1 where the group is dropped)."""
    worst = np.bincount(keys, weights=load, minlength=limit_of.shape[0])
    kept = np.nonzero(worst > limit_of)[0]
    local = np.full(limit_of.shape[0], -1, dtype=np.int64)
    local[kept] = np.arange(kept.shape[0])
    return kept, local[keys]


def _order_room_rows(
    rows: _Rows,
    data: AllocationData,
    arc_pair: IntArray,
    arc_cap: FloatArray,
    pair_site: IntArray,
    pair_col: IntArray,
) -> None:
    """``sum_{l in o} x_ls - C^u_s y_os <= 0`` for pairs whose arcs can exceed ``C^u_s`` (never
    a one-arc pair: its arc's capacity is at most ``C^u_s``, so each kept pair has a ``y``)."""
    room = data.site_capacity_units[pair_site].astype(np.float64)
    kept, local = _kept(arc_pair, arc_cap, room)
    use = local >= 0
    arcs = np.nonzero(use)[0]
    rows.add_block(
        np.r_[local[use], np.arange(kept.shape[0])],
        np.r_[arcs, pair_col[kept]],
        np.r_[np.ones(arcs.shape[0]), -room[kept]],
        np.zeros(kept.shape[0]),
    )


def _line_rows(
    rows: _Rows,
    data: AllocationData,
    arc_line: IntArray,
    arc_cap: FloatArray,
    sc_orders: IntArray,
    ix: int,
    iw: int,
) -> None:
    """``sum_s x_ls <= q_l``, or ``sum_s x_ls - q_l w_o = 0`` for ship-complete orders."""
    qty = data.line_quantity.astype(np.float64)
    sc_line = data.order_ship_complete[data.line_order]
    free_keys = np.where(sc_line[arc_line], data.n_lines, arc_line)  # sc arcs out of the way
    kept, local = _kept(free_keys, arc_cap, np.r_[qty, np.inf])
    use = local >= 0
    rows.add_block(local[use], ix + np.nonzero(use)[0], np.ones(int(use.sum())), qty[kept])
    sc_lines = np.nonzero(sc_line)[0]
    local_sc = np.full(data.n_lines, -1, dtype=np.int64)
    local_sc[sc_lines] = np.arange(sc_lines.shape[0])
    w_of_order = np.full(data.n_orders, -1, dtype=np.int64)
    w_of_order[sc_orders] = iw + np.arange(sc_orders.shape[0])
    arcs = np.nonzero(sc_line[arc_line])[0]
    rows.add_block(
        np.r_[local_sc[arc_line[arcs]], np.arange(sc_lines.shape[0])],
        np.r_[ix + arcs, w_of_order[data.line_order[sc_lines]]],
        np.r_[np.ones(arcs.shape[0]), -qty[sc_lines]],
        np.zeros(sc_lines.shape[0]),
        eq=True,
    )


def _site_rows(
    rows: _Rows,
    data: AllocationData,
    arc_site: IntArray,
    arc_sku: IntArray,
    arc_cap: FloatArray,
    pair_site: IntArray,
    pair_cols: tuple[IntArray, FloatArray],
) -> None:
    """Stock per (site, sku), units and orders per site, where they can bind; ``pair_cols``
    is each pair's (column, coefficient) in the order-capacity rows."""
    stock = data.available.reshape(-1).astype(np.float64)
    kept, local = _kept(arc_site * data.n_skus + arc_sku, arc_cap, stock)
    use = local >= 0
    rows.add_block(local[use], np.nonzero(use)[0], np.ones(int(use.sum())), stock[kept])
    units = data.site_capacity_units.astype(np.float64)
    kept, local = _kept(arc_site, arc_cap, units)
    use = local >= 0
    rows.add_block(local[use], np.nonzero(use)[0], np.ones(int(use.sum())), units[kept])
    orders = data.site_capacity_orders.astype(np.float64)
    kept, local = _kept(pair_site, np.ones(pair_site.shape[0]), orders)
    use = local >= 0
    rows.add_block(local[use], pair_cols[0][use], pair_cols[1][use], orders[kept])


def _order_rows(
    rows: _Rows,
    data: AllocationData,
    pair_order: IntArray,
    pairs_per_order: IntArray,
    pair_cols: tuple[IntArray, FloatArray],
    iz: int,
) -> None:
    """Splits ``sum_s y_os - z_o <= 1`` and max shipments ``sum_s y_os <= m_o`` per order
    (``pair_cols``: each pair's column and coefficient)."""
    n_o = data.n_orders
    col, coef = pair_cols
    split = np.nonzero(pairs_per_order > 1)[0]
    local = np.full(n_o, -1, dtype=np.int64)
    local[split] = np.arange(split.shape[0])
    use = local[pair_order] >= 0
    rows.add_block(
        np.r_[local[pair_order[use]], np.arange(split.shape[0])],
        np.r_[col[use], iz + split],
        np.r_[coef[use], -np.ones(split.shape[0])],
        np.ones(split.shape[0]),
    )
    limit = data.order_max_shipments.astype(np.float64)
    kept, local_rows = _kept(pair_order, np.ones(pair_order.shape[0]), limit)
    use = local_rows >= 0
    rows.add_block(local_rows[use], col[use], coef[use], limit[kept])


def _nonempty_rows(
    rows: _Rows, arc_pair: IntArray, pair_cost: FloatArray, pair_col: IntArray, ix: int
) -> None:
    """``y_os - sum_{l in o} x_ls <= 0`` for pairs of negative shipment cost (each has a
    ``y``): an empty shipment would earn ``-f`` that no plan gets."""
    paid = np.nonzero(pair_cost < 0)[0]
    if paid.shape[0] == 0:
        return
    local = np.full(pair_cost.shape[0], -1, dtype=np.int64)
    local[paid] = np.arange(paid.shape[0])
    arcs = np.nonzero(local[arc_pair] >= 0)[0]
    rows.add_block(
        np.r_[np.arange(paid.shape[0]), local[arc_pair[arcs]]],
        np.r_[pair_col[paid], ix + arcs],
        np.r_[np.ones(paid.shape[0]), -np.ones(arcs.shape[0])],
        np.zeros(paid.shape[0]),
    )
