"""The independent checker: recomputes an allocation from the request alone, never a solver.

It uses its own distance and cost arithmetic (plain ``math``), so a bug in the compile step
or in a solver cannot hide behind itself. It checks, step by step:

* accounting: every requested unit is shipped or unfulfilled, and nothing else is;
* each shipment: the order may ship (paid, site online, channel), its lines are the order's,
  and its distance, expected date and cost parts are what the settings give;
* stock above safety stock and site capacities;
* orders: one shipment per site, max shipments, ship-complete, split penalty;
* the totals;
* every unfulfilled reason, and every explanation (``evaluate_reasons``).

Each finding is a :class:`~models.verdict.Violation` naming the order, line or site.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.allocation.evaluate_reasons import (
    SiteOption,
    check_reasons,
    free_sites,
    site_options,
    unit_penalty,
)
from models.allocation import (
    AllocationEvaluation,
    AllocationRequest,
    AllocationResult,
    Order,
    Site,
    SiteShipment,
    UnfulfilledLine,
)
from models.common import Coordinates, Id
from models.status import UnfulfilledReason, ViolationCode
from models.verdict import Violation

_R_KM = 6371.0088

#: An (order id, line id) pair; the line id is None for an order without lines.
_LineKey = tuple[Id, Id | None]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two ``[lon, lat]`` points, in km."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _R_KM * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


def _close(a: float, b: float) -> bool:
    """Equal within a relative 1e-6 (absolute below 1)."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@dataclass
class _Report:
    """Collects violations."""

    violations: list[Violation] = field(default_factory=list)

    def add(
        self,
        code: ViolationCode,
        message: str,
        order: Id | None = None,
        line: Id | None = None,
        site: Id | None = None,
    ) -> None:
        self.violations.append(
            Violation(code=code, message=message, order_id=order, line_id=line, site_id=site)
        )


@dataclass(frozen=True)
class _Context:
    """The request, looked up by id."""

    request: AllocationRequest
    plan_date: dt.date
    sites: dict[Id, Site]
    first: dict[Id, Order]  # an order id's first order (ids may repeat in the input)


@dataclass
class _Tally:
    """What the shipments add up to, gathered while each one is checked."""

    stock_used: dict[tuple[Id, str], int] = field(default_factory=lambda: defaultdict(int))
    site_orders: dict[Id, int] = field(default_factory=lambda: defaultdict(int))
    site_units: dict[Id, int] = field(default_factory=lambda: defaultdict(int))
    per_order: dict[Id, list[SiteShipment]] = field(default_factory=lambda: defaultdict(list))
    shipping_cost: float = 0.0
    units_shipped: int = 0


def _check_accounting(
    request: AllocationRequest,
    result: AllocationResult,
    rejected: Sequence[UnfulfilledLine],
    report: _Report,
) -> None:
    """Nothing lost: requested == shipped + unfulfilled for every (order, line)."""
    requested: dict[_LineKey, int] = defaultdict(int)
    for o in request.orders:
        for ln in o.lines:
            requested[(o.id, ln.id)] += max(ln.quantity, 0)
        if not o.lines:
            requested[(o.id, None)] += 0
    for r in rejected:
        requested[(r.order_id, r.line_id)] += r.quantity
    accounted: dict[_LineKey, int] = defaultdict(int)
    seen: set[_LineKey] = set()
    for sh in result.shipments:
        for sl in sh.lines:
            accounted[(sh.order_id, sl.line_id)] += sl.quantity
            seen.add((sh.order_id, sl.line_id))
    for u in result.unfulfilled:
        accounted[(u.order_id, u.line_id)] += u.quantity
        seen.add((u.order_id, u.line_id))
    for (oid, lid), qty in requested.items():
        if (oid, lid) not in seen:
            report.add(
                ViolationCode.LINE_MISSING,
                f"order {oid!r} line {lid!r} is missing from the result",
                oid,
                lid,
            )
        elif accounted[(oid, lid)] != qty:
            report.add(
                ViolationCode.LINE_QUANTITY_MISMATCH,
                f"order {oid!r} line {lid!r}: shipped + unfulfilled = {accounted[(oid, lid)]}"
                f" but {qty} requested",
                oid,
                lid,
            )
    for oid, lid in seen - requested.keys():
        report.add(
            ViolationCode.UNKNOWN_LINE,
            f"order {oid!r} line {lid!r} is in the result but not the input",
            oid,
            lid,
        )


