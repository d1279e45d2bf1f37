"""Greedy allocation baselines: what most order management systems ship.

Both walk the orders once, in ``order_rank`` order (priority first), and take stock and site
capacity as they go, so an early order is never revisited:

* :func:`nearest_full_stock` ships the whole order from the nearest eligible site that has all
  of it; failing that, each line takes units from eligible sites by increasing distance.
* :func:`fewest_splits` also ships from the nearest site that has everything; failing that it
  picks, again and again, the site that covers the most remaining units (nearest on ties).

Both honour available stock (on hand minus safety stock), site capacities in orders and units,
max shipments per order, and ship-complete orders (all or nothing). Same input and output as the
MIP: :class:`~solvers.allocation.data.AllocationData` in, ``AllocationSolution`` out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from solvers.allocation.data import AllocationData, AllocationSolution, IntArray, plan_cost

_Take = list[tuple[int, int, int]]  # (line, site, quantity)


class _State:
    """Remaining stock and capacities while the greedy walks the orders."""

    def __init__(self, data: AllocationData) -> None:
        self.available = data.available.copy()
        self.cap_orders = data.site_capacity_orders.astype(np.int64).copy()
        self.cap_units = data.site_capacity_units.astype(np.int64).copy()

    def commit(self, takes: _Take, sku: IntArray) -> None:
        for line, site, qty in takes:
            self.available[site, sku[line]] -= qty
            self.cap_units[site] -= qty
        for site in {site for _, site, _ in takes}:
            self.cap_orders[site] -= 1


def _site_order(data: AllocationData) -> IntArray:
    """Per order, site indices by increasing distance (ineligible sites at the end)."""
    dist = np.where(data.eligible, data.distance_km, np.inf)
    return np.argsort(dist, axis=1, kind="stable")


def _full_site(state: _State, sites: IntArray, skus: list[int], qtys: list[int]) -> int:
    """The first site in ``sites`` that can ship every line of the order, or -1."""
    total = sum(qtys)
    avail = state.available
    for s in sites[:3].tolist():  # usually the nearest sites do: no array work
        if (
            state.cap_orders[s] >= 1
            and state.cap_units[s] >= total
            and all(avail[s, k] >= q for k, q in zip(skus, qtys, strict=True))
        ):
            return int(s)
    sites = sites[3:]
    if sites.shape[0] == 0:
        return -1
    ok = (state.cap_orders[sites] >= 1) & (state.cap_units[sites] >= total)
    if len(skus) == 1:
        ok &= state.available[sites, skus[0]] >= qtys[0]
    else:
        sku_idx = np.asarray(skus, dtype=np.int64)
        ok &= np.all(state.available[np.ix_(sites, sku_idx)] >= np.asarray(qtys), axis=1)
    i = int(ok.argmax())
    return int(sites[i]) if ok[i] else -1


def _split_by_distance(
    state: _State,
    o_lines: range,
    sites: list[int],
    n_eligible: int,
    skus: list[int],
    qtys: list[int],
    max_ship: int,
) -> _Take:
    """Each line takes units from eligible sites in distance order."""
    takes: _Take = []
    used: set[int] = set()
    units_used: dict[int, int] = {}
    avail_used: dict[tuple[int, int], int] = {}
    for line, k, q in zip(o_lines, skus, qtys, strict=True):
        need = q
        for s in sites[:n_eligible]:
            if need == 0:
                break
            if s not in used and (len(used) >= max_ship or state.cap_orders[s] < 1):
                continue
            free = min(
                int(state.available[s, k]) - avail_used.get((s, k), 0),
                int(state.cap_units[s]) - units_used.get(s, 0),
            )
            if free <= 0:
                continue
            qty = min(need, free)
            takes.append((line, s, qty))
            used.add(s)
            units_used[s] = units_used.get(s, 0) + qty
            avail_used[(s, k)] = avail_used.get((s, k), 0) + qty
            need -= qty
    return takes


def _cover_greedily(
    state: _State,
    o_lines: range,
    sites: list[int],
    n_eligible: int,
    skus: list[int],
    qtys: list[int],
    max_ship: int,
) -> _Take:
    """Repeatedly pick the site covering the most remaining units (nearest first on ties)."""
    need = dict(zip(o_lines, qtys, strict=True))
    sku_of = dict(zip(o_lines, skus, strict=True))
    uniq = sorted(set(skus))
    takes: _Take = []
    cands = np.asarray([s for s in sites[:n_eligible] if state.cap_orders[s] >= 1], dtype=np.int64)
    uniq_idx = np.asarray(uniq, dtype=np.int64)
    stock = state.available[np.ix_(cands, uniq_idx)] if cands.shape[0] else np.zeros((0, len(uniq)))
    n_used = 0
    while cands.shape[0] and n_used < max_ship and any(need.values()):
        need_k = np.zeros(len(uniq))
        for line, left in need.items():
            need_k[uniq.index(sku_of[line])] += left
        units = np.minimum(np.minimum(stock, need_k[None, :]).sum(axis=1), state.cap_units[cands])
        i = int(units.argmax())  # first maximum: the nearest on ties
        if units[i] <= 0:
            break
        s = int(cands[i])
        room = int(state.cap_units[s])
        taken: dict[int, int] = {}  # lines may repeat a sku
        for line, left in need.items():
            if left and room > 0:
                k = sku_of[line]
                qty = min(left, int(state.available[s, k]) - taken.get(k, 0), room)
                if qty > 0:
                    takes.append((line, s, qty))
                    taken[k] = taken.get(k, 0) + qty
                    need[line] -= qty
                    room -= qty
        n_used += 1
        cands = np.delete(cands, i)
        stock = np.delete(stock, i, axis=0)
    return takes


def _walk(
    data: AllocationData,
    split: Callable[[_State, range, list[int], int, list[int], list[int], int], _Take],
    method: str,
) -> AllocationSolution:
    start = time.perf_counter()
    state = _State(data)
    site_order = _site_order(data)
    n_eligible = data.eligible.sum(axis=1)
    sku, qty_arr, starts = data.line_sku, data.line_quantity, data.line_start
    out_line: list[int] = []
    out_site: list[int] = []
    out_qty: list[int] = []
    for o in np.argsort(data.order_rank, kind="stable").tolist():
        ne = int(n_eligible[o])
        if ne == 0:
            continue
        o_lines = range(int(starts[o]), int(starts[o + 1]))
        skus = sku[o_lines.start : o_lines.stop].tolist()
        qtys = qty_arr[o_lines.start : o_lines.stop].tolist()
        site_row = site_order[o, :ne]
        # Lines may repeat a sku: a single-site check needs the order's demand per sku.
        demand: dict[int, int] = {}
        for k, q in zip(skus, qtys, strict=True):
            demand[k] = demand.get(k, 0) + q
        s = _full_site(state, site_row, list(demand), list(demand.values()))
        if s >= 0:
            takes = [(line, s, q) for line, q in zip(o_lines, qtys, strict=True)]
        else:
            takes = split(
                state, o_lines, site_row.tolist(), ne, skus, qtys, int(data.order_max_shipments[o])
            )
            if data.order_ship_complete[o] and sum(t[2] for t in takes) < sum(qtys):
                takes = []
        state.commit(takes, sku)
        for line, site, qty in takes:
            out_line.append(line)
            out_site.append(site)
            out_qty.append(qty)
    plan = AllocationSolution(
        np.asarray(out_line, dtype=np.int64),
        np.asarray(out_site, dtype=np.int64),
        np.asarray(out_qty, dtype=np.int64),
        method=method,
    )
    return AllocationSolution(
        plan.line,
        plan.site,
        plan.quantity,
        method=method,
        status="feasible",
        objective=plan_cost(data, plan),
        solve_time_s=time.perf_counter() - start,
    )


def nearest_full_stock(data: AllocationData) -> AllocationSolution:
    """Nearest site with full stock, else split each line by distance."""
    return _walk(data, _split_by_distance, "greedy_nearest")


def fewest_splits(data: AllocationData) -> AllocationSolution:
    """Fewest shipments first: a site with everything, else greedy set cover by units."""
    return _walk(data, _cover_greedily, "greedy_fewest_splits")


class _Fill:
    """Stock, loads and shipments a plan leaves, updated as units are added."""

    def __init__(self, data: AllocationData, plan: AllocationSolution) -> None:
        keep = plan.quantity > 0
        self.takes: dict[tuple[int, int], int] = {}
        for ln, s, q in zip(plan.line[keep], plan.site[keep], plan.quantity[keep], strict=True):
            self.takes[(int(ln), int(s))] = self.takes.get((int(ln), int(s)), 0) + int(q)
        self.left = data.available.copy()
        self.units_at = np.zeros(data.n_sites, dtype=np.int64)
        self.ships_from = np.zeros((data.n_orders, data.n_sites), dtype=bool)
        self.short = data.line_quantity.copy()
        order = self.line_order = data.line_order
        for (ln, s), q in self.takes.items():
            self.left[s, data.line_sku[ln]] -= q
            self.units_at[s] += q
            self.ships_from[order[ln], s] = True
            self.short[ln] -= q
        self.orders_at = self.ships_from.sum(axis=0).astype(np.int64)

    def add(self, data: AllocationData, ln: int, s: int, q: int) -> None:
        self.takes[(ln, s)] = self.takes.get((ln, s), 0) + q
        self.left[s, data.line_sku[ln]] -= q
        self.units_at[s] += q
        o = self.line_order[ln]
        self.orders_at[s] += 0 if self.ships_from[o, s] else 1
        self.ships_from[o, s] = True
        self.short[ln] -= q


def _best_site(data: AllocationData, fill: _Fill, ln: int) -> tuple[int, int] | None:
    """The site that ships the most-saving units of short line ``ln``, if any saves."""
    o, k = int(fill.line_order[ln]), int(data.line_sku[ln])
    ships = fill.ships_from[o]
    room = np.maximum(data.site_capacity_units - fill.units_at, 0)
    qty = np.minimum(np.minimum(fill.short[ln], np.maximum(fill.left[:, k], 0)), room)
    orders_at = fill.orders_at
    new_ok = (ships.sum() < data.order_max_shipments[o]) & (orders_at < data.site_capacity_orders)
    ok = data.eligible[o] & (qty > 0) & (fill.units_at + qty <= data.site_capacity_units)
    ok &= ships | new_ok
    split = data.split_penalty if ships.any() else 0.0
    once = np.where(ships, 0.0, data.shipment_cost[o] + split)
    saving = data.line_penalty[ln] * qty - (once + data.unit_cost[o] * qty)
    saving = np.where(ok, saving, -np.inf)
    s = int(saving.argmax()) if saving.size else 0
    return (s, int(qty[s])) if saving.size and saving[s] > 1e-9 else None


def _whole_order(data: AllocationData, fill: _Fill, o: int) -> None:
    """Ship ship-complete order ``o`` whole from its cheapest single site, if that saves."""
    lines = np.arange(int(data.line_start[o]), int(data.line_start[o + 1]))
    qty = data.line_quantity[lines]
    units = int(qty.sum())
    orders_at = fill.orders_at
    ok = data.eligible[o] & np.all(fill.left[:, data.line_sku[lines]] >= qty, axis=1)
    ok &= (fill.units_at + units <= data.site_capacity_units) & (
        orders_at < data.site_capacity_orders
    )
    penalty = float((data.line_penalty[lines] * qty).sum())
    saving = np.where(ok, penalty - data.shipment_cost[o] - data.unit_cost[o] * units, -np.inf)
    if saving.size and saving.max() > 1e-9:
        s = int(saving.argmax())
        for ln, q in zip(lines.tolist(), qty.tolist(), strict=True):
            fill.add(data, ln, s, int(q))


def top_up(data: AllocationData, plan: AllocationSolution) -> AllocationSolution:
    """``plan`` plus every unit it leaves short that some site can still ship for less than
    the unit's penalty (stock, capacities and max shipments kept; ship-complete orders that
    ship nothing are left alone). The result is never dearer than ``plan``."""
    fill = _Fill(data, plan)
    ship_whole = data.order_ship_complete[fill.line_order]
    for o in np.nonzero(data.order_ship_complete & ~fill.ships_from.any(axis=1))[0].tolist():
        _whole_order(data, fill, o)
    changed = True
    while changed:
        changed = False
        for ln in np.nonzero((fill.short > 0) & ~ship_whole)[0].tolist():
            while fill.short[ln] > 0:
                best = _best_site(data, fill, ln)
                if best is None:
                    break
                fill.add(data, ln, *best)
                changed = True
    if not fill.takes:
        return plan
    keys = sorted(fill.takes)
    added = AllocationSolution(
        line=np.asarray([k[0] for k in keys], dtype=np.int64),
        site=np.asarray([k[1] for k in keys], dtype=np.int64),
        quantity=np.asarray([fill.takes[k] for k in keys], dtype=np.int64),
        method=plan.method,
        status=plan.status,
        bound=plan.bound,
        solve_time_s=plan.solve_time_s,
        stats=plan.stats,
    )
    cost = plan_cost(data, added)
    if np.isfinite(plan.objective) and cost > plan.objective + 1e-9:
        return plan
    return AllocationSolution(
        added.line,
        added.site,
        added.quantity,
        plan.method,
        plan.status,
        cost,
        plan.bound,
        plan.solve_time_s,
        plan.stats,
    )
