"""The day plan: allocate the orders to sites, then route each site's van deliveries.

Each shipment that a site's own vans can deliver (the site has a fleet, the customer is
within ``local_radius_km``) becomes a stop at the customer, with demand from the lines'
weight and volume and the order's delivery windows. A return to collect (``pickups``)
becomes a stop of its site's vans with ``pickup`` quantities (the returned lines' weight and
volume, carried to the route's end), so a van's load is checked after every step with both.
The sites are routed at the same time
in child processes (one search each), and the plan gathers shipments with ETAs, routes,
everything left out with its reason, and KPIs.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.allocation.allocate import allocate
from engine.allocation.compile import haversine_km
from engine.processes import start_call
from engine.routing.solve import solve_routes
from models.allocation import (
    AllocationResult,
    Order,
    ShipmentLine,
    Site,
    SiteShipment,
    UnfulfilledLine,
)
from models.errors import InvalidInputError, detail
from models.plan import (
    FleetVehicle,
    OrderDelivery,
    PlanKpis,
    PlannedShipment,
    PlanOptions,
    PlanPickup,
    PlanRequest,
    PlanResult,
    PlanUnassigned,
    Product,
    SiteRoutes,
)
from models.routing import Id, RoutingRequest, RoutingResult, StepType

#: Called with (stage, seconds since the plan began).
Progress = Callable[[str, float], None]
#: How long after its time limit a site's child may take to answer before it is re-run here.
CHILD_GRACE_S = 30.0


def plan_input_problems(request: PlanRequest) -> list[dict[str, Any]]:
    """What a plan cannot use, one ``{field, value, message}`` per problem, in the caller's
    field names: a plan routes orders by their coordinates, so an explicit matrix (whose
    rows only ``location_index`` can name) and a van's ``start_index``/``end_index`` are
    refused before anything runs."""
    problems = []
    matrix = request.options.matrix
    if matrix is not None and matrix.provider == "explicit":
        problems.append(
            detail(
                "options.matrix.provider",
                "explicit",
                "a plan needs coordinates (orders are routed by address); use haversine, "
                "osm or osrm",
            )
        )
    for i, vehicle in enumerate(request.fleet):
        for end in ("start_index", "end_index"):
            value = getattr(vehicle, end)
            if value is not None:
                problems.append(
                    detail(
                        f"fleet[{i}].{end}",
                        value,
                        "a plan's vans need coordinates; give start/end as [lon, lat] or leave "
                        "them to the site",
                    )
                )
    return problems


def check_plan_inputs(request: PlanRequest) -> None:
    """Raise :class:`InvalidInputError` naming each field of :func:`plan_input_problems`."""
    problems = plan_input_problems(request)
    if problems:
        first = problems[0]
        message = (
            f"{first['field']} = {first['value']}: {first['message']}"
            if len(problems) == 1
            else f"the plan is invalid ({len(problems)} problems)"
        )
        raise InvalidInputError(message, problems)


def site_stop_bounds(request: PlanRequest) -> dict[Id, int]:
    """Per site with vans, the most stops its routing can get: the orders with coordinates
    within ``options.local_radius_km`` of it (only those can go by its vans) and its
    pickups, for caps."""
    located = np.asarray(
        [o.location for o in request.orders if o.location is not None], dtype=np.float64
    ).reshape(-1, 2)
    fleet_sites = {v.site_id for v in request.fleet}
    van_sites = [s for s in request.sites if s.id in fleet_sites]
    out: dict[Id, int] = {}
    batch = max(1, 1_000_000 // max(len(located), 1))  # about a million distances at once
    for k in range(0, len(van_sites), batch):
        group = van_sites[k : k + batch]
        xy = np.asarray([s.location for s in group], dtype=np.float64)
        within = (haversine_km(located, xy) <= request.options.local_radius_km).sum(axis=0)
        out.update({site.id: int(n) for site, n in zip(group, within, strict=True)})
    for pickup in request.pickups:  # a return to collect is a stop of its own site's vans
        if pickup.site_id in out:
            out[pickup.site_id] += 1
    return out


def _stop_id(shipment: SiteShipment) -> str:
    return f"{shipment.order_id}@{shipment.site_id}"


def _load(lines: Sequence[ShipmentLine], sizes: dict[str, Product]) -> tuple[float, float]:
    """The weight (kg) and volume (l) of shipment lines; skus without a size weigh nothing."""
    weight = sum(
        ln.quantity * (sizes[ln.sku].weight_kg if ln.sku in sizes else 0.0) for ln in lines
    )
    volume = sum(ln.quantity * (sizes[ln.sku].volume_l if ln.sku in sizes else 0.0) for ln in lines)
    return weight, volume


def _stop(
    shipment: SiteShipment,
    order: Order,
    delivery: OrderDelivery | None,
    sizes: dict[str, Product],
    options: PlanOptions,
) -> dict[str, Any]:
    """The routing stop (as JSON data) of a shipment that a site's vans deliver."""
    assert order.location is not None
    windows = (delivery.time_windows if delivery else []) or options.default_time_windows
    service = delivery.service_s if delivery and delivery.service_s is not None else None
    weight, volume = _load(shipment.lines, sizes)
    return {
        "id": _stop_id(shipment),
        "location": list(order.location),
        "demand": {"weight_kg": weight, "volume_l": volume},
        "service_s": options.default_service_s if service is None else service,
        "time_windows": [[w.start_s, w.end_s] for w in windows],
        "priority": min(order.priority * 10, 100),
    }


