"""Re-planning a committed plan during the day: the rest of each van's day routed again from
where it stands at ``at``, with orders added and cancelled (``POST /v1/plans/{id}/replan``).

Given what the book and the routes say at ``at`` (:class:`ReplanInput`, read by
:mod:`engine.book.replans`):

1. the added orders are allocated on their own, against the stock still free;
2. each site with vans gets a routing request for the rest of its day
   (:mod:`engine.plan.replan_sites`): locked stops first, goods on board tied to their van,
   stops of vans still at the site movable at the reassign penalty, the added orders' stops
   on vans still at the site;
3. each request is solved and checked by the routing evaluator (as every plan is);
4. the new draft lists every shipment of the day (the replaced plan's, less the cancelled
   ones, with the new ETAs; the added ones), the routes of what is left of the day, and
   its own account (:class:`models.replan.ReplanInfo`): the vans' state, the locks, the diff
   against the replaced plan and the independent check (:mod:`engine.plan.replan_check`).

Its ``allocation`` is the added orders' (what committing it reserves); its KPIs count the
whole day's shipments and the routes from ``at`` on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.allocation.allocate import allocate
from engine.plan.pipeline import (
    allocation_left_out,
    planned_shipments,
    route_sites,
    site_requests,
)
from engine.plan.replan_check import check_replan, diff_routes
from engine.plan.replan_sites import RouteNow, SiteWork, routing_request, site_work
from models.allocation import AllocationResult
from models.plan import (
    PICKUP_STOP_PREFIX,
    FleetVehicle,
    PlanKpis,
    PlannedShipment,
    PlanRequest,
    PlanResult,
    PlanUnassigned,
    SiteRoutes,
)
from models.replan import ReplanInfo, ReplanOptions
from models.routing import Id, RoutingRequest, RoutingResult


@dataclass(frozen=True)
class ReplanInput:
    """Everything a re-plan reads, at one instant."""

    parent_id: str
    parent: PlanResult
    fleet: list[FleetVehicle]
    site_locations: dict[str, tuple[float, float]]
    routes: list[RouteNow]
    stops: dict[str, dict[str, Any]]  # routing stop data of every stop not yet done
    added: PlanRequest  # the added orders alone (their sites and stock)
    cancelled: frozenset[str]  # plan order ids
    at: dt.datetime
    options: ReplanOptions
    matrix: dict[str, Any] | None
    time_limit_s: float
    picked_up: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def at_s(self) -> float:
        """``at`` in seconds from the day start."""
        assert self.parent.day_start is not None
        return (self.at - self.parent.day_start).total_seconds()


def _stop_order(stop_id: str) -> str:
    """The plan order id of a delivery stop ``<order>@<site>``."""
    return stop_id.rsplit("@", 1)[0]


def site_works(inp: ReplanInput, new_stops: dict[str, list[dict[str, Any]]]) -> dict[str, SiteWork]:
    """Every site with vans: its vans cut at ``at`` and its stops left to route."""
    by_vehicle = {r.vehicle_id: r for r in inp.routes}
    out: dict[str, SiteWork] = {}
    # a cancelled order's stop is in no route any more
    stops = {k: v for k, v in inp.stops.items() if _stop_order(k) not in inp.cancelled}
    for site_id in sorted({str(v.site_id) for v in inp.fleet}):
        fleet = [v for v in inp.fleet if str(v.site_id) == site_id]
        routes = {vid: r for vid, r in by_vehicle.items() if r.site_id == site_id}
        out[site_id] = site_work(
            site_id,
            inp.site_locations[site_id],
            fleet,
            routes,
            stops,
            new_stops.get(site_id, []),
            inp.at_s,
            inp.picked_up,
        )
    return out


def _route(
    inp: ReplanInput, works: dict[str, SiteWork], matrix_cache_dir: Path | None
) -> dict[str, RoutingResult]:
    """Solve each site's rest of the day, side by side as the day plan does (the
    evaluator's verdict rides on each result)."""
    requests: dict[Id, RoutingRequest] = {
        site_id: routing_request(
            work,
            inp.matrix,
            inp.time_limit_s,
            inp.options.seed,
            inp.options.reassign_penalty,
            inp.parent.day_start,
        )
        for site_id, work in works.items()
        if work.vehicles
    }
    routed = route_sites(requests, True, lambda _stage: None, matrix_cache_dir)
    return {str(site): result for site, result in routed.items()}


def _served(routed: dict[str, RoutingResult]) -> dict[str, tuple[str, float]]:
    """Every routed stop id: its vehicle and service start."""
    return {
        str(step.id): (str(route.vehicle_id), step.service_start_s)
        for result in routed.values()
        for route in result.routes
        for step in route.steps
        if step.type.is_visit
    }


def _kept_shipments(
    inp: ReplanInput, served: dict[str, tuple[str, float]], done: set[str]
) -> list[PlannedShipment]:
    """The replaced plan's shipments less the cancelled ones, van ones with their new ETA."""
    out = []
    for shipment in inp.parent.shipments:
        if str(shipment.order_id) in inp.cancelled:
            continue
        stop_id = f"{shipment.order_id}@{shipment.site_id}"
        if shipment.mode == "van" and stop_id not in done:
            if stop_id in served:
                vehicle, eta = served[stop_id]
                eta_time = inp.parent.day_start + dt.timedelta(seconds=eta)  # type: ignore[operator]
                shipment = shipment.model_copy(
                    update={"vehicle_id": vehicle, "eta_s": eta, "eta_time": eta_time}
                )
            else:
                shipment = shipment.model_copy(
                    update={"mode": "unrouted", "vehicle_id": None, "on_time": False}
                )
        out.append(shipment)
    return out


