"""The checker's second half: is every unfulfilled reason true, and do explanations agree?

Recomputed from the request and the result's shipments alone, with plain ``math``: site
eligibility (online, channel, hard SLA), stock left above safety stock after the shipments,
site capacity left, and what shipping a line from each site would cost. A reason that does
not hold is a ``false_unfulfilled_reason``; an explanation whose status, sites, penalty or
excluded-site counts disagree with the shipments and reasons is an ``explanation_mismatch``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from models.allocation import AllocationRequest, AllocationResult, Order, Site, UnfulfilledLine
from models.common import Id
from models.status import UnfulfilledReason, ViolationCode
from models.verdict import Violation

_R_KM = 6371.0088
_EPS = 1e-6
R = UnfulfilledReason


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two ``[lon, lat]`` points, in km."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _R_KM * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


@dataclass(frozen=True)
class SiteOption:
    """What shipping order ``o`` from one site means: eligibility, lateness and its costs."""

    site: Site
    base_ok: bool  # online and serves the order's channel
    on_time: bool
    lateness_cost: float
    shipment_cost: float  # fixed + distance + lateness, once per shipment
    unit_cost: float  # per unit + handling

    @property
    def eligible(self) -> bool:
        """The site may ship the order (hard SLA: only on time)."""
        return self.base_ok and self.on_time


def site_options(request: AllocationRequest, plan_date: dt.date, order: Order) -> list[SiteOption]:
    """One :class:`SiteOption` per site for ``order`` (which must have a location)."""
    assert order.location is not None
    costs = request.costs
    out: list[SiteOption] = []
    for site in request.sites:
        km = km_between(order.location, site.location)
        band = next((b for b in costs.transit if km <= b.max_km), costs.transit[-1])
        expected = plan_date + dt.timedelta(days=band.days)
        late = max((expected - order.promised_date).days, 0) if order.promised_date else 0
        ship = costs.shipping
        fixed, per_unit = ship.fixed, ship.per_unit
        if ship.bands:
            sb = next((b for b in ship.bands if km <= b.max_km), ship.bands[-1])
            fixed, per_unit = sb.fixed, sb.per_unit
        lateness = costs.lateness_penalty_per_day * late if costs.sla == "soft" else 0.0
        base_ok = site.online and (not site.channels or order.channel in site.channels)
        out.append(
            SiteOption(
                site=site,
                base_ok=base_ok,
                on_time=costs.sla != "hard" or late == 0,
                lateness_cost=lateness,
                shipment_cost=fixed + ship.per_km * km + lateness,
                unit_cost=per_unit + costs.handling_for(site),
            )
        )
    return out


def free_sites(request: AllocationRequest) -> dict[str, set[Id]]:
    """Per sku, the sites holding some of it above safety stock."""
    out: dict[str, set[Id]] = defaultdict(set)
    for r in request.stock:
        if r.on_hand - r.safety_stock > 0:
            out[r.sku].add(r.site_id)
    return out


def unit_penalty(
    request: AllocationRequest, options: list[SiteOption], order: Order, free: set[Id], qty: int
) -> float:
    """Penalty per unfulfilled unit of a line of ``qty`` units whose sku ``free`` sites hold.

    Default: the priority's penalty plus the dearest one-unit shipment over the order's
    eligible sites plus a split. With ``drop_uneconomic``: the priority's penalty plus the
    line's unavoidable lateness (its least late eligible site holding the sku, else its least
    late eligible site) spread over the line.
    """
    costs = request.costs
    base = costs.penalty_for(order.priority)
    if not costs.drop_uneconomic:
        dearest = [op.shipment_cost + op.unit_cost for op in options if op.eligible]
        return base + (max(dearest) + costs.split_penalty if dearest else 0.0)
    late = [op.lateness_cost for op in options if op.eligible and op.site.id in free]
    late = late or [op.lateness_cost for op in options if op.eligible]
    return base + (min(late) if late else 0.0) / max(qty, 1)


@dataclass
class _Left:
    """Stock and capacity the result's shipments leave."""

    stock: dict[tuple[Id, str], int]
    site_orders: dict[Id, int]
    site_units: dict[Id, int]
    order_sites: dict[Id, set[Id]]


def _left(request: AllocationRequest, result: AllocationResult) -> _Left:
    stock = {(r.site_id, r.sku): r.on_hand - r.safety_stock for r in request.stock}
    site_orders: dict[Id, int] = defaultdict(int)
    site_units: dict[Id, int] = defaultdict(int)
    order_sites: dict[Id, set[Id]] = defaultdict(set)
    for sh in result.shipments:
        site_orders[sh.site_id] += 1
        order_sites[sh.order_id].add(sh.site_id)
        for sl in sh.lines:
            stock[(sh.site_id, sl.sku)] = stock.get((sh.site_id, sl.sku), 0) - sl.quantity
            site_units[sh.site_id] += sl.quantity
    return _Left(stock, site_orders, site_units, order_sites)


