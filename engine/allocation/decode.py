"""Turn a solver plan back into shipments, unfulfilled lines with reasons, loads and totals."""

from __future__ import annotations

import datetime as dt

import numpy as np

from engine.allocation.compile import UNLIMITED, Compiled
from models.allocation import (
    CostBreakdown,
    ShipmentLine,
    SiteLoad,
    SiteShipment,
    UnfulfilledLine,
)
from solvers.allocation.data import AllocationSolution


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


def unfulfilled_of(compiled: Compiled, plan: AllocationSolution) -> list[UnfulfilledLine]:
    """Shortfall per line, with the most specific reason that holds.

    In order: ship-complete order whose lines cannot all be had at eligible sites
    (``ship_complete_impossible``); no eligible site at all because of a hard SLA
    (``sla_unreachable``); no stock left at eligible sites (``no_stock``); stock left but the
    sites holding it are full, or the order is at its max shipments (``capacity``); else the
    optimiser judged shipping dearer than the penalty (``uneconomic``).
    """
    data = compiled.data
    shipped = plan.line_shipped(data.n_lines)
    short = data.line_quantity - shipped
    if not np.any(short > 0):
        return []
    keep = plan.quantity > 0
    used = np.zeros_like(data.available)
    np.add.at(used, (plan.site[keep], data.line_sku[plan.line[keep]]), plan.quantity[keep])
    left = data.available - used
    o_of = data.line_order[plan.line[keep]]
    pairs = np.unique(o_of * max(data.n_sites, 1) + plan.site[keep])
    orders_at = np.bincount(pairs % max(data.n_sites, 1), minlength=data.n_sites)
    units_at = np.bincount(plan.site[keep], weights=plan.quantity[keep], minlength=data.n_sites)
    full = (orders_at >= data.site_capacity_orders) | (units_at >= data.site_capacity_units)
    n_ship = np.bincount(pairs // max(data.n_sites, 1), minlength=data.n_orders)
    base_ok = compiled.online[None, :] & compiled.channel_ok
    out: list[UnfulfilledLine] = []
    line_order = data.line_order
    for ln in np.nonzero(short > 0)[0].tolist():
        o = int(line_order[ln])
        order = compiled.orders[o]
        line_model = order.lines[ln - int(data.line_start[o])]
        k = int(data.line_sku[ln])
        elig = data.eligible[o]
        sku = compiled.skus[k]
        if order.ship_complete and shipped[ln] == 0:
            lines = range(int(data.line_start[o]), int(data.line_start[o + 1]))
            lacking = [
                compiled.skus[int(data.line_sku[j])]
                for j in lines
                if data.available[elig, data.line_sku[j]].sum() < data.line_quantity[j]
            ]
            one_site = np.any(
                np.all(
                    data.available[elig][:, data.line_sku[list(lines)]]
                    >= data.line_quantity[list(lines)],
                    axis=1,
                )
            )
            if lacking or (data.order_max_shipments[o] < len(lines) and not one_site):
                detail = (
                    f"ship-complete: not enough stock at eligible sites for {', '.join(lacking)}"
                    if lacking
                    else "ship-complete: no site combination within max_shipments"
                )
                out.append(
                    _line(
                        order,
                        line_model,
                        int(short[ln]),
                        "ship_complete_impossible",
                        detail,
                        data.line_penalty[ln],
                    )
                )
                continue
        if not np.any(elig) or data.available[elig, k].sum() == 0:
            if compiled.data.eligible.shape[1] and np.any(
                base_ok[o] & ~compiled.sla_ok[o] & (data.available[:, k] > 0)
            ):
                reason, detail = (
                    "sla_unreachable",
                    (f"sites holding {sku} cannot deliver by {order.promised_date}"),
                )
            elif not np.any(elig):
                reason, detail = "no_stock", "no site is online for this order's channel"
            else:
                reason, detail = "no_stock", f"no eligible site holds {sku} beyond safety stock"
        elif left[elig, k].sum() <= 0:
            reason, detail = "no_stock", f"stock of {sku} at eligible sites went to other orders"
        elif np.all(full[elig & (left[:, k] > 0)]):
            reason, detail = "capacity", f"the sites still holding {sku} are at capacity"
        elif n_ship[o] >= data.order_max_shipments[o]:
            reason, detail = "capacity", f"order is at max_shipments={order.max_shipments}"
        else:
            reason, detail = "uneconomic", "shipping costs more than the unfulfilled penalty"
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