def _left_out(works: dict[str, SiteWork], routed: dict[str, RoutingResult]) -> list[PlanUnassigned]:
    """The stops no route serves, with their reasons."""
    out = []
    for site_id, work in works.items():
        for stop_id in work.no_van:
            out.append(
                PlanUnassigned(
                    stage="routing",
                    order_id=_stop_order(stop_id),
                    site_id=site_id,
                    reason="no_van_at_site",
                    message=f"every van of site {site_id} has left with its load",
                )
            )
        result = routed.get(site_id)
        for item in result.unassigned if result is not None else []:
            stop_id = str(item.id)
            pickup = stop_id.startswith(PICKUP_STOP_PREFIX)
            return_id = stop_id.removeprefix(PICKUP_STOP_PREFIX).rsplit("@", 1)[0]
            out.append(
                PlanUnassigned(
                    stage="routing",
                    order_id=return_id if pickup else _stop_order(stop_id),
                    site_id=site_id,
                    return_id=return_id if pickup else None,
                    reason=item.reason.value,
                    message=item.message,
                )
            )
    return out


def _kpis(
    shipments: list[PlannedShipment],
    parent: PlanResult,
    added: AllocationResult,
    routed: dict[str, RoutingResult],
    orders: int,
) -> PlanKpis:
    """The day's KPIs: every shipment, the carrier costs of both allocations, the routes
    from ``at`` on."""
    by_key = {(s.order_id, s.site_id): s for s in parent.allocation.shipments}
    by_key.update({(s.order_id, s.site_id): s for s in added.shipments})
    carrier = handling = 0.0
    for s in shipments:
        a = by_key.get((s.order_id, s.site_id))
        if a is None:
            continue
        if s.mode == "van":
            handling += a.cost.handling
        else:
            carrier += a.cost_total
    routing = sum(r.summary.cost for r in routed.values())
    order_ids = {s.order_id for s in shipments}
    return PlanKpis(
        cost=carrier + handling + routing,
        carrier_cost=carrier,
        routing_cost=routing,
        distance_m=sum(r.summary.distance_m for r in routed.values()),
        vehicles_used=sum(r.summary.routes for r in routed.values()),
        orders=orders,
        orders_complete=len(order_ids - {s.order_id for s in shipments if s.mode == "unrouted"}),
        shipments=len(shipments),
        shipments_by_van=sum(s.mode == "van" for s in shipments),
        shipments_by_carrier=sum(s.mode == "carrier" for s in shipments),
        splits=len(shipments) - len(order_ids),
        on_time_share=(sum(s.on_time for s in shipments) / len(shipments)) if shipments else 1.0,
    )


def replan(inp: ReplanInput, *, matrix_cache_dir: Path | None = None) -> PlanResult:
    """The re-planned draft (see the module doc); ``matrix_cache_dir`` as for
    :func:`engine.routing.solve.solve_routes`."""
    added = inp.added
    allocation = allocate(added.allocation_request())
    per_site = site_requests(added, allocation) if added.orders else {}
    new_stops = {
        str(site): [s.model_dump(by_alias=False, exclude_none=True) for s in request.stops]
        for site, (request, _index) in per_site.items()
    }
    works = site_works(inp, new_stops)
    routed = _route(inp, works, matrix_cache_dir)
    served = _served(routed)
    done = {s for work in works.values() for van in work.vans for s in van.done}
    on_van: dict[int, tuple[Id, float]] = {
        k: served[f"{shipment.order_id}@{shipment.site_id}"]
        for k, shipment in enumerate(allocation.shipments)
        if f"{shipment.order_id}@{shipment.site_id}" in served
    }
    routed_ids = {f"{s.order_id}@{s.site_id}" for s in allocation.shipments}
    unrouted = {
        k
        for k, shipment in enumerate(allocation.shipments)
        if k not in on_van
        and f"{shipment.order_id}@{shipment.site_id}" in routed_ids
        and shipment.site_id in works
    }
    plan_date = added.plan_date or inp.at.date()
    shipments = _kept_shipments(inp, served, done) + planned_shipments(
        added, allocation, on_van, unrouted, plan_date
    )
    vans = [van for work in works.values() for van in work.vans]
    info = ReplanInfo(
        parent_plan_id=inp.parent_id,
        at=inp.at,
        at_s=inp.at_s,
        added_orders=[o.id for o in added.orders],
        cancelled_orders=sorted(inp.cancelled),
        vans=vans,
        diff=diff_routes(inp.routes, routed, inp.cancelled),
        check=check_replan(vans, routed),
    )
    kept_orders = {s.order_id for s in inp.parent.shipments} - inp.cancelled
    return PlanResult(
        kpis=_kpis(shipments, inp.parent, allocation, routed, len(kept_orders) + len(added.orders)),
        shipments=shipments,
        sites=[SiteRoutes(site_id=site, routing=result) for site, result in routed.items()],
        unassigned=_left_out(works, routed) + allocation_left_out(allocation),
        allocation=allocation,
        day_start=inp.parent.day_start,
        replan=info,
    )