def _check_eligibility(order: Order, site: Site, report: _Report) -> None:
    """The order may ship at all, and from this site."""
    if order.payment_status != "authorised":
        report.add(
            ViolationCode.PAYMENT_NOT_AUTHORISED,
            f"order {order.id!r} ships but its payment is {order.payment_status}",
            order.id,
            site=site.id,
        )
    if not site.online:
        report.add(
            ViolationCode.SITE_OFFLINE,
            f"order {order.id!r} ships from offline site {site.id!r}",
            order.id,
            site=site.id,
        )
    if site.channels and order.channel not in site.channels:
        report.add(
            ViolationCode.CHANNEL_NOT_SERVED,
            f"order {order.id!r} ({order.channel}) ships from {site.id!r}",
            order.id,
            site=site.id,
        )


def _count_lines(order: Order, site: Site, sh: SiteShipment, tally: _Tally, report: _Report) -> int:
    """Check the shipment's lines against the order's, tally the stock; return its units."""
    lines = {ln.id: ln for ln in order.lines}
    units = 0
    for sl in sh.lines:
        src = lines.get(sl.line_id)
        if src is None or src.sku != sl.sku or sl.quantity <= 0:
            report.add(
                ViolationCode.BAD_SHIPMENT_LINE,
                f"shipment {order.id!r}@{site.id!r}: bad line {sl.line_id!r}",
                order.id,
                sl.line_id,
                site.id,
            )
            continue
        tally.stock_used[(site.id, sl.sku)] += sl.quantity
        units += sl.quantity
    return units


def _check_shipment_cost(
    ctx: _Context,
    order: Order,
    location: Coordinates,
    site: Site,
    sh: SiteShipment,
    units: int,
    report: _Report,
) -> None:
    """Distance, expected date, lateness and every cost part, recomputed from the settings."""
    costs = ctx.request.costs
    km = _km(location, site.location)
    band_km = [b.max_km for b in costs.transit]
    i = next((j for j, b in enumerate(band_km) if km <= b), len(band_km) - 1)
    expected = ctx.plan_date + dt.timedelta(days=costs.transit[i].days)
    late = max((expected - order.promised_date).days, 0) if order.promised_date else 0
    where = f"shipment {order.id!r}@{site.id!r}"

    def add(code: ViolationCode, message: str) -> None:
        report.add(code, message, order.id, site=site.id)

    if costs.sla == "hard" and late > 0:
        add(
            ViolationCode.HARD_SLA_LATE,
            f"order {order.id!r} from {site.id!r} is {late} days late (hard SLA)",
        )
    ship = costs.shipping
    fixed, per_unit = ship.fixed, ship.per_unit
    if ship.bands:
        band = next((b for b in ship.bands if km <= b.max_km), ship.bands[-1])
        fixed, per_unit = band.fixed, band.per_unit
    want = {
        "fixed": fixed,
        "distance": ship.per_km * km,
        "units": per_unit * units,
        "handling": costs.handling_for(site) * units,
        "lateness": costs.lateness_penalty_per_day * late if costs.sla == "soft" else 0.0,
    }
    for part, value in want.items():
        if not _close(getattr(sh.cost, part), value):
            add(
                ViolationCode.COST_MISMATCH,
                f"{where}: {part} cost {getattr(sh.cost, part)} != recomputed {value}",
            )
    if not _close(sh.cost_total, sh.cost.total):
        add(ViolationCode.COST_MISMATCH, f"{where}: cost_total != sum of parts")
    if not _close(sh.distance_km, km):
        add(
            ViolationCode.DISTANCE_MISMATCH,
            f"{where}: distance_km {sh.distance_km} != recomputed {km}",
        )
    if sh.expected_date != expected:
        add(
            ViolationCode.EXPECTED_DATE_MISMATCH,
            f"{where}: expected_date {sh.expected_date} != recomputed {expected}",
        )


