"""A VROOM output read back: checked against its problem by routeplan's evaluator.

:func:`is_vroom_output` tells VROOM's output from a routeplan result by shape;
:func:`parse_vroom_output` validates it; :func:`from_vroom_output` turns a scheduled output
(every step with ``arrival``) into a :class:`RoutingResult` with every reported number kept,
so ``engine.routing.evaluate`` can judge it; :func:`vroom_sequences` gives only the visiting
order per vehicle, for ``evaluate_routes`` (an output without times, edited by hand).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.formats.vroom import DELIVERY_PREFIX, PICKUP_PREFIX, VroomTranslation
from models.errors import InvalidInputError, detail
from models.routing import (
    Id,
    Route,
    RouteSummary,
    RoutingResult,
    RoutingStats,
    Step,
    StepType,
    Summary,
    Unassigned,
)
from models.status import SolveStatus, UnassignedReason


class _OutStep(BaseModel):
    """A step of a VROOM output route (only what the check needs; the rest is ignored)."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["start", "job", "pickup", "delivery", "break", "end"]
    id: int | None = None
    arrival: float | None = None
    waiting_time: float = 0.0
    setup: float = 0.0
    service: float = 0.0
    load: list[float] | None = None
    distance: float | None = None


class _OutRoute(BaseModel):
    model_config = ConfigDict(extra="ignore")
    vehicle: int
    steps: list[_OutStep]
    cost: float | None = None
    duration: float | None = None
    distance: float | None = None
    delivery: list[float] | None = None
    geometry: str | None = None


