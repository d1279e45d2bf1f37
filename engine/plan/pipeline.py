"""The day plan: allocate the orders to sites, then route each site's van deliveries.

Each shipment that a site's own vans can deliver (the site has a fleet, the customer is
within ``local_radius_km``) becomes a stop at the customer, with demand from the lines'
weight and volume and the order's delivery windows. The sites are routed at the same time
in child processes (one search each), and the plan gathers shipments with ETAs, routes,
everything left out with its reason, and KPIs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.allocation.allocate import allocate
from engine.processes import start_call
from engine.routing.solve import solve_routes
from models.allocation import AllocationResult, SiteShipment, UnfulfilledLine
from models.plan import (
    PlanKpis,
    PlannedShipment,
    PlanRequest,
    PlanResult,
    PlanUnassigned,
    SiteRoutes,
)
from models.routing import Id, RoutingRequest, RoutingResult, StepType

#: Called with (stage, seconds since the plan began).
Progress = Callable[[str, float], None]
#: How long after its time limit a site's child may take to answer before it is re-run here.
CHILD_GRACE_S = 30.0


def _stop_id(shipment: SiteShipment) -> str:
    return f"{shipment.order_id}@{shipment.site_id}"


def site_requests(
    request: PlanRequest, allocation: AllocationResult
) -> dict[Id, tuple[RoutingRequest, dict[str, int]]]:
    """Per site with vans: the routing request, and stop id → index into the shipments."""
    orders = {o.id: o for o in request.orders}
    sites = {s.id: s for s in request.sites}
    sizes = {p.sku: p for p in request.products}
    deliveries = {d.order_id: d for d in request.deliveries}
    options = request.options
    by_site: dict[Id, list[Any]] = {}
    for vehicle in request.fleet:
        by_site.setdefault(vehicle.site_id, []).append(vehicle)
    out: dict[Id, tuple[RoutingRequest, dict[str, int]]] = {}
    for site_id, fleet in by_site.items():
        site = sites[site_id]
        stops, index = [], {}
        for k, shipment in enumerate(allocation.shipments):
            order = orders.get(shipment.order_id)
            if (
                shipment.site_id != site_id
                or order is None
                or order.location is None
                or shipment.distance_km > options.local_radius_km
            ):
                continue
            delivery = deliveries.get(order.id)
            windows = (delivery.time_windows if delivery else []) or options.default_time_windows
            service = delivery.service_s if delivery and delivery.service_s is not None else None
            weight = sum(
                ln.quantity * (sizes[ln.sku].weight_kg if ln.sku in sizes else 0.0)
                for ln in shipment.lines
            )
            volume = sum(
                ln.quantity * (sizes[ln.sku].volume_l if ln.sku in sizes else 0.0)
                for ln in shipment.lines
            )
            stop_id = _stop_id(shipment)
            index[stop_id] = k
            stops.append(
                {
                    "id": stop_id,
                    "location": list(order.location),
                    "demand": {"weight_kg": weight, "volume_l": volume},
                    "service_s": options.default_service_s if service is None else service,
                    "time_windows": [[w.start_s, w.end_s] for w in windows],
                    "priority": min(order.priority * 10, 100),
                }
            )
        vehicles = []
        for vehicle in fleet:
            data = vehicle.model_dump(exclude={"site_id"}, exclude_none=True)
            if not vehicle.has_start and not vehicle.has_end:
                data["start"] = data["end"] = list(site.location)
            vehicles.append(data)
        routing = RoutingRequest.model_validate(
            {
                "stops": stops,
                "vehicles": vehicles,
                "matrix": options.matrix.model_dump() if options.matrix else None,
                "options": {
                    "time_limit_s": options.routing_time_limit_s,
                    "workers": 1 if options.parallel else 0,
                },
                "day_start": request.day_start,
            }
        )
        out[site_id] = (routing, index)
    return out


def _route_sites(
    requests: dict[Id, RoutingRequest], parallel: bool, tell: Callable[[str], None]
) -> dict[Id, RoutingResult]:
    """Solve each site's routes: in child processes, a core each, or here one after another."""
    results: dict[Id, RoutingResult] = {}
    pending = [site for site, req in requests.items() if req.stops]
    for site in (s for s in requests if s not in pending):
        results[site] = solve_routes(requests[site])
    batch = max(os.cpu_count() or 1, 1) if parallel else 1
    while pending:
        group, pending = pending[:batch], pending[batch:]
        if len(group) == 1:
            results[group[0]] = solve_routes(requests[group[0]])
        else:
            calls = {site: start_call(solve_routes, requests[site]) for site in group}
            for site, call in calls.items():
                limit = requests[site].options.time_limit_s
                value = (
                    None if call is None else call.collect(time.monotonic() + limit + CHILD_GRACE_S)
                )
                results[site] = (
                    value if isinstance(value, RoutingResult) else solve_routes(requests[site])
                )
        tell(f"routed {len(results)} of {len(requests)} sites")
    return results


