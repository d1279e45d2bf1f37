"""The independent checker: recomputes an allocation from the request alone, never a solver.

It uses its own distance and cost arithmetic (plain ``math``), so a bug in the compile step
or in a solver cannot hide behind itself.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from models.allocation import AllocationRequest, AllocationResult, Order, UnfulfilledLine

_R_KM = 6371.0088


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _R_KM * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def check_allocation(
    request: AllocationRequest,
    result: AllocationResult,
    plan_date: dt.date,
    rejected: list[UnfulfilledLine] | tuple[UnfulfilledLine, ...] = (),
) -> list[str]:
    """Every violation found (empty when the allocation is valid)."""
    errors: list[str] = []
    costs = request.costs
    sites = {s.id: s for s in request.sites}
    orders: dict[object, list[Order]] = defaultdict(list)
    for o in request.orders:
        orders[o.id].append(o)
    first = {oid: os[0] for oid, os in orders.items()}

    # Nothing lost: requested == shipped + unfulfilled for every (order, line).
    requested: dict[tuple[object, object], int] = defaultdict(int)
    for o in request.orders:
        for ln in o.lines:
            requested[(o.id, ln.id)] += max(ln.quantity, 0)
        if not o.lines:
            requested[(o.id, None)] += 0
    accounted: dict[tuple[object, object], int] = defaultdict(int)
    seen_keys: set[tuple[object, object]] = set()
    for sh in result.shipments:
        for ln in sh.lines:
            accounted[(sh.order_id, ln.line_id)] += ln.quantity
            seen_keys.add((sh.order_id, ln.line_id))
    for u in result.unfulfilled:
        accounted[(u.order_id, u.line_id)] += u.quantity
        seen_keys.add((u.order_id, u.line_id))
    for r in rejected:
        requested[(r.order_id, r.line_id)] += r.quantity
    for key, qty in requested.items():
        if key not in seen_keys:
            errors.append(f"order {key[0]!r} line {key[1]!r} is missing from the result")
        elif accounted[key] != qty:
            errors.append(
                f"order {key[0]!r} line {key[1]!r}: shipped + unfulfilled = {accounted[key]}"
                f" but {qty} requested"
            )
    for key in seen_keys - requested.keys():
        errors.append(f"order {key[0]!r} line {key[1]!r} is in the result but not the input")

    # Per shipment: eligibility, sku, cost recomputed.
    stock_used: dict[tuple[object, str], int] = defaultdict(int)
    site_orders: dict[object, int] = defaultdict(int)
    site_units: dict[object, int] = defaultdict(int)
    per_order: dict[object, list] = defaultdict(list)
    shipping_total = 0.0
    band_km = [b.max_km for b in costs.transit]
    for sh in result.shipments:
        site = sites.get(sh.site_id)
        order = first.get(sh.order_id)
        if site is None or order is None:
            errors.append(f"shipment {sh.order_id!r}@{sh.site_id!r}: unknown order or site")
            continue
        per_order[sh.order_id].append(sh)
        if order.payment_status != "authorised":
            errors.append(f"order {order.id!r} ships but its payment is {order.payment_status}")
        if not site.online:
            errors.append(f"order {order.id!r} ships from offline site {site.id!r}")
        if site.channels and order.channel not in site.channels:
            errors.append(f"order {order.id!r} ({order.channel}) ships from {site.id!r}")
        lines = {ln.id: ln for ln in order.lines}
        units = 0
        for ln in sh.lines:
            src = lines.get(ln.line_id)
            if src is None or src.sku != ln.sku or ln.quantity <= 0:
                errors.append(f"shipment {order.id!r}@{site.id!r}: bad line {ln.line_id!r}")
                continue
            stock_used[(site.id, ln.sku)] += ln.quantity
            units += ln.quantity
        site_orders[site.id] += 1
        site_units[site.id] += units
        if order.location is None:
            errors.append(f"order {order.id!r} ships without a location")
            continue
        km = _km(order.location, site.location)
        i = next((j for j, b in enumerate(band_km) if km <= b), len(band_km) - 1)
        transit = costs.transit[i].days
        expected = plan_date + dt.timedelta(days=transit)
        late = max((expected - order.promised_date).days, 0) if order.promised_date else 0
        if costs.sla == "hard" and late > 0:
            errors.append(f"order {order.id!r} from {site.id!r} is {late} days late (hard SLA)")
        ship = costs.shipping
        fixed, per_unit = ship.fixed, ship.per_unit
        if ship.bands:
            band = next((b for b in ship.bands if km <= b.max_km), ship.bands[-1])
            fixed, per_unit = band.fixed, band.per_unit
        want = {
            "fixed": fixed,
            "distance": ship.per_km * km,
            "units": per_unit * units,
            "handling": site.handling_cost_per_unit * units,
            "lateness": costs.lateness_penalty_per_day * late if costs.sla == "soft" else 0.0,
        }
        for part, value in want.items():
            if not _close(getattr(sh.cost, part), value):
                errors.append(
                    f"shipment {order.id!r}@{site.id!r}: {part} cost {getattr(sh.cost, part)}"
                    f" != recomputed {value}"
                )
        if not _close(sh.cost_total, sh.cost.total):
            errors.append(f"shipment {order.id!r}@{site.id!r}: cost_total != sum of parts")
        if not _close(sh.distance_km, km) or sh.expected_date != expected:
            errors.append(f"shipment {order.id!r}@{site.id!r}: distance or expected date wrong")
        shipping_total += sh.cost_total

    # Stock (safety stock kept) and capacities.
    available = {(r.site_id, r.sku): r.on_hand - r.safety_stock for r in request.stock}
    for key, used in stock_used.items():
        if used > available.get(key, 0):
            errors.append(
                f"site {key[0]!r} sku {key[1]!r}: {used} shipped, only "
                f"{max(available.get(key, 0), 0)} above safety stock"
            )
    for sid, site in sites.items():
        if site.capacity_orders is not None and site_orders[sid] > site.capacity_orders:
            errors.append(f"site {sid!r}: {site_orders[sid]} orders > {site.capacity_orders}")
        if site.capacity_units is not None and site_units[sid] > site.capacity_units:
            errors.append(f"site {sid!r}: {site_units[sid]} units > {site.capacity_units}")

    # Orders: one shipment per site, max shipments, ship-complete, split penalty.
    splits = 0
    for oid, shs in per_order.items():
        order = first[oid]
        if len({sh.site_id for sh in shs}) != len(shs):
            errors.append(f"order {oid!r} has two shipments from one site")
        if order.max_shipments is not None and len(shs) > order.max_shipments:
            errors.append(f"order {oid!r}: {len(shs)} shipments > max {order.max_shipments}")
        shipped = sum(ln.quantity for sh in shs for ln in sh.lines)
        if order.ship_complete and shipped != sum(ln.quantity for ln in order.lines):
            errors.append(f"order {oid!r} is ship-complete but ships {shipped} units partly")
        splits += len(shs) - 1
        split_cost = sum(sh.cost.split for sh in shs)
        if not _close(split_cost, costs.split_penalty * (len(shs) - 1)):
            errors.append(f"order {oid!r}: split cost {split_cost} != recomputed")

    # Totals.
    penalty = 0.0
    for u in result.unfulfilled:
        if u.reason in ("invalid_order", "payment_not_authorised"):
            continue
        order = first.get(u.order_id)
        if order is not None:
            penalty += costs.penalty_for(order.priority) * u.quantity
    t = result.totals
    if not _close(t.shipping_cost, shipping_total):
        errors.append(f"totals.shipping_cost {t.shipping_cost} != recomputed {shipping_total}")
    if not _close(t.unfulfilled_penalty, penalty):
        errors.append(f"totals.unfulfilled_penalty {t.unfulfilled_penalty} != {penalty}")
    if not _close(t.objective, shipping_total + penalty):
        errors.append(f"totals.objective {t.objective} != {shipping_total + penalty}")
    if t.shipments != len(result.shipments) or t.splits != splits:
        errors.append("totals.shipments or totals.splits do not match the shipments")
    return errors