def _pickup_stop(
    pickup: PlanPickup, sizes: dict[str, Product], options: PlanOptions
) -> dict[str, Any]:
    """The routing stop (as JSON data) of a return collected by a site's van: its load, the
    returned lines' weight and volume, rides from the stop to the route's end."""
    windows = pickup.time_windows or options.default_time_windows
    weight, volume = _load(pickup.lines, sizes)
    return {
        "id": pickup.stop_id,
        "location": list(pickup.location),
        "pickup": {"weight_kg": weight, "volume_l": volume},
        "service_s": options.default_service_s if pickup.service_s is None else pickup.service_s,
        "time_windows": [[w.start_s, w.end_s] for w in windows],
    }


def _pickups_left_out(request: PlanRequest) -> list[PlanUnassigned]:
    """The returns no van of their site can collect: the site has none, or the customer is
    beyond ``local_radius_km``."""
    fleet_sites = {v.site_id for v in request.fleet}
    sites = {s.id: s for s in request.sites}
    out = []
    for pickup in request.pickups:
        site = sites[pickup.site_id]
        far = haversine_km(
            np.asarray([pickup.location], dtype=np.float64),
            np.asarray([site.location], dtype=np.float64),
        )[0, 0]
        if pickup.site_id in fleet_sites and far <= request.options.local_radius_km:
            continue
        reason, message = (
            ("no_vehicle", f"site {pickup.site_id} has no van to collect the return")
            if pickup.site_id not in fleet_sites
            else ("out_of_range", f"the pickup is {far:.1f} km from site {pickup.site_id}")
        )
        out.append(_pickup_unassigned(pickup, reason, message))
    return out


def _pickup_unassigned(pickup: PlanPickup, reason: str, message: str) -> PlanUnassigned:
    return PlanUnassigned(
        stage="routing",
        order_id=pickup.order_id,
        site_id=pickup.site_id,
        return_id=pickup.id,
        reason=reason,
        message=message,
    )


