"""Turn a solver plan back into shipments, unfulfilled lines with reasons, loads and totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.allocation.compile import UNLIMITED, Compiled
from models.allocation import (
    CostBreakdown,
    ShipmentLine,
    SiteLoad,
    SiteShipment,
    UnfulfilledLine,
)
from solvers.allocation.data import AllocationData, AllocationSolution


def shipments_of(compiled: Compiled, plan: AllocationSolution) -> list[SiteShipment]:
    """One shipment per (order, site) of the plan, with its cost parts.

    The split penalty is booked on every shipment of an order but its first (cheapest site
    index first), so the shipments' costs add up to the plan's shipping cost.
    """
    data, cm = compiled.data, compiled.costs
    keep = plan.quantity > 0
    line, site, qty = plan.line[keep], plan.site[keep], plan.quantity[keep]
    order = data.line_order[line]
    srt = np.lexsort((line, site, order))
    line, site, qty, order = line[srt], site[srt], qty[srt], order[srt]
    key = order * max(data.n_sites, 1) + site
    starts = np.r_[0, np.nonzero(np.diff(key))[0] + 1] if key.shape[0] else key
    ends = np.r_[starts[1:], key.shape[0]] if key.shape[0] else key
    out: list[SiteShipment] = []
    prev_order = -1
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        o, s = int(order[a]), int(site[a])
        o_model = compiled.orders[o]
        units = int(qty[a:b].sum())
        lines = [
            ShipmentLine(
                line_id=o_model.lines[int(ln) - int(data.line_start[o])].id,
                sku=compiled.skus[int(data.line_sku[ln])],
                quantity=int(q),
            )
            for ln, q in zip(line[a:b].tolist(), qty[a:b].tolist(), strict=True)
        ]
        split = data.split_penalty if o == prev_order else 0.0
        prev_order = o
        cost = CostBreakdown(
            fixed=float(cm.fixed[o, s]),
            distance=float(cm.distance_cost[o, s]),
            units=float(cm.per_unit[o, s]) * units,
            handling=float(cm.handling[o, s]) * units,
            lateness=float(cm.lateness_cost[o, s]),
            split=split,
        )
        out.append(
            SiteShipment(
                order_id=o_model.id,
                site_id=compiled.sites[s].id,
                lines=lines,
                distance_km=float(cm.distance_km[o, s]),
                cost=cost,
                cost_total=cost.total,
                promised_date=o_model.promised_date,
                expected_date=compiled.plan_date + dt.timedelta(days=int(cm.transit_days[o, s])),
                days_late=int(cm.days_late[o, s]),
            )
        )
    return out


@dataclass(frozen=True)
class _Left:
    """What the plan leaves: stock per (site, sku), loads per site, sites per order."""

    stock: npt.NDArray[np.int64]
    orders_at: npt.NDArray[np.int64]
    units_at: npt.NDArray[np.float64]
    ships_from: npt.NDArray[np.bool_]  # [order, site]


def _left(compiled: Compiled, plan: AllocationSolution) -> _Left:
    data = compiled.data
    keep = plan.quantity > 0
    used = np.zeros_like(data.available)
    np.add.at(used, (plan.site[keep], data.line_sku[plan.line[keep]]), plan.quantity[keep])
    ships_from = np.zeros((data.n_orders, data.n_sites), dtype=bool)
    ships_from[data.line_order[plan.line[keep]], plan.site[keep]] = True
    units_at = np.bincount(plan.site[keep], weights=plan.quantity[keep], minlength=data.n_sites)
    orders_at = ships_from.sum(axis=0).astype(np.int64)
    return _Left(data.available - used, orders_at, units_at.astype(np.float64), ships_from)


def _room(data: AllocationData, left: _Left, o: int, units: int) -> npt.NDArray[np.bool_]:
    """Per site: order ``o`` could still ship ``units`` more units from it."""
    ships = left.ships_from[o]
    new_ok = (ships.sum() < data.order_max_shipments[o]) & (
        left.orders_at < data.site_capacity_orders
    )
    return (left.units_at + units <= data.site_capacity_units) & (ships | new_ok)


def _room_short(
    stock: npt.NDArray[np.int64], room: npt.NDArray[np.float64], qtys: npt.NDArray[np.int64]
) -> list[int] | None:
    """A set of lines that the sites' unit room cannot carry, or None if all fit.

    Gale's condition: the lines fit iff every subset ``L`` of them has
    ``sum_L q <= sum_s min(room_s, sum_L stock[s, l])``; every subset is tried for up to 10
    lines, else single lines and all lines together.
    """
    n = len(qtys)
    if n <= 10:
        subsets: list[list[int]] = [
            [i for i in range(n) if mask >> i & 1] for mask in range(1, 1 << n)
        ]
    else:
        subsets = [[i] for i in range(n)] + [list(range(n))]
    for sub in subsets:
        carry = np.minimum(room, stock[:, sub].sum(axis=1)).sum()
        if qtys[sub].sum() > carry:
            return sub
    return None


def _ship_complete_blocked(compiled: Compiled, left: _Left, o: int) -> str | None:
    """Why a ship-complete order that ships nothing cannot be shipped whole, or None."""
    data = compiled.data
    lines = np.arange(int(data.line_start[o]), int(data.line_start[o + 1]))
    skus, qtys = data.line_sku[lines], data.line_quantity[lines]
    elig = data.eligible[o]
    whole = elig & np.all(left.stock[:, skus] >= qtys, axis=1)
    if np.any(whole & _room(data, left, o, int(qtys.sum()))):
        return None
    open_sites = elig & _room(data, left, o, 1)
    cover = np.maximum(left.stock[open_sites][:, skus], 0).sum(axis=0)
    lacking = [compiled.skus[int(k)] for k, c, q in zip(skus, cover, qtys, strict=True) if c < q]
    if lacking:
        return f"ship-complete: not enough {', '.join(lacking)} left at eligible sites with room"
    room = np.maximum(data.site_capacity_units - left.units_at, 0)[open_sites]
    short_set = _room_short(np.maximum(left.stock[open_sites][:, skus], 0), room, qtys)
    if short_set is not None:
        names = ", ".join(compiled.skus[int(skus[i])] for i in short_set)
        return f"ship-complete: eligible sites with {names} have no unit room for all of them"
    if data.order_max_shipments[o] == 1:
        return "ship-complete: no single eligible site can ship the whole order"
    return None


def _uneconomic_detail(compiled: Compiled, left: _Left, o: int, ln: int, short: int) -> str:
    """Which site would have been cheapest for the units, and which cost part outweighs."""
    data, cm = compiled.data, compiled.costs
    k = int(data.line_sku[ln])
    ok = data.eligible[o] & (left.stock[:, k] > 0) & _room(data, left, o, 1)
    if not np.any(ok):
        return "shipping it costs more than the unfulfilled penalty"
    room_units = np.maximum(data.site_capacity_units - left.units_at, 0).astype(np.int64)
    q = np.minimum(np.minimum(np.maximum(left.stock[:, k], 0), short), room_units)
    once = np.where(
        left.ships_from[o], 0.0, cm.fixed[o] + cm.distance_cost[o] + cm.lateness_cost[o]
    )
    price = np.where(ok, once + data.unit_cost[o] * q, np.inf)
    s = int(price.argmin())
    new = not left.ships_from[o, s]
    parts = {
        "fixed": float(cm.fixed[o, s]) if new else 0.0,
        "distance": float(cm.distance_cost[o, s]) if new else 0.0,
        "lateness": float(cm.lateness_cost[o, s]) if new else 0.0,
        "per-unit shipping": float(cm.per_unit[o, s]) * int(q[s]),
        "handling": float(cm.handling[o, s]) * int(q[s]),
    }
    holders = data.eligible[o] & (data.available[:, k] > 0)
    unavoidable = float(cm.lateness_cost[o, holders].min()) if np.any(holders) else 0.0
    beyond = dict(parts, lateness=max(parts["lateness"] - unavoidable, 0.0))
    top = max(beyond, key=lambda p: beyond[p])  # unavoidable lateness is in the penalty
    shown = ", ".join(f"{p} {v:.2f}" for p, v in parts.items() if v)
    if parts["lateness"] and unavoidable:
        shown += f"; lateness {unavoidable:.2f} is unavoidable, so in the penalty too"
    pen = float(data.line_penalty[ln]) * int(q[s])
    return (
        f"cheapest: {compiled.sites[s].id} for {int(q[s])} unit(s) costs {price[s]:.2f}"
        f" ({shown}), mostly {top}, against a penalty of {pen:.2f}"
    )


def _reason(
    compiled: Compiled, left: _Left, o: int, ln: int, short: int, blocked: str | None
) -> tuple[str, str]:
    """The most specific true reason for line ``ln`` of order ``o`` and its detail."""
    data = compiled.data
    order = compiled.orders[o]
    k = int(data.line_sku[ln])
    elig = data.eligible[o]
    sku = compiled.skus[k]
    base_ok = compiled.online & compiled.channel_ok[o]
    if blocked is not None:
        return "ship_complete_impossible", blocked
    if not np.any(elig) or data.available[elig, k].sum() == 0:
        if np.any(base_ok & ~compiled.sla_ok[o] & (data.available[:, k] > 0)):
            return "sla_unreachable", f"sites holding {sku} cannot deliver by {order.promised_date}"
        if not np.any(elig):
            return "no_stock", "no site is online for this order's channel"
        return "no_stock", f"no eligible site holds {sku} beyond safety stock"
    has = elig & (left.stock[:, k] > 0)
    if not np.any(has):
        return "no_stock", f"stock of {sku} at eligible sites went to other orders"
    if not np.any(has & _room(data, left, o, 1)):
        if left.ships_from[o].sum() >= data.order_max_shipments[o]:
            return "capacity", (
                f"the sites still holding {sku} are full or the order is at"
                f" max_shipments={order.max_shipments}"
            )
        return "capacity", f"the sites still holding {sku} are at capacity"
    return "uneconomic", _uneconomic_detail(compiled, left, o, ln, short)


def unfulfilled_of(compiled: Compiled, plan: AllocationSolution) -> list[UnfulfilledLine]:
    """Shortfall per line, with the most specific reason that holds.

    In order: a ship-complete order that cannot be shipped whole from the stock and capacity
    the plan leaves (``ship_complete_impossible``, on all its lines); no eligible site at all
    because of a hard SLA (``sla_unreachable``); no stock left at eligible sites
    (``no_stock``); stock left but no site holding it has room, or the order is at its max
    shipments (``capacity``); else shipping costs more than the penalty (``uneconomic``,
    naming the cheapest site and its cost parts).
    """
    data = compiled.data
    shipped = plan.line_shipped(data.n_lines)
    short = data.line_quantity - shipped
    if not np.any(short > 0):
        return []
    left = _left(compiled, plan)
    out: list[UnfulfilledLine] = []
    blocked: dict[int, str | None] = {}
    for ln in np.nonzero(short > 0)[0].tolist():
        o = int(data.line_order[ln])
        order = compiled.orders[o]
        if o not in blocked:
            whole = order.ship_complete and not left.ships_from[o].any()
            blocked[o] = _ship_complete_blocked(compiled, left, o) if whole else None
        reason, detail = _reason(compiled, left, o, ln, int(short[ln]), blocked[o])
        line_model = order.lines[ln - int(data.line_start[o])]
        out.append(_line(order, line_model, int(short[ln]), reason, detail, data.line_penalty[ln]))
    return out


def _line(order, line, qty: int, reason: str, detail: str, pen: float) -> UnfulfilledLine:
    return UnfulfilledLine(
        order_id=order.id,
        line_id=line.id,
        sku=line.sku,
        quantity=qty,
        reason=reason,
        detail=detail,
        penalty=float(pen) * qty,  # type: ignore[arg-type]
    )


def site_loads(compiled: Compiled, shipments: list[SiteShipment]) -> list[SiteLoad]:
    """Orders and units per site against capacity."""
    orders = dict.fromkeys(compiled.site_index, 0)
    units = dict.fromkeys(compiled.site_index, 0)
    for sh in shipments:
        orders[sh.site_id] += 1
        units[sh.site_id] += sum(ln.quantity for ln in sh.lines)
    return [
        SiteLoad(
            site_id=s.id,
            orders=orders[s.id],
            units=units[s.id],
            capacity_orders=s.capacity_orders if s.capacity_orders != UNLIMITED else None,
            capacity_units=s.capacity_units,
        )
        for s in compiled.sites
    ]