class _OutUnassigned(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    type: Literal["job", "pickup", "delivery"] = "job"
    reason: str | None = None


class _OutSummary(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cost: float


class VroomOutput(BaseModel):
    """A VROOM output as far as a check reads it: routes of typed steps, unassigned tasks."""

    model_config = ConfigDict(extra="ignore")
    summary: _OutSummary | None = None
    routes: list[_OutRoute] = Field(default_factory=list)
    unassigned: list[_OutUnassigned] = Field(default_factory=list)

    @property
    def scheduled(self) -> bool:
        """Whether every step carries its ``arrival`` (else only the sequences can be checked)."""
        return all(s.arrival is not None for r in self.routes for s in r.steps)


def is_vroom_output(data: Any) -> bool:
    """Whether ``data`` looks like VROOM's output: routes with ``vehicle`` (not ``vehicle_id``)
    and steps, or a ``code`` and ``summary`` without routeplan's ``stats``."""
    if not isinstance(data, dict) or "stats" in data:
        return False
    routes = data.get("routes")
    if isinstance(routes, list) and routes and isinstance(routes[0], dict):
        return "vehicle" in routes[0] and "vehicle_id" not in routes[0]
    return "code" in data and "summary" in data


def parse_vroom_output(data: Any) -> VroomOutput:
    """Validate a VROOM output (:class:`InvalidInputError` naming each bad field)."""
    try:
        return VroomOutput.model_validate(data)
    except ValidationError as error:
        raise InvalidInputError.from_validation(error, "the VROOM output is invalid") from error


def _our_id(kind: str, vroom_id: int | None) -> Id | None:
    """Routeplan's id of a VROOM step (jobs keep theirs; shipment ends get a prefix)."""
    if vroom_id is None or kind in ("start", "end", "break", "job"):
        return vroom_id
    return f"{PICKUP_PREFIX if kind == 'pickup' else DELIVERY_PREFIX}{vroom_id}"


def vroom_sequences(output: VroomOutput) -> dict[Id, list[Id]]:
    """The visits of each route, by vehicle id, in routeplan's ids (for ``evaluate_routes``)."""
    sequences: dict[Id, list[Id]] = {}
    for i, route in enumerate(output.routes):
        visits = sequences.setdefault(route.vehicle, [])
        for k, step in enumerate(route.steps):
            if step.type in ("start", "end", "break"):
                continue
            our = _our_id(step.type, step.id)
            if our is None:
                raise InvalidInputError(
                    f"routes[{i}].steps[{k}].id: a {step.type} step needs the id of its task",
                    [detail(f"routes[{i}].steps[{k}].id", None, "a visit step needs an id")],
                )
            visits.append(our)
    return sequences


def _out_step(tr: VroomTranslation, step: _OutStep, start_s: float) -> Step:
    """A VROOM step as a routeplan step: times shifted, ``setup`` counted in the service."""
    arrival_s = (step.arrival or 0.0) - tr.origin_s
    busy = step.type not in ("start", "end")
    service_s = step.setup + step.service if busy else 0.0
    waiting_s = step.waiting_time if busy else 0.0
    return Step(
        type=StepType(step.type),
        id=_our_id(step.type, step.id),
        arrival_s=arrival_s,
        service_start_s=arrival_s + waiting_s,
        departure_s=arrival_s + waiting_s + service_s,
        waiting_s=waiting_s,
        service_s=service_s,
        load={str(k): v for k, v in enumerate(step.load or [])},
        distance_m=step.distance or 0.0,
        duration_s=arrival_s - start_s,
    )


def _out_route(tr: VroomTranslation, route: _OutRoute, fixed_cost: float) -> Route:
    capacity = next((v.capacity for v in tr.request.vehicles if v.id == route.vehicle), {})
    first = (route.steps[0].arrival or 0.0) - tr.origin_s
    steps = [_out_step(tr, s, first) for s in route.steps]
    visits = [s for s in steps if s.type.is_visit]
    start_s = steps[0].departure_s if steps else 0.0
    end_s = steps[-1].arrival_s if steps else 0.0
    return Route(
        vehicle_id=route.vehicle,
        steps=steps,
        summary=RouteSummary(
            stops=len(visits),
            distance_m=route.distance if route.distance is not None else steps[-1].distance_m,
            duration_s=end_s - start_s,
            travel_s=route.duration or 0.0,
            service_s=sum(s.service_s for s in visits),
            waiting_s=sum(s.waiting_s for s in steps),
            break_s=sum(s.service_s for s in steps if s.type == StepType.BREAK),
            start_s=start_s,
            end_s=end_s,
            delivered={str(k): v for k, v in enumerate(route.delivery or [])},
            capacity=dict(capacity),  # VROOM does not report it: the problem's
            cost=route.cost if route.cost is not None else fixed_cost,
        ),
        geometry=route.geometry,
    )


def from_vroom_output(tr: VroomTranslation, output: VroomOutput) -> RoutingResult:
    """A VROOM output as a routeplan result, every reported number kept for the evaluator.

    Times are shifted by the translation's origin; ``setup`` counts as service (VROOM skips it
    between tasks at one place, which the evaluator then reports); unassigned tasks keep a
    valid ``reason`` if they carry one, else ``no_room_in_plan``. Needs ``output.scheduled``.
    """
    fixed: dict[Id, float] = {v.id: v.costs.fixed for v in tr.problem.vehicles}
    routes = [_out_route(tr, r, fixed.get(r.vehicle, 0.0)) for r in output.routes if r.steps]
    reasons = {r.value for r in UnassignedReason}
    unassigned = [
        Unassigned(
            id=_our_id(u.type, u.id) or u.id,
            reason=UnassignedReason(u.reason)
            if u.reason in reasons
            else UnassignedReason.NO_ROOM_IN_PLAN,
            message="unassigned in the VROOM output",
        )
        for u in output.unassigned
    ]
    cost = sum(r.summary.cost for r in routes)
    fixed_cost = sum((fixed.get(r.vehicle_id, 0.0) for r in routes), 0.0)
    summary = Summary(
        cost=output.summary.cost if output.summary is not None else cost,
        travel_cost=cost - fixed_cost,
        fixed_cost=fixed_cost,
        drop_penalty=0.0,
        routes=len(routes),
        stops_served=sum(r.summary.stops for r in routes),
        unassigned=len(unassigned),
        distance_m=sum(r.summary.distance_m for r in routes),
        duration_s=sum(r.summary.duration_s for r in routes),
        travel_s=sum(r.summary.travel_s for r in routes),
        service_s=sum(r.summary.service_s for r in routes),
        waiting_s=sum(r.summary.waiting_s for r in routes),
    )
    status = SolveStatus.PARTIAL if unassigned else SolveStatus.COMPLETE
    return RoutingResult(
        summary=summary,
        routes=routes,
        unassigned=unassigned,
        stats=RoutingStats(status=status, backend="vroom", solver_status="given", solve_s=0.0),
    )
