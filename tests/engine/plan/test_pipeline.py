"""The day plan: allocation checked by the allocation checker, every site's routes by the
routing evaluator, and the plan's own figures against both."""

from __future__ import annotations

import math
from typing import Any

import pytest

from api.formats.sample_plan import sample_plan
from engine.allocation.evaluate import evaluate_allocation
from engine.plan.pipeline import plan, site_requests
from engine.routing.evaluate import evaluate
from models.allocation import AllocationResult
from models.matrices import OsmMatrix
from models.plan import PlanRequest, PlanResult
from models.routing import Id, RoutingRequest, StepType


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two ``(lon, lat)`` points, by the test's own sum."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))


def expected_site_requests(
    day: PlanRequest, allocation: AllocationResult
) -> dict[Id, RoutingRequest]:
    """Per site with vans, the routing request the plan should have solved, built here from
    the inputs: a site's vans deliver its shipments to orders within the local radius."""
    orders = {o.id: o for o in day.orders}
    sizes = {p.sku: p for p in day.products}
    deliveries = {d.order_id: d for d in day.deliveries}
    options = day.options
    out: dict[Id, RoutingRequest] = {}
    for site in day.sites:
        fleet = [v for v in day.fleet if v.site_id == site.id]
        if not fleet:
            continue
        stops: list[dict[str, Any]] = []
        for shipment in allocation.shipments:
            order = orders[shipment.order_id]
            if shipment.site_id != site.id or order.location is None:
                continue
            if _haversine_km(tuple(site.location), tuple(order.location)) > options.local_radius_km:
                continue
            delivery = deliveries.get(order.id)
            windows = (delivery.time_windows if delivery else []) or options.default_time_windows
            service_s = delivery.service_s if delivery else None
            units = [(ln.quantity, sizes.get(ln.sku)) for ln in shipment.lines]
            stops.append(
                {
                    "id": f"{order.id}@{site.id}",
                    "location": list(order.location),
                    "demand": {
                        "weight_kg": sum(q * p.weight_kg for q, p in units if p is not None),
                        "volume_l": sum(q * p.volume_l for q, p in units if p is not None),
                    },
                    "service_s": options.default_service_s if service_s is None else service_s,
                    "time_windows": [[w.start_s, w.end_s] for w in windows],
                    "priority": min(order.priority * 10, 100),
                }
            )
        vehicles = []
        for van in fleet:
            data = van.model_dump(exclude={"site_id"}, exclude_none=True)
            if not van.has_start and not van.has_end:
                data["start"] = data["end"] = list(site.location)
            vehicles.append(data)
        out[site.id] = RoutingRequest.model_validate(
            {
                "stops": stops,
                "vehicles": vehicles,
                "matrix": options.matrix.model_dump() if options.matrix else None,
                "day_start": day.day_start,
            }
        )
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["in_process", "parallel"])
def planned(request: pytest.FixtureRequest) -> tuple[PlanRequest, PlanResult]:
    day = sample_plan(n_orders=60, routing_time_limit_s=1.0)
    day = day.model_copy(
        update={
            "options": day.options.model_copy(update={"parallel": request.param}),
            "allocation_options": day.allocation_options.model_copy(update={"time_limit_s": 2}),
        }
    )
    return day, plan(day)


def test_allocation_passes_the_independent_checker(
    planned: tuple[PlanRequest, PlanResult],
) -> None:
    day, result = planned
    assert day.plan_date is not None
    checked = evaluate_allocation(day.allocation_request(), result.allocation, day.plan_date)
    assert checked.feasible, [v.message for v in checked.violations]
    # The plan's allocation carries the same verdict, attached by allocate.
    assert result.allocation.evaluation is not None
    assert result.allocation.evaluation.feasible


def test_every_sites_routes_pass_the_evaluator(planned: tuple[PlanRequest, PlanResult]) -> None:
    day, result = planned
    requests = expected_site_requests(day, result.allocation)
    assert {s.site_id for s in result.sites} == set(requests)
    assert any(r.stops for r in requests.values())  # the sample day has van deliveries
    for site in result.sites:
        verdict = evaluate(requests[site.site_id], site.routing)
        assert verdict.feasible, [v.message for v in verdict.violations]


def test_every_order_is_shipped_or_explained(planned: tuple[PlanRequest, PlanResult]) -> None:
    day, result = planned
    shipped = {s.order_id for s in result.shipments}
    explained = {u.order_id for u in result.unassigned}
    assert {o.id for o in day.orders} <= shipped | explained


def test_van_shipments_carry_the_eta_of_their_route_step(
    planned: tuple[PlanRequest, PlanResult],
) -> None:
    _, result = planned
    steps = {
        (route.vehicle_id, step.id): step
        for site in result.sites
        for route in site.routing.routes
        for step in route.steps
        if step.type == StepType.STOP
    }
    vans = [s for s in result.shipments if s.mode == "van"]
    assert vans
    for shipment in vans:
        step = steps[(shipment.vehicle_id, f"{shipment.order_id}@{shipment.site_id}")]
        assert shipment.eta_s == step.service_start_s
        assert shipment.eta_time is not None


def test_far_shipments_go_by_carrier(planned: tuple[PlanRequest, PlanResult]) -> None:
    day, result = planned
    for shipment in result.shipments:
        if shipment.distance_km > day.options.local_radius_km:
            assert shipment.mode == "carrier"


def test_kpis_add_up(planned: tuple[PlanRequest, PlanResult]) -> None:
    _, result = planned
    kpis = result.kpis
    routing = sum(s.routing.summary.cost for s in result.sites)
    assert kpis.routing_cost == pytest.approx(routing)
    assert kpis.shipments == len(result.shipments)
    assert kpis.vehicles_used == sum(s.routing.summary.routes for s in result.sites)
    assert kpis.shipments_by_van == sum(s.mode == "van" for s in result.shipments)
    assert 0.0 <= kpis.on_time_share <= 1.0
    assert kpis.cost >= kpis.routing_cost + kpis.carrier_cost - 1e-9


@pytest.mark.parametrize(
    ("matrix", "asked", "drawn"),
    [
        (None, None, False),  # haversine: straight legs, left out unless asked
        (None, True, True),
        ({"provider": "osm", "osm_file": "x.osm.pbf"}, None, True),  # road matrices: drawn
        ({"provider": "osm", "osm_file": "x.osm.pbf"}, False, False),
    ],
)
def test_routes_carry_their_geometry_with_road_matrices_unless_told(
    planned: tuple[PlanRequest, PlanResult],
    matrix: dict[str, str] | None,
    asked: bool | None,
    drawn: bool,
) -> None:
    day, result = planned
    options = day.options.model_copy(
        update={
            "matrix": None if matrix is None else OsmMatrix.model_validate(matrix),
            "geometry": asked,
        }
    )
    requests = site_requests(day.model_copy(update={"options": options}), result.allocation)
    assert requests
    assert {r.options.geometry for r, _ in requests.values()} == {drawn}
    # the plan made with the defaults (haversine) carries none
    assert all(r.geometry is None for s in result.sites for r in s.routing.routes)
