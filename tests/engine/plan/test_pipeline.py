"""The day plan: allocation checked by the allocation checker, every site's routes by the
routing evaluator, and the plan's own figures against both."""

from __future__ import annotations

import pytest

from api.formats.sample_plan import sample_plan
from engine.allocation.evaluate import evaluate_allocation
from engine.plan.pipeline import plan, site_requests
from engine.routing.evaluate import evaluate
from models.plan import PlanRequest, PlanResult
from models.routing import StepType


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
    requests = site_requests(day, result.allocation)
    assert {s.site_id for s in result.sites} == set(requests)
    for site in result.sites:
        verdict = evaluate(requests[site.site_id][0], site.routing)
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