def _site_request(
    request: PlanRequest, site: Site, fleet: list[FleetVehicle], stops: list[dict[str, Any]]
) -> RoutingRequest:
    """The routing request of one site: its stops, and its vans (based at the site unless
    they say otherwise)."""
    options = request.options
    vehicles = []
    for vehicle in fleet:
        data = vehicle.model_dump(exclude={"site_id"}, exclude_none=True)
        if not vehicle.has_start and not vehicle.has_end:
            data["start"] = data["end"] = list(site.location)
        vehicles.append(data)
    return RoutingRequest.model_validate(
        {
            "stops": stops,
            "vehicles": vehicles,
            "matrix": options.matrix.model_dump() if options.matrix else None,
            "options": {
                "time_limit_s": options.routing_time_limit_s,
                "workers": 1 if options.parallel else 0,
                "geometry": (
                    options.geometry
                    if options.geometry is not None
                    else options.matrix is not None and options.matrix.provider == "osm"
                ),
            },
            "day_start": request.day_start,
        }
    )


def site_requests(
    request: PlanRequest, allocation: AllocationResult
) -> dict[Id, tuple[RoutingRequest, dict[str, int]]]:
    """Per site with vans: the routing request, and stop id → index into the shipments."""
    orders = {o.id: o for o in request.orders}
    sites = {s.id: s for s in request.sites}
    sizes = {p.sku: p for p in request.products}
    deliveries = {d.order_id: d for d in request.deliveries}
    options = request.options
    by_site: dict[Id, list[FleetVehicle]] = {}
    for vehicle in request.fleet:
        by_site.setdefault(vehicle.site_id, []).append(vehicle)
    out: dict[Id, tuple[RoutingRequest, dict[str, int]]] = {}
    left_out = {p.return_id for p in _pickups_left_out(request)}
    for site_id, fleet in by_site.items():
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
            index[_stop_id(shipment)] = k
            stops.append(_stop(shipment, order, deliveries.get(order.id), sizes, options))
        for pickup in request.pickups:
            if pickup.site_id == site_id and pickup.id not in left_out:
                stops.append(_pickup_stop(pickup, sizes, options))
        out[site_id] = (_site_request(request, sites[site_id], fleet, stops), index)
    return out


def route_sites(
    requests: dict[Id, RoutingRequest],
    parallel: bool,
    tell: Callable[[str], None],
    matrix_cache_dir: Path | None = None,
) -> dict[Id, RoutingResult]:
    """Solve each site's routes: in child processes, a core each, or here one after another."""
    solve = functools.partial(solve_routes, matrix_cache_dir=matrix_cache_dir)
    results: dict[Id, RoutingResult] = {}
    pending = [site for site, req in requests.items() if req.stops]
    for site in (s for s in requests if s not in pending):
        results[site] = solve(requests[site])
    batch = max(os.cpu_count() or 1, 1) if parallel else 1
    while pending:
        group, pending = pending[:batch], pending[batch:]
        if len(group) == 1:
            results[group[0]] = solve(requests[group[0]])
        else:
            calls = {site: start_call(solve, requests[site]) for site in group}
            for site, call in calls.items():
                limit = requests[site].options.time_limit_s
                value = (
                    None if call is None else call.collect(time.monotonic() + limit + CHILD_GRACE_S)
                )
                results[site] = value if isinstance(value, RoutingResult) else solve(requests[site])
        tell(f"routed {len(results)} of {len(requests)} sites")
    return results


def allocation_left_out(allocation: AllocationResult) -> list[PlanUnassigned]:
    """The order lines that allocation left out, with its reasons."""
    return [
        PlanUnassigned(
            stage="allocation",
            order_id=u.order_id,
            line_id=u.line_id,
            reason=u.reason,
            message=u.detail or u.reason.replace("_", " "),
        )
        for u in allocation.unfulfilled
    ]


