"""Per-order explanations: chosen sites, cost breakdown, and the next-best alternative.

In the spirit of IBM Sterling's optimizer explainer: for each order, what it costs where it
ships, which sites were ruled out and why, and what the best other choice would have cost,
given what every other order took (the order's own stock and capacity are given back).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.allocation.compile import Compiled
from models.allocation import (
    Alternative,
    CostBreakdown,
    OrderExplanation,
    SiteShipment,
    UnfulfilledLine,
)
from models.common import Id
from solvers.allocation.data import AllocationData, AllocationSolution


@dataclass(frozen=True)
class _Room:
    """What the plan leaves for each order: stock, capacity, and its best single site.

    Arrays are ``[order, site]`` unless named per line; each order is given back the stock
    and capacity it took itself.
    """

    ships_from: npt.NDArray[np.bool_]  # the order ships from the site
    own_units: npt.NDArray[np.float64]  # units the order ships from the site
    line_left: npt.NDArray[np.float64]  # [line, site]: stock the line could take there
    alt_site: npt.NDArray[np.int64]  # per order: its cheapest other whole-order site
    alt_best: npt.NDArray[np.float64]  # per order: that site's cost (inf: none)
    lacks_stock: npt.NDArray[np.bool_]  # the site holds none of some line's sku
    full: npt.NDArray[np.bool_]  # per site: at capacity in orders or units


def _room(data: AllocationData, plan: AllocationSolution) -> _Room:
    """Stock and capacity left by the plan, and each order's best other single site."""
    n_o, n_s = data.n_orders, data.n_sites
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
    lacks_stock = (
        ~np.logical_and.reduceat((data.available[:, data.line_sku].T > 0), starts, axis=0)
        if data.n_lines
        else np.zeros((n_o, n_s), dtype=bool)
    )
    return _Room(
        ships_from=ships_from,
        own_units=own_units,
        line_left=line_left,
        alt_site=alt_site,
        alt_best=alt_cost[np.arange(n_o), alt_site],
        lacks_stock=lacks_stock,
        full=(orders_at >= data.site_capacity_orders) | (units_at >= data.site_capacity_units),
    )


def _next_best(
    compiled: Compiled, o: int, room: _Room, shipped: bool, total: float
) -> Alternative | None:
    """The best other way to serve order ``o``: a whole other site, else each line from its
    cheapest other site, else leaving it unfulfilled (None for an order that ships nothing
    and has no whole site)."""
    data = compiled.data
    best = room.alt_best[o]
    if np.isfinite(best):
        site_id = compiled.sites[int(room.alt_site[o])].id
        return Alternative(
            site_ids=[site_id],
            cost_total=float(best),
            extra_cost=float(best - total),
            note=f"whole order from {site_id}"
            + (
                " (cheaper alone, but its stock or capacity serves other orders better)"
                if best < total - 1e-9
                else ""
            ),
        )
    if not shipped:
        return None
    a, b = int(data.line_start[o]), int(data.line_start[o + 1])
    full_penalty = float((data.line_penalty * data.line_quantity)[a:b].sum())
    alternative = _split_alternative(compiled, o, room.line_left, room.ships_from, room.own_units)
    if alternative is None or alternative.cost_total > full_penalty:
        alternative = Alternative(
            site_ids=[],
            cost_total=full_penalty,
            note="no other single site can ship it all: leaving it unfulfilled",
            extra_cost=0.0,
        )
    alternative.extra_cost = alternative.cost_total - total
    return alternative


def _excluded(compiled: Compiled, o: int, room: _Room) -> dict[str, int]:
    """Sites ruled out for order ``o``, counted by reason (reasons with none left out)."""
    data, online = compiled.data, compiled.online
    channel_ok, sla_ok = compiled.channel_ok[o], compiled.sla_ok[o]
    eligible, lacks = data.eligible[o], room.lacks_stock[o]
    excluded = {
        "offline": int((~online).sum()),
        "channel": int((online & ~channel_ok).sum()),
        "sla": int((online & channel_ok & ~sla_ok).sum()),
        "no_stock": int((eligible & lacks).sum()),
        "capacity": int((eligible & ~lacks & room.full & ~room.ships_from[o]).sum()),
    }
    return {k: v for k, v in excluded.items() if v}


def explain(
    compiled: Compiled,
    plan: AllocationSolution,
    shipments: list[SiteShipment],
    unfulfilled: list[UnfulfilledLine],
) -> list[OrderExplanation]:
    """One explanation per valid order."""
    if compiled.data.n_orders == 0:
        return []
    room = _room(compiled.data, plan)
    ship_by_order: dict[Id, list[SiteShipment]] = {}
    for sh in shipments:
        ship_by_order.setdefault(sh.order_id, []).append(sh)
    pen_by_order: dict[Id, float] = {}
    short_by_order: dict[Id, int] = {}
    for u in unfulfilled:
        pen_by_order[u.order_id] = pen_by_order.get(u.order_id, 0.0) + u.penalty
        short_by_order[u.order_id] = short_by_order.get(u.order_id, 0) + u.quantity
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
        short = short_by_order.get(order.id, 0)
        out.append(
            OrderExplanation(
                order_id=order.id,
                status="unfulfilled" if not shs else ("partial" if short else "allocated"),
                site_ids=[sh.site_id for sh in shs],
                cost=cost,
                cost_total=total,
                unfulfilled_penalty=penalty,
                next_best=_next_best(compiled, o, room, bool(shs), total),
                excluded=_excluded(compiled, o, room),
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