def _check_shipment(ctx: _Context, sh: SiteShipment, tally: _Tally, report: _Report) -> None:
    """One shipment: known order and site, eligibility, lines, then its cost."""
    site = ctx.sites.get(sh.site_id)
    order = ctx.first.get(sh.order_id)
    if site is None or order is None:
        report.add(
            ViolationCode.UNKNOWN_ORDER if order is None else ViolationCode.UNKNOWN_SITE,
            f"shipment {sh.order_id!r}@{sh.site_id!r}: unknown order or site",
            sh.order_id,
            site=sh.site_id,
        )
        return
    tally.per_order[sh.order_id].append(sh)
    _check_eligibility(order, site, report)
    units = _count_lines(order, site, sh, tally, report)
    tally.site_orders[site.id] += 1
    tally.site_units[site.id] += units
    tally.units_shipped += units
    if order.location is None:
        report.add(
            ViolationCode.NO_LOCATION,
            f"order {order.id!r} ships without a location",
            order.id,
            site=site.id,
        )
        return
    _check_shipment_cost(ctx, order, order.location, site, sh, units, report)
    tally.shipping_cost += sh.cost_total


def _check_stock_and_sites(ctx: _Context, tally: _Tally, report: _Report) -> None:
    """Stock (safety stock kept) and site capacities."""
    available = {(r.site_id, r.sku): r.on_hand - r.safety_stock for r in ctx.request.stock}
    for (sid, sku), used in tally.stock_used.items():
        if used > available.get((sid, sku), 0):
            report.add(
                ViolationCode.STOCK_EXCEEDED,
                f"site {sid!r} sku {sku!r}: {used} shipped, only "
                f"{max(available.get((sid, sku), 0), 0)} above safety stock",
                site=sid,
            )
    for sid, site in ctx.sites.items():
        orders, units = tally.site_orders[sid], tally.site_units[sid]
        if site.capacity_orders is not None and orders > site.capacity_orders:
            report.add(
                ViolationCode.SITE_CAPACITY,
                f"site {sid!r}: {orders} orders > {site.capacity_orders}",
                site=sid,
            )
        if site.capacity_units is not None and units > site.capacity_units:
            report.add(
                ViolationCode.SITE_CAPACITY,
                f"site {sid!r}: {units} units > {site.capacity_units}",
                site=sid,
            )


def _check_orders(ctx: _Context, tally: _Tally, report: _Report) -> int:
    """One shipment per site, max shipments, ship-complete, split penalty; return the splits."""
    split_penalty = ctx.request.costs.split_penalty
    splits = 0
    for oid, shs in tally.per_order.items():
        order = ctx.first[oid]
        if len({sh.site_id for sh in shs}) != len(shs):
            report.add(
                ViolationCode.SITE_SHIPS_ORDER_TWICE,
                f"order {oid!r} has two shipments from one site",
                oid,
            )
        if order.max_shipments is not None and len(shs) > order.max_shipments:
            report.add(
                ViolationCode.MAX_SHIPMENTS,
                f"order {oid!r}: {len(shs)} shipments > max {order.max_shipments}",
                oid,
            )
        shipped = sum(sl.quantity for sh in shs for sl in sh.lines)
        if order.ship_complete and shipped != sum(ln.quantity for ln in order.lines):
            report.add(
                ViolationCode.SHIP_COMPLETE,
                f"order {oid!r} is ship-complete but ships {shipped} units partly",
                oid,
            )
        splits += len(shs) - 1
        split_cost = sum(sh.cost.split for sh in shs)
        if not _close(split_cost, split_penalty * (len(shs) - 1)):
            report.add(
                ViolationCode.COST_MISMATCH,
                f"order {oid!r}: split cost {split_cost} != recomputed",
                oid,
            )
    return splits