def _read_routes(
    per_site: dict[Id, tuple[RoutingRequest, dict[str, int]]],
    routed: dict[Id, RoutingResult],
    allocation: AllocationResult,
    pickups: Sequence[PlanPickup] = (),
) -> tuple[dict[int, tuple[Id, float]], set[int], list[PlanUnassigned]]:
    """Shipment index → (van, service start) for those on a van, the indices that routing
    left out, and those left out (shipments and pickups) as plan records."""
    by_stop = {p.stop_id: p for p in pickups}
    on_van: dict[int, tuple[Id, float]] = {}
    unrouted: set[int] = set()
    left_out: list[PlanUnassigned] = []
    for site, (_, index) in per_site.items():
        result = routed[site]
        for route in result.routes:
            for step in route.steps:
                if step.type == StepType.STOP and step.id in index:
                    on_van[index[str(step.id)]] = (route.vehicle_id, step.service_start_s)
        for item in result.unassigned:
            if str(item.id) in by_stop:
                pickup = by_stop[str(item.id)]
                left_out.append(_pickup_unassigned(pickup, item.reason.value, item.message))
                continue
            k = index[str(item.id)]
            unrouted.add(k)
            shipment = allocation.shipments[k]
            left_out.append(
                PlanUnassigned(
                    stage="routing",
                    order_id=shipment.order_id,
                    site_id=site,
                    reason=item.reason.value,
                    message=item.message,
                )
            )
    return on_van, unrouted, left_out


def planned_shipments(
    request: PlanRequest,
    allocation: AllocationResult,
    on_van: dict[int, tuple[Id, float]],
    unrouted: set[int],
    plan_date: dt.date,
) -> list[PlannedShipment]:
    """Every shipment of the plan: how it goes, when it arrives, whether that is on time."""
    orders = {o.id: o for o in request.orders}
    sizes = {p.sku: p for p in request.products}
    shipments = []
    for k, shipment in enumerate(allocation.shipments):
        order = orders.get(shipment.order_id)
        promised = shipment.promised_date or (order.promised_date if order else None)
        if k in on_van:
            mode, expected = "van", plan_date
        else:
            mode, expected = ("unrouted" if k in unrouted else "carrier"), shipment.expected_date
        vehicle, eta = on_van.get(k, (None, None))
        weight, volume = _load(shipment.lines, sizes)
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
                weight_kg=weight,
                volume_l=volume,
                distance_km=shipment.distance_km,
                promised_date=promised,
                expected_date=expected,
                on_time=mode != "unrouted" and (promised is None or expected <= promised),
            )
        )
    return shipments


def plan(
    request: PlanRequest,
    rejected: Sequence[UnfulfilledLine] = (),
    on_progress: Progress | None = None,
    *,
    matrix_cache_dir: Path | None = None,
) -> PlanResult:
    """Allocate, then route; every order comes back shipped or with reasons.

    ``rejected`` are order lines already refused while reading the input (malformed orders).
    ``matrix_cache_dir`` is where road graphs of OSM extracts are cached (None: the engine's
    default, :data:`engine.matrices.DEFAULT_GRAPH_CACHE_DIR`).
    """
    check_plan_inputs(request)
    began = time.perf_counter()

    def tell(stage: str) -> None:
        if on_progress is not None:
            on_progress(stage, time.perf_counter() - began)

    allocation = allocate(request.allocation_request(), rejected)
    tell("allocated")
    plan_date = request.plan_date or dt.date.today()
    per_site = site_requests(request, allocation)
    routed = route_sites(
        {site: req for site, (req, _) in per_site.items()},
        request.options.parallel,
        tell,
        matrix_cache_dir,
    )
    on_van, unrouted, routing_left_out = _read_routes(per_site, routed, allocation, request.pickups)
    shipments = planned_shipments(request, allocation, on_van, unrouted, plan_date)
    tell("planned")
    return PlanResult(
        kpis=_kpis(request, allocation, shipments, routed),
        shipments=shipments,
        sites=[SiteRoutes(site_id=site, routing=routed[site]) for site in per_site],
        unassigned=allocation_left_out(allocation) + routing_left_out + _pickups_left_out(request),
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