class _Judge:
    """Checks the reasons of one result."""

    def __init__(self, request: AllocationRequest, result: AllocationResult, day: dt.date):
        self.request, self.result, self.day = request, result, day
        self.left = _left(request, result)
        self.first: dict[Id, Order] = {}
        self.dupes: set[Id] = set()
        for o in request.orders:
            if o.id in self.first:
                self.dupes.add(o.id)
            self.first.setdefault(o.id, o)
        self.skus = (
            set(request.skus) if request.skus is not None else {r.sku for r in request.stock}
        )
        self._options: dict[Id, list[SiteOption]] = {}
        self.free = free_sites(request)
        self.avail = {(r.site_id, r.sku): r.on_hand - r.safety_stock for r in request.stock}
        self.own: dict[tuple[Id, Id], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for sh in result.shipments:
            for sl in sh.lines:
                self.own[(sh.order_id, sh.site_id)][sl.sku] += sl.quantity
        self.sites = {x.id: x for x in request.sites}

    def options(self, order: Order) -> list[SiteOption]:
        if order.id not in self._options:
            self._options[order.id] = site_options(self.request, self.day, order)
        return self._options[order.id]

    def invalid(self, order: Order) -> bool:
        """The order fails an input check of its own."""
        ids = [ln.id for ln in order.lines]
        loc = order.location
        return (
            order.id in self.dupes
            or not order.lines
            or len(set(ids)) != len(ids)
            or any(ln.quantity <= 0 or ln.sku not in self.skus for ln in order.lines)
            or loc is None
            or not (math.isfinite(loc[0]) and math.isfinite(loc[1]))
            or abs(loc[0]) > 180
            or abs(loc[1]) > 90
            or (loc[0] == 0 and loc[1] == 0)
        )

    def room(self, order: Order, site: Id, units: int) -> bool:
        """The site can still take ``units`` more of the order (capacity and max shipments)."""
        s = self.sites[site]
        ships_there = site in self.left.order_sites.get(order.id, set())
        if s.capacity_units is not None and self.left.site_units[site] + units > s.capacity_units:
            return False
        if ships_there:
            return True
        n_ship = len(self.left.order_sites.get(order.id, set()))
        if order.max_shipments is not None and n_ship >= order.max_shipments:
            return False
        return s.capacity_orders is None or self.left.site_orders[site] < s.capacity_orders

    def unit_room(self, site: Site) -> int:
        """Units the site can still ship (a large number when unlimited)."""
        if site.capacity_units is None:
            return 1 << 40
        return site.capacity_units - self.left.site_units[site.id]

    def stock(self, site: Id, sku: str) -> int:
        return self.left.stock.get((site, sku), 0)

    def single_site_whole(self, order: Order) -> bool:
        """Some eligible site can still ship all of ``order`` (stock and capacity)."""
        units = sum(ln.quantity for ln in order.lines)
        return any(
            op.eligible
            and all(self.stock(op.site.id, ln.sku) >= ln.quantity for ln in order.lines)
            and self.room(order, op.site.id, units)
            for op in self.options(order)
        )

    def lines_coverable(self, order: Order) -> bool:
        """The order's lines fit, together, at eligible sites with stock and room.

        A max flow of units from lines to sites (capped by each site's stock of the sku and
        by its unit room), tried over every set of at most ``max_shipments`` sites when the
        order limits its shipments and the sets are few.
        """
        sites = [
            op.site for op in self.options(order) if op.eligible and self.room(order, op.site.id, 1)
        ]
        limit = order.max_shipments
        if limit is None or limit >= len(sites) or math.comb(len(sites), limit) > 2000:
            return self._flow_covers(order, sites)
        return any(self._flow_covers(order, list(group)) for group in combinations(sites, limit))

    def _flow_covers(self, order: Order, sites: Sequence[Site]) -> bool:
        """Units of every line can flow to ``sites`` within their stock and unit room."""
        n_l, n_s = len(order.lines), len(sites)
        size = 2 + n_l + n_s
        cap = np.zeros((size, size), dtype=np.int64)
        total = 0
        for i, ln in enumerate(order.lines):
            cap[0, 1 + i] = ln.quantity
            total += ln.quantity
            for j, site in enumerate(sites):
                cap[1 + i, 1 + n_l + j] = max(self.stock(site.id, ln.sku), 0)
        for j, site in enumerate(sites):
            cap[1 + n_l + j, size - 1] = min(max(self.unit_room(site), 0), total)
        flow = maximum_flow(csr_matrix(cap), 0, size - 1).flow_value
        return bool(flow >= total)

    def why_false(self, u: UnfulfilledLine) -> str | None:
        """None if the reason of ``u`` holds, else why not."""
        order = self.first.get(u.order_id)
        if order is None:
            return None if u.reason == R.INVALID_ORDER else "the order is not in the request"
        if u.reason == R.INVALID_ORDER:
            return None if self.invalid(order) else "the order passes every input check"
        if self.invalid(order):
            return "the order is invalid"
        if u.reason == R.PAYMENT_NOT_AUTHORISED:
            ok = order.payment_status != "authorised"
            return None if ok else "its payment is authorised"
        line = next((ln for ln in order.lines if ln.id == u.line_id), None)
        if line is None:
            return "the line is not in the order"
        ops = self.options(order)
        elig = [op for op in ops if op.eligible]
        with_stock = [op for op in elig if self.stock(op.site.id, line.sku) > 0]
        if u.reason == R.NO_STOCK:
            return None if not with_stock else f"{with_stock[0].site.id} still holds {line.sku}"
        if u.reason == R.CAPACITY:
            free = [op for op in with_stock if self.room(order, op.site.id, 1)]
            return None if not free else f"{free[0].site.id} has stock and room"
        if u.reason == R.SLA_UNREACHABLE:
            if self.request.costs.sla != "hard":
                return "the SLA is not hard"
            holders = [op for op in elig if op.site.id in self.free[line.sku]]
            if holders:
                return f"{holders[0].site.id} holds {line.sku} and is on time"
            return None
        if u.reason == R.SHIP_COMPLETE_IMPOSSIBLE:
            if not order.ship_complete:
                return "the order is not ship-complete"
            if self.single_site_whole(order):
                return "a single site can still ship the whole order"
            if order.max_shipments != 1 and self.lines_coverable(order):
                return "the order can still be covered in several shipments"
            return None
        return self._uneconomic(order, line, u, elig)

    def _uneconomic(
        self, order: Order, line: object, u: UnfulfilledLine, elig: list[SiteOption]
    ) -> str | None:
        """Every site that could take the units would cost more than their penalty."""
        assert hasattr(line, "sku") and hasattr(line, "quantity")
        pen = unit_penalty(
            self.request, self.options(order), order, self.free[line.sku], line.quantity
        )
        ships_from = self.left.order_sites.get(order.id, set())
        if order.ship_complete and not ships_from:
            if not (self.single_site_whole(order) or self.lines_coverable(order)):
                return "the order cannot be shipped whole at all"
            return self._uneconomic_whole(order, elig)
        takers = 0
        for op in elig:
            q = min(u.quantity, self.stock(op.site.id, line.sku), self.unit_room(op.site))
            if q <= 0 or not self.room(order, op.site.id, q):
                continue
            takers += 1
            once = 0.0 if op.site.id in ships_from else op.shipment_cost
            split = self.request.costs.split_penalty if ships_from - {op.site.id} else 0.0
            cost = once + split + op.unit_cost * q
            if cost < pen * q - _EPS * max(1.0, pen * q):
                return f"{op.site.id} could ship {q} unit(s) for {cost:.2f} < penalty {pen * q:.2f}"
        return None if takers else "no site could take it (stock or capacity)"

    def _uneconomic_whole(self, order: Order, elig: list[SiteOption]) -> str | None:
        """A ship-complete order: no single site ships it whole for less than its penalty."""
        ops = self.options(order)
        units = sum(ln.quantity for ln in order.lines)
        pen = sum(
            unit_penalty(self.request, ops, order, self.free[ln.sku], ln.quantity) * ln.quantity
            for ln in order.lines
        )
        for op in elig:
            if all(self.stock(op.site.id, ln.sku) >= ln.quantity for ln in order.lines) and (
                self.room(order, op.site.id, units)
            ):
                cost = op.shipment_cost + op.unit_cost * units
                if cost < pen - _EPS * max(1.0, pen):
                    return f"{op.site.id} could ship the whole order for {cost:.2f} < {pen:.2f}"
        return None


def check_reasons(
    request: AllocationRequest,
    result: AllocationResult,
    plan_date: dt.date,
    rejected: Sequence[UnfulfilledLine] = (),
) -> list[Violation]:
    """A ``false_unfulfilled_reason`` per unfulfilled line whose reason does not hold
    (lines in ``rejected``, refused while reading the input, are invalid by definition)."""
    judge = _Judge(request, result, plan_date)
    refused = {(r.order_id, r.line_id) for r in rejected}
    out: list[Violation] = []
    for u in result.unfulfilled:
        if u.reason == R.INVALID_ORDER and (u.order_id, u.line_id) in refused:
            continue
        why = judge.why_false(u)
        if why is not None:
            out.append(
                Violation(
                    code=ViolationCode.FALSE_UNFULFILLED_REASON,
                    message=f"order {u.order_id!r} line {u.line_id!r}: reason {u.reason} is"
                    f" false: {why}",
                    order_id=u.order_id,
                    line_id=u.line_id,
                )
            )
    out.extend(_check_explanations(judge))
    return out


def _check_explanations(judge: _Judge) -> list[Violation]:
    """Each explanation's status, sites, penalty and excluded counts, recomputed."""
    result = judge.result
    sites_of: dict[Id, list[Id]] = defaultdict(list)
    for sh in result.shipments:
        sites_of[sh.order_id].append(sh.site_id)
    short: dict[Id, list[UnfulfilledLine]] = defaultdict(list)
    for u in result.unfulfilled:
        if not (u.reason == R.INVALID_ORDER and u.order_id in judge.dupes):
            short[u.order_id].append(u)  # a repeated id's rejected copy is another order
    out: list[Violation] = []
    for ex in result.explanations:
        order = judge.first.get(ex.order_id)
        problems: list[str] = []
        shs, us = sites_of.get(ex.order_id, []), short.get(ex.order_id, [])
        want = "unfulfilled" if not shs else ("partial" if us else "allocated")
        if ex.status != want:
            problems.append(f"status {ex.status} but the shipments make it {want}")
        if sorted(ex.site_ids) != sorted(shs):
            problems.append(f"sites {ex.site_ids} but it ships from {shs}")
        pen = sum(u.penalty for u in us)
        if abs(ex.unfulfilled_penalty - pen) > _EPS * max(1.0, pen):
            problems.append(f"penalty {ex.unfulfilled_penalty} != its lines' {pen}")
        if order is not None and not judge.invalid(order):
            problems.extend(_excluded_problems(judge, order, ex.excluded, us))
        nb = ex.next_best
        whole = nb is not None and nb.note.startswith("whole order from")
        if nb is not None and whole and len(nb.site_ids) == 1 and order is not None:
            problems.extend(_next_best_problems(judge, order, nb.site_ids[0]))
        out.extend(
            Violation(
                code=ViolationCode.EXPLANATION_MISMATCH,
                message=f"explanation of order {ex.order_id!r}: {p}",
                order_id=ex.order_id,
            )
            for p in problems
        )
    return out


def _excluded_problems(
    judge: _Judge, order: Order, excluded: dict[str, int], short: list[UnfulfilledLine]
) -> list[str]:
    """Excluded-site counts against the sites, and against the line reasons."""
    ops = judge.options(order)
    avail = judge.avail
    lacks = {
        op.site.id
        for op in ops
        if op.eligible and any(avail.get((op.site.id, ln.sku), 0) <= 0 for ln in order.lines)
    }
    want = {
        "offline": sum(not op.site.online for op in ops),
        "channel": sum(op.site.online and not op.base_ok for op in ops),
        "sla": sum(op.base_ok and not op.on_time for op in ops),
        "no_stock": len(lacks),
    }
    out = [
        f"excluded {key}={excluded.get(key, 0)} but {n} site(s) are"
        for key, n in want.items()
        if excluded.get(key, 0) != n
    ]
    del short
    return out


def _next_best_problems(judge: _Judge, order: Order, site_id: Id) -> list[str]:
    """A single-site alternative must be eligible and hold every line (given back its own)."""
    op = (
        next((x for x in judge.options(order) if x.site.id == site_id), None)
        if (order.location is not None)
        else None
    )
    if op is None:
        return [f"next-best site {site_id!r} is unknown"]
    if not op.eligible:
        return [f"next-best site {site_id!r} is not eligible"]
    own = judge.own[(order.id, site_id)]
    short = [
        ln.sku for ln in order.lines if judge.stock(site_id, ln.sku) + own[ln.sku] < ln.quantity
    ]
    if short:
        return [f"next-best site {site_id!r} lacks {', '.join(short)}"]
    left, site = judge.left, op.site
    ships_there = site_id in left.order_sites.get(order.id, set())
    units = left.site_units[site_id] - sum(own.values()) + sum(ln.quantity for ln in order.lines)
    orders = left.site_orders[site_id] - ships_there + 1
    if (site.capacity_units is not None and units > site.capacity_units) or (
        site.capacity_orders is not None and orders > site.capacity_orders
    ):
        return [f"next-best site {site_id!r} is full"]
    return []