def plan(
    request: PlanRequest,
    rejected: Sequence[UnfulfilledLine] = (),
    on_progress: Progress | None = None,
) -> PlanResult:
    """Allocate, then route; every order comes back shipped or with reasons.

    ``rejected`` are order lines already refused while reading the input (malformed orders).
    """
    began = time.perf_counter()

    def tell(stage: str) -> None:
        if on_progress is not None:
            on_progress(stage, time.perf_counter() - began)

    allocation = allocate(request.allocation_request(), rejected)
    tell("allocated")
    plan_date = request.plan_date or dt.date.today()
    per_site = site_requests(request, allocation)
    routed = _route_sites(
        {site: req for site, (req, _) in per_site.items()}, request.options.parallel, tell
    )

    orders = {o.id: o for o in request.orders}
    sizes = {p.sku: p for p in request.products}
    on_van: dict[int, tuple[Id, float]] = {}
    unrouted: set[int] = set()
    unassigned = [
        PlanUnassigned(
            stage="allocation",
            order_id=u.order_id,
            line_id=u.line_id,
            reason=u.reason,
            message=u.detail or u.reason.replace("_", " "),
        )
        for u in allocation.unfulfilled
    ]
    for site, (_, index) in per_site.items():
        result = routed[site]
        for route in result.routes:
            for step in route.steps:
                if step.type == StepType.STOP and step.id in index:
                    on_van[index[str(step.id)]] = (route.vehicle_id, step.service_start_s)
        for item in result.unassigned:
            k = index[str(item.id)]
            unrouted.add(k)
            shipment = allocation.shipments[k]
            unassigned.append(
                PlanUnassigned(
                    stage="routing",
                    order_id=shipment.order_id,
                    site_id=site,
                    reason=item.reason.value,
                    message=item.message,
                )
            )

    shipments = []
    for k, shipment in enumerate(allocation.shipments):
        order = orders.get(shipment.order_id)
        promised = shipment.promised_date or (order.promised_date if order else None)
        if k in on_van:
            mode, expected = "van", plan_date
        else:
            mode, expected = ("unrouted" if k in unrouted else "carrier"), shipment.expected_date
        vehicle, eta = on_van.get(k, (None, None))
        shipments.append(
            PlannedShipment(
                order_id=shipment.order_id,
                site_id=shipment.site_id,
                lines=shipment.lines,
                mode=mode,
                vehicle_id=vehicle,
                eta_s=eta,
                eta_time=(
                    request.day_start + dt.timedelta(seconds=eta)
                    if request.day_start is not None and eta is not None
                    else None
                ),
                weight_kg=sum(
                    ln.quantity * (sizes[ln.sku].weight_kg if ln.sku in sizes else 0.0)
                    for ln in shipment.lines
                ),
                volume_l=sum(
                    ln.quantity * (sizes[ln.sku].volume_l if ln.sku in sizes else 0.0)
                    for ln in shipment.lines
                ),
                distance_km=shipment.distance_km,
                promised_date=promised,
                expected_date=expected,
                on_time=mode != "unrouted" and (promised is None or expected <= promised),
            )
        )
    tell("planned")
    return PlanResult(
        kpis=_kpis(request, allocation, shipments, routed),
        shipments=shipments,
        sites=[SiteRoutes(site_id=site, routing=routed[site]) for site in per_site],
        unassigned=unassigned,
        allocation=allocation,
        day_start=request.day_start,
    )


def _kpis(
    request: PlanRequest,
    allocation: AllocationResult,
    shipments: list[PlannedShipment],
    routed: dict[Id, RoutingResult],
) -> PlanKpis:
    carrier = sum(
        a.cost_total
        for a, s in zip(allocation.shipments, shipments, strict=True)
        if s.mode != "van"
    )
    handling = sum(
        a.cost.handling
        for a, s in zip(allocation.shipments, shipments, strict=True)
        if s.mode == "van"
    )
    routing = sum(r.summary.cost for r in routed.values())
    complete = (
        {o.id for o in request.orders}
        - {u.order_id for u in allocation.unfulfilled}
        - {s.order_id for s in shipments if s.mode == "unrouted"}
    )
    shipped_orders = {s.order_id for s in shipments}
    return PlanKpis(
        cost=carrier + handling + routing,
        carrier_cost=carrier,
        routing_cost=routing,
        distance_m=sum(r.summary.distance_m for r in routed.values()),
        vehicles_used=sum(r.summary.routes for r in routed.values()),
        orders=len(request.orders),
        orders_complete=len(complete & shipped_orders),
        shipments=len(shipments),
        shipments_by_van=sum(s.mode == "van" for s in shipments),
        shipments_by_carrier=sum(s.mode == "carrier" for s in shipments),
        splits=len(shipments) - len(shipped_orders),
        on_time_share=(sum(s.on_time for s in shipments) / len(shipments)) if shipments else 1.0,
    )
