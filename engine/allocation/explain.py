"""Per-order explanations: chosen sites, cost breakdown, and the next-best alternative.

In the spirit of IBM Sterling's optimizer explainer: for each order, what it costs where it
ships, which sites were ruled out and why, and what the best other choice would have cost,
given what every other order took (the order's own stock and capacity are given back).
"""

from __future__ import annotations

import numpy as np

from engine.allocation.compile import Compiled
from models.allocation import (
    Alternative,
    CostBreakdown,
    OrderExplanation,
    SiteShipment,
    UnfulfilledLine,
)
from solvers.allocation.data import AllocationSolution


def explain(
    compiled: Compiled,
    plan: AllocationSolution,
    shipments: list[SiteShipment],
    unfulfilled: list[UnfulfilledLine],
) -> list[OrderExplanation]:
    """One explanation per valid order."""
    data = compiled.data
    n_o, n_s = data.n_orders, data.n_sites
    if n_o == 0:
        return []
    keep = plan.quantity > 0
    p_line, p_site, p_qty = plan.line[keep], plan.site[keep], plan.quantity[keep]
    p_order = data.line_order[p_line]
    used = np.zeros_like(data.available)
    np.add.at(used, (p_site, data.line_sku[p_line]), p_qty)
    left = data.available - used
    ships_from = np.zeros((n_o, n_s), dtype=bool)
    ships_from[p_order, p_site] = True
    own_units = np.zeros((n_o, n_s))
    np.add.at(own_units, (p_order, p_site), p_qty)
    orders_at = ships_from.sum(axis=0)
    units_at = own_units.sum(axis=0)
    cap_orders_left = data.site_capacity_orders[None, :] - orders_at[None, :] + ships_from
    cap_units_left = data.site_capacity_units[None, :] - units_at[None, :] + own_units
    # Per line and site: stock it could take, giving back what its own order took there.
    own_line = np.zeros((data.n_lines, n_s))
    np.add.at(own_line, (p_line, p_site), p_qty)
    line_left = left[:, data.line_sku].T + own_line
    fits = line_left >= data.line_quantity[:, None]
    starts = data.line_start[:-1]
    whole = np.logical_and.reduceat(fits, starts, axis=0) if data.n_lines else fits
    units_o = np.bincount(data.line_order, weights=data.line_quantity, minlength=n_o)
    capacity_ok = (cap_orders_left >= 1) & (cap_units_left >= units_o[:, None])
    single_ok = whole & capacity_ok & data.eligible
    single_cost = data.shipment_cost + data.unit_cost * units_o[:, None]
    only_site = np.where(ships_from.sum(axis=1) == 1, ships_from.argmax(axis=1), -1)
    blocked = np.zeros((n_o, n_s), dtype=bool)
    has_one = only_site >= 0
    blocked[np.nonzero(has_one)[0], only_site[has_one]] = True
    alt_cost = np.where(single_ok & ~blocked, single_cost, np.inf)
    alt_site = alt_cost.argmin(axis=1)
    alt_best = alt_cost[np.arange(n_o), alt_site]

    lacks_stock = (
        ~np.logical_and.reduceat((data.available[:, data.line_sku].T > 0), starts, axis=0)
        if data.n_lines
        else np.zeros((n_o, n_s), dtype=bool)
    )
    full = (orders_at >= data.site_capacity_orders) | (units_at >= data.site_capacity_units)

    ship_by_order: dict[object, list[SiteShipment]] = {}
    for sh in shipments:
        ship_by_order.setdefault(sh.order_id, []).append(sh)
    pen_by_order: dict[object, float] = {}
    short_by_order: dict[object, int] = {}
    for u in unfulfilled:
        pen_by_order[u.order_id] = pen_by_order.get(u.order_id, 0.0) + u.penalty
        short_by_order[u.order_id] = short_by_order.get(u.order_id, 0) + u.quantity
    online = compiled.online
    out: list[OrderExplanation] = []
    for o, order in enumerate(compiled.orders):
        shs = ship_by_order.get(order.id, [])
        cost = CostBreakdown(
            **{
                part: sum(getattr(sh.cost, part) for sh in shs)
                for part in ("fixed", "distance", "units", "handling", "lateness", "split")
            }
        )
        penalty = pen_by_order.get(order.id, 0.0)
        total = cost.total + penalty
        a, b = int(data.line_start[o]), int(data.line_start[o + 1])
        full_penalty = float((data.line_penalty * data.line_quantity)[a:b].sum())
        next_best: Alternative | None = None
        if np.isfinite(alt_best[o]):
            s = int(alt_site[o])
            next_best = Alternative(
                site_ids=[compiled.sites[s].id],
                cost_total=float(alt_best[o]),
                extra_cost=float(alt_best[o] - total),
                note=f"whole order from {compiled.sites[s].id}"
                + (
                    " (cheaper alone, but its stock or capacity serves other orders better)"
                    if alt_best[o] < total - 1e-9
                    else ""
                ),
            )
        elif shs:
            next_best = _split_alternative(compiled, o, line_left, ships_from, own_units)
            if next_best is None or next_best.cost_total > full_penalty:
                next_best = Alternative(
                    site_ids=[],
                    cost_total=full_penalty,
                    note="no other single site can ship it all: leaving it unfulfilled",
                    extra_cost=0.0,
                )
            next_best.extra_cost = next_best.cost_total - total
        excluded = {
            "offline": int((~online).sum()),
            "channel": int((online & ~compiled.channel_ok[o]).sum()),
            "sla": int((online & compiled.channel_ok[o] & ~compiled.sla_ok[o]).sum()),
            "no_stock": int((data.eligible[o] & lacks_stock[o]).sum()),
            "capacity": int((data.eligible[o] & ~lacks_stock[o] & full & ~ships_from[o]).sum()),
        }
        short = short_by_order.get(order.id, 0)
        status = "unfulfilled" if not shs else ("partial" if short else "allocated")
        out.append(
            OrderExplanation(
                order_id=order.id,
                status=status,
                site_ids=[sh.site_id for sh in shs],
                cost=cost,
                cost_total=total,
                unfulfilled_penalty=penalty,
                next_best=next_best,
                excluded={k: v for k, v in excluded.items() if v},
            )
        )
    return out


