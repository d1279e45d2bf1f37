"""Pattern enumeration: the columns of the MIP, one shipping pattern of one order each."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from solvers.allocation.data import AllocationData, AllocationSolution, IntArray
from solvers.allocation.mip.arrays import Columns
from solvers.allocation.mip.params import PatternParams

_Entry = tuple[int, int, int]  # (line, site or site index, units)


@dataclass
class _Block:
    """Columns under construction: per column its order and entry count, then the entries."""

    order: IntArray
    length: IntArray
    line: IntArray
    site: IntArray
    qty: IntArray


@dataclass
class _Order:
    """One order of several units: its lines and its kept candidate sites, as Python lists.

    Site lists (``sites``, ``unit``, ``ship``, ``avail``) are indexed by kept-site index;
    line lists (``qty``, ``sku``, ``pen`` and ``avail[i]``) by the line's place in the order.
    """

    lines: list[int]
    sites: list[int]
    by_unit: list[int]
    unit: list[float]
    ship: list[float]
    avail: list[list[int]]
    qty: list[int]
    sku: list[int]
    pen: list[float]
    ship_complete: bool
    max_subset: int


def enumerate_patterns(
    data: AllocationData,
    arc_line: IntArray,
    arc_site: IntArray,
    plans: tuple[AllocationSolution, ...] = (),
    max_patterns: int = 16,
    limits: PatternParams | None = None,
) -> tuple[Columns, IntArray]:
    """Columns for every order with arcs, and per plan in ``plans`` its column per order.

    A single-line, single-unit order gets one column per arc. Any other order gets, for each
    subset of its candidate sites (up to a size), the cheapest way to fill its lines from that
    subset (cheapest unit cost first, splitting a line when one site lacks stock); subsets
    with an unused site, and ship-complete patterns that fall short, are skipped. Each
    warm-start plan adds its own pattern per order, so the model contains it.
    """
    limits = limits or PatternParams()
    units_o = np.bincount(data.line_order, weights=data.line_quantity, minlength=data.n_orders)
    simple_arc = units_o[data.line_order[arc_line]] == 1
    blocks = [
        _simple_block(data, arc_line[simple_arc], arc_site[simple_arc]),
        _complex_block(data, arc_line[~simple_arc], arc_site[~simple_arc], max_patterns, limits),
    ]
    known, n_cols = _index_columns(blocks)
    plan_cols: list[IntArray] = []
    for plan in plans:
        col_of, block, n_cols = _plan_block(data, plan, known, n_cols)
        plan_cols.append(col_of)
        blocks.append(block)
    lengths = np.concatenate([b.length for b in blocks])
    cols = Columns(
        np.concatenate([b.order for b in blocks]),
        np.r_[0, np.cumsum(lengths)].astype(np.int64),
        np.concatenate([b.line for b in blocks]),
        np.concatenate([b.site for b in blocks]),
        np.concatenate([b.qty for b in blocks]),
    )
    hint_cols = np.stack(plan_cols) if plan_cols else np.zeros((0, data.n_orders), np.int64)
    return cols, hint_cols


def _simple_block(data: AllocationData, arc_line: IntArray, arc_site: IntArray) -> _Block:
    """Single-unit orders: one column per arc."""
    ones = np.ones(arc_line.shape[0], dtype=np.int64)
    return _Block(data.line_order[arc_line], ones, arc_line, arc_site, ones.copy())


def _complex_block(
    data: AllocationData,
    arc_line: IntArray,
    arc_site: IntArray,
    max_patterns: int,
    limits: PatternParams,
) -> _Block:
    """Orders of several units: the ``max_patterns`` cheapest patterns of each."""
    arc_order = data.line_order[arc_line]
    c_orders, c_start = np.unique(arc_order, return_index=True)
    c_end = np.r_[c_start[1:], arc_line.shape[0]][: c_start.shape[0]]
    o_list: list[int] = []
    len_list: list[int] = []
    entries_all: list[_Entry] = []
    for o, a, b in zip(c_orders.tolist(), c_start.tolist(), c_end.tolist(), strict=True):
        order = _order_view(data, o, np.unique(arc_site[a:b]), limits)
        for entries in _order_patterns(data, order)[:max_patterns]:
            o_list.append(o)
            len_list.append(len(entries))
            entries_all.extend(entries)
    triples = np.asarray(entries_all, dtype=np.int64).reshape(-1, 3)
    return _Block(
        np.asarray(o_list, dtype=np.int64),
        np.asarray(len_list, dtype=np.int64),
        triples[:, 0],
        triples[:, 1],
        triples[:, 2],
    )


def _order_view(data: AllocationData, o: int, sites_o: IntArray, limits: PatternParams) -> _Order:
    """Order ``o`` with its best candidate sites (by shipment cost minus the penalty saved)."""
    lines = list(range(int(data.line_start[o]), int(data.line_start[o + 1])))
    n_keep, r_max = limits.limits(len(lines))
    skus = data.line_sku[lines]
    qtys = data.line_quantity[lines]
    pens = data.line_penalty[lines]
    unit = data.unit_cost[o, sites_o]
    avail = data.available[sites_o[:, None], skus[None, :]]  # (sites, lines)
    gain = (np.minimum(avail, qtys[None, :]) * (pens[None, :] - unit[:, None])).sum(1)
    score = data.shipment_cost[o, sites_o] - gain
    keep = np.argsort(score, kind="stable")[:n_keep]
    sites_o, unit, avail = sites_o[keep], unit[keep], avail[keep]
    return _Order(
        lines=lines,
        sites=sites_o.tolist(),
        by_unit=np.argsort(unit, kind="stable").tolist(),
        unit=unit.tolist(),
        ship=data.shipment_cost[o, sites_o].tolist(),
        avail=avail.tolist(),
        qty=qtys.tolist(),
        sku=skus.tolist(),
        pen=pens.tolist(),
        ship_complete=bool(data.order_ship_complete[o]),
        max_subset=min(r_max, int(data.order_max_shipments[o]), len(keep)),
    )


def _order_patterns(data: AllocationData, order: _Order) -> list[list[_Entry]]:
    """The order's patterns over every subset of its kept sites, cheapest first."""
    found: list[tuple[float, list[_Entry]]] = []
    for r in range(1, order.max_subset + 1):
        for subset in combinations(order.by_unit, r):
            entries, used, short = _fill(order, subset)
            if len(used) < r or (order.ship_complete and short):
                continue
            cost = sum(order.ship[i] for i in used) + data.split_penalty * (r - 1)
            for line, i, q in entries:
                cost += (order.unit[i] - order.pen[line - order.lines[0]]) * q
            found.append((cost, [(line, order.sites[i], q) for line, i, q in entries]))
    found.sort(key=lambda t: t[0])
    return [entries for _, entries in found]