def _penalty(ctx: _Context, result: AllocationResult) -> float:
    """The unfulfilled penalty: per unit, by priority, plus the order's unavoidable lateness
    (its least late eligible site's) spread over the line; held and invalid orders cost
    nothing (whether they truly are is checked with the reasons)."""
    penalty = 0.0
    free = free_sites(ctx.request)
    options: dict[Id, list[SiteOption]] = {}
    for u in result.unfulfilled:
        if u.reason in (UnfulfilledReason.INVALID_ORDER, UnfulfilledReason.PAYMENT_NOT_AUTHORISED):
            continue
        order = ctx.first.get(u.order_id)
        if order is None:
            continue
        line = next((ln for ln in order.lines if ln.id == u.line_id), None)
        if order.location is None or line is None:
            penalty += ctx.request.costs.penalty_for(order.priority) * u.quantity
            continue
        if order.id not in options:
            options[order.id] = site_options(ctx.request, ctx.plan_date, order)
        pen = unit_penalty(ctx.request, options[order.id], order, free[line.sku], line.quantity)
        penalty += pen * u.quantity
    return penalty


def _check_totals(
    result: AllocationResult, tally: _Tally, penalty: float, splits: int, report: _Report
) -> None:
    """The reported totals against the recomputed ones."""
    t = result.totals
    shipping = tally.shipping_cost
    if not _close(t.shipping_cost, shipping):
        report.add(
            ViolationCode.COST_MISMATCH,
            f"totals.shipping_cost {t.shipping_cost} != recomputed {shipping}",
        )
    if not _close(t.unfulfilled_penalty, penalty):
        report.add(
            ViolationCode.COST_MISMATCH,
            f"totals.unfulfilled_penalty {t.unfulfilled_penalty} != {penalty}",
        )
    if not _close(t.objective, shipping + penalty):
        report.add(
            ViolationCode.COST_MISMATCH, f"totals.objective {t.objective} != {shipping + penalty}"
        )
    if t.shipments != len(result.shipments) or t.splits != splits:
        report.add(
            ViolationCode.SUMMARY_MISMATCH,
            "totals.shipments or totals.splits do not match the shipments",
        )
    if t.units_shipped != tally.units_shipped:
        report.add(
            ViolationCode.SUMMARY_MISMATCH,
            f"totals.units_shipped {t.units_shipped} != recomputed {tally.units_shipped}",
        )


def evaluate_allocation(
    request: AllocationRequest,
    result: AllocationResult,
    plan_date: dt.date,
    rejected: Sequence[UnfulfilledLine] = (),
) -> AllocationEvaluation:
    """Check ``result`` against ``request`` from scratch and return the verdict.

    ``rejected`` are the lines refused while reading the input (not in ``request``): they
    count as requested, and must come back unfulfilled.
    """
    first: dict[Id, Order] = {}
    for o in request.orders:
        first.setdefault(o.id, o)
    ctx = _Context(request, plan_date, {s.id: s for s in request.sites}, first)
    report = _Report()
    _check_accounting(request, result, rejected, report)
    tally = _Tally()
    for sh in result.shipments:
        _check_shipment(ctx, sh, tally, report)
    _check_stock_and_sites(ctx, tally, report)
    splits = _check_orders(ctx, tally, report)
    penalty = _penalty(ctx, result)
    _check_totals(result, tally, penalty, splits, report)
    report.violations.extend(check_reasons(request, result, plan_date, rejected))
    return AllocationEvaluation(
        feasible=not report.violations,
        violations=report.violations,
        cost=tally.shipping_cost + penalty,
        shipping_cost=tally.shipping_cost,
        unfulfilled_penalty=penalty,
        units_shipped=tally.units_shipped,
        shipments=len(result.shipments),
        splits=splits,
    )