def _split_alternative(
    compiled: Compiled,
    o: int,
    line_left: np.ndarray,
    ships_from: np.ndarray,
    own_units: np.ndarray,
) -> Alternative | None:
    """Each line from its cheapest eligible site other than the order's main site."""
    data = compiled.data
    main = int(own_units[o].argmax()) if ships_from[o].any() else -1
    lines = range(int(data.line_start[o]), int(data.line_start[o + 1]))
    used: list[int] = []
    cost = 0.0
    short = 0
    for ln in lines:
        q = int(data.line_quantity[ln])
        ok = data.eligible[o] & (line_left[ln] >= q)
        if main >= 0:
            ok[main] = False
        if not ok.any():
            cost += float(data.line_penalty[ln]) * q
            short += q
            continue
        price = np.where(
            ok,
            data.unit_cost[o] * q
            + np.where(np.isin(np.arange(data.n_sites), used), 0.0, data.shipment_cost[o]),
            np.inf,
        )
        s = int(price.argmin())
        cost += float(price[s])
        if s not in used:
            used.append(s)
    if not used:
        return None
    cost += data.split_penalty * (len(used) - 1)
    return Alternative(
        site_ids=[compiled.sites[s].id for s in used],
        cost_total=cost,
        extra_cost=0.0,
        note="each line from its cheapest other site"
        + (f", not {compiled.sites[main].id}" if main >= 0 else "")
        + (f"; {short} unit(s) left unfulfilled" if short else ""),
    )