def _fill(order: _Order, subset: tuple[int, ...]) -> tuple[list[_Entry], set[int], bool]:
    """Fill the order's lines from ``subset`` (kept-site indices, cheapest unit cost first):
    the entries (line, site index, units), the sites used, and whether a line fell short."""
    used: set[int] = set()
    taken: dict[tuple[int, int], int] = {}
    entries: list[_Entry] = []
    short = False
    for j, line in enumerate(order.lines):
        need = order.qty[j]
        for i in subset:  # cheapest unit cost first
            if need == 0 or order.unit[i] >= order.pen[j]:
                break
            free = order.avail[i][j] - taken.get((i, order.sku[j]), 0)
            if free <= 0:
                continue
            q = min(need, free)
            entries.append((line, i, q))
            taken[(i, order.sku[j])] = taken.get((i, order.sku[j]), 0) + q
            used.add(i)
            need -= q
        short = short or need > 0
    return entries, used, short


def _index_columns(blocks: list[_Block]) -> tuple[dict[tuple[int, ...], int], int]:
    """Existing columns by content (so a warm-start pattern is added only when new), and
    their number."""
    known: dict[tuple[int, ...], int] = {}
    col0 = 0
    for block in blocks:
        ptr = np.r_[0, np.cumsum(block.length)].tolist()
        flat = np.stack([block.line, block.site, block.qty], axis=1).ravel().tolist()
        for j in range(len(ptr) - 1):
            known.setdefault(tuple(flat[3 * ptr[j] : 3 * ptr[j + 1]]), col0 + j)
        col0 += len(ptr) - 1
    return known, col0


def _plan_block(
    data: AllocationData,
    plan: AllocationSolution,
    known: dict[tuple[int, ...], int],
    n_cols: int,
) -> tuple[IntArray, _Block, int]:
    """A plan's column per order (-1: it ships nothing), the columns it adds to ``known``,
    and the new number of columns."""
    keep = plan.quantity > 0
    line, site, qty = plan.line[keep], plan.site[keep], plan.quantity[keep]
    srt = np.lexsort((site, line))
    line, site, qty = line[srt], site[srt], qty[srt]
    p_orders, p_start, p_counts = np.unique(
        data.line_order[line], return_index=True, return_counts=True
    )
    flat = np.stack([line, site, qty], axis=1).ravel().tolist()
    col_of = np.full(data.n_orders, -1, dtype=np.int64)
    new_o: list[int] = []
    new_len: list[int] = []
    new_entries: list[int] = []
    for o, a, c in zip(p_orders.tolist(), p_start.tolist(), p_counts.tolist(), strict=True):
        key = tuple(flat[3 * a : 3 * (a + c)])
        j = known.get(key)
        if j is None:
            j = known[key] = n_cols
            n_cols += 1
            new_o.append(o)
            new_len.append(c)
            new_entries.extend(key)
        col_of[o] = j
    triples = np.asarray(new_entries, dtype=np.int64).reshape(-1, 3)
    block = _Block(
        np.asarray(new_o, dtype=np.int64),
        np.asarray(new_len, dtype=np.int64),
        triples[:, 0],
        triples[:, 1],
        triples[:, 2],
    )
    return col_of, block, n_cols
