"""The VROOM adapter: a VROOM problem in, a routing request solved, VROOM's output shape out.

How VROOM's keys map onto routeplan's model (see ``models/vroom.py`` for what is refused):

* ``jobs`` → stops. ``delivery`` and ``pickup`` amounts become named quantities ``"0"``,
  ``"1"``, … (one per capacity dimension): deliveries are on board from the start, pickups
  ride to the route's end, and the load is checked at every step, as VROOM does.
* ``shipments`` → shipments: the pickup end, then the delivery end, on one vehicle. Inside
  routeplan their ids are ``pickup:<id>`` and ``delivery:<id>`` (VROOM numbers jobs, pickups
  and deliveries separately); answers use VROOM's ids and step types again.
* ``setup`` is added to ``service`` (VROOM skips setup between tasks at the same place, so
  this is also conservative); both are reported separately.
* Times may be absolute timestamps: they are shifted so that the earliest window start is
  0, and shifted back in the output.
* ``max_travel_time`` (travel only in VROOM) becomes ``max_duration_s`` (route start to end,
  all included), which is stricter, never looser.
* Costs: VROOM's cost of a route is ``fixed + per_hour · travel_h + per_km · distance_km``
  (``per_hour`` 3600 by default, so 1 per second of travel), which is exactly routeplan's
  ``fixed_cost + cost_per_hour · travel_h + cost_per_km · distance_km``: the values are
  copied as they are and the costs come out in VROOM's units.
* ``matrices.<profile>.durations`` / ``distances`` become an explicit matrix; with no
  matrices, locations are ``[lon, lat]`` and the haversine provider is used.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.routing.solve import solve_routes
from models.errors import InvalidInputError
from models.routing import RoutingRequest, RoutingResult, StepType
from models.vroom import VroomJob, VroomMatrix, VroomProblem, VroomShipment, VroomVehicle

#: Search time for a VROOM request without ``options.l``: this much, plus
#: ``AUTO_TIME_PER_JOB_S`` per job.
AUTO_TIME_BASE_S = 1.0
AUTO_TIME_PER_JOB_S = 0.02

#: Output ``code`` of a solved problem (VROOM: 1 internal, 2 input, 3 routing error).
CODE_OK = 0


def default_time_limit_s(problem: VroomProblem, cap_s: float) -> float:
    """The search time for ``problem``: ``options.l``, or grown with its size, at most ``cap_s``."""
    if problem.options.l is not None:
        return problem.options.l
    return min(cap_s, AUTO_TIME_BASE_S + AUTO_TIME_PER_JOB_S * len(problem.jobs))


@dataclass(frozen=True)
class VroomTranslation:
    """A VROOM problem as a routing request, with what is needed to answer in VROOM's shape."""

    problem: VroomProblem
    request: RoutingRequest
    #: VROOM time of routeplan's time 0 (the earliest window start, or 0).
    origin_s: float
    #: Number of amount dimensions (0 when no capacity is used).
    dimensions: int
    #: Whether locations are matrix rows (custom matrices) rather than coordinates.
    uses_indices: bool
    #: Whether distances are known (a distance matrix, or coordinates).
    has_distances: bool


class _Problems:
    """Collects input problems so that one answer names all of them."""

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def add(self, field: str, value: Any, message: str) -> None:
        text = repr(value)
        self.details.append(
            {
                "field": field,
                "value": text if len(text) <= 80 else text[:77] + "...",
                "message": message,
            }
        )

    def raise_if_any(self) -> None:
        if self.details:
            first = self.details[0]
            raise InvalidInputError(f"{first['field']}: {first['message']}", self.details)


def _matrix(problem: VroomProblem, issues: _Problems) -> tuple[VroomMatrix | None, str | None]:
    """The custom matrix that the vehicles use, if any (one profile only)."""
    matrices = dict(problem.matrices or {})
    if problem.matrix is not None:
        if "car" in matrices:
            issues.add("matrix", "...", "give either matrix (deprecated) or matrices.car, not both")
        matrices["car"] = VroomMatrix(durations=problem.matrix)
    profiles = sorted({v.profile for v in problem.vehicles})
    if len(profiles) > 1:
        issues.add(
            "vehicles[].profile",
            profiles,
            "vehicles with different routing profiles are not supported yet",
        )
    if not matrices:
        return None, None
    profile = profiles[0]
    for i, vehicle in enumerate(problem.vehicles):
        if vehicle.profile not in matrices:
            issues.add(
                f"vehicles[{i}].profile", vehicle.profile, f"no matrices.{vehicle.profile} given"
            )
            return None, None
    matrix = matrices[profile]
    if matrix.durations is None:
        issues.add(
            f"matrices.{profile}.durations", None, "durations are required with custom matrices"
        )
    return matrix, profile


def _amounts(problem: VroomProblem, issues: _Problems) -> int:
    """The number of amount dimensions; every amount vector must have that many values."""
    lengths: Counter[int] = Counter()
    for vehicle in problem.vehicles:
        if vehicle.capacity is not None:
            lengths[len(vehicle.capacity)] += 1
    for job in problem.jobs:
        for amount in (job.delivery, job.pickup):
            if amount is not None:
                lengths[len(amount)] += 1
    for shipment in problem.shipments:
        if shipment.amount is not None:
            lengths[len(shipment.amount)] += 1
    if not lengths:
        return 0
    size = lengths.most_common(1)[0][0]
    for i, vehicle in enumerate(problem.vehicles):
        if vehicle.capacity is None and size > 0:
            issues.add(
                f"vehicles[{i}].capacity", None, f"jobs use {size} amount dimension(s); give them"
            )
        elif vehicle.capacity is not None and len(vehicle.capacity) != size:
            issues.add(
                f"vehicles[{i}].capacity",
                vehicle.capacity,
                f"has {len(vehicle.capacity)} values, other amounts have {size}",
            )
    for i, job in enumerate(problem.jobs):
        for name in ("delivery", "pickup"):
            amount = getattr(job, name)
            if amount is not None and len(amount) != size:
                issues.add(
                    f"jobs[{i}].{name}", amount, f"has {len(amount)} values, capacity has {size}"
                )
    for i, shipment in enumerate(problem.shipments):
        if shipment.amount is not None and len(shipment.amount) != size:
            issues.add(
                f"shipments[{i}].amount",
                shipment.amount,
                f"has {len(shipment.amount)} values, capacity has {size}",
            )
    return size


def _origin(problem: VroomProblem) -> float:
    starts = [w[0] for job in problem.jobs for w in job.time_windows]
    starts += [
        w[0]
        for shipment in problem.shipments
        for end in (shipment.pickup, shipment.delivery)
        for w in end.time_windows
    ]
    for vehicle in problem.vehicles:
        if vehicle.time_window is not None:
            starts.append(vehicle.time_window[0])
        starts.extend(w[0] for b in vehicle.breaks for w in b.time_windows)
    return min(starts, default=0.0)


def _named(amount: list[int] | None, dims: int) -> dict[str, float]:
    """A VROOM amount vector as named quantities "0", "1", ... (zeros left out)."""
    return {str(k): float(amount[k]) for k in range(dims) if amount and amount[k]}


#: Shipment ends get ids of their own inside routeplan (VROOM numbers jobs, pickups and
#: deliveries separately); answers use VROOM's ids again.
PICKUP_PREFIX, DELIVERY_PREFIX = "pickup:", "delivery:"


def _shipment(
    shipment: VroomShipment, dims: int, origin_s: float, uses_indices: bool
) -> dict[str, Any]:
    ends = {}
    for name, end, prefix in (
        ("pickup", shipment.pickup, PICKUP_PREFIX),
        ("delivery", shipment.delivery, DELIVERY_PREFIX),
    ):
        ends[name] = {
            "id": f"{prefix}{end.id}",
            "service": end.setup + end.service,
            "time_windows": [[a - origin_s, b - origin_s] for a, b in end.time_windows],
            **(
                {"location_index": end.location_index}
                if uses_indices
                else {"location": end.location}
            ),
        }
    return {
        **ends,
        "amount": _named(shipment.amount, dims),
        "skills": [str(s) for s in shipment.skills],
        "priority": shipment.priority,
    }


def _stop(job: VroomJob, dims: int, origin_s: float, uses_indices: bool) -> dict[str, Any]:
    stop: dict[str, Any] = {
        "id": job.id,
        "demand": _named(job.delivery, dims),
        "pickup": _named(job.pickup, dims),
        "service": job.setup + job.service,
        "time_windows": [[a - origin_s, b - origin_s] for a, b in job.time_windows],
        "skills": [str(s) for s in job.skills],
        "priority": job.priority,
    }
    if uses_indices:
        stop["location_index"] = job.location_index
    else:
        stop["location"] = job.location
    return stop


def _vehicle(
    vehicle: VroomVehicle, dims: int, origin_s: float, uses_indices: bool
) -> dict[str, Any]:
    shift = vehicle.time_window
    out: dict[str, Any] = {
        "id": vehicle.id,
        "capacity": {str(k): float(c) for k, c in enumerate((vehicle.capacity or [])[:dims])},
        "skills": [str(s) for s in vehicle.skills],
        "speed_factor": vehicle.speed_factor,
        "fixed_cost": vehicle.costs.fixed,
        "cost_per_hour": vehicle.costs.per_hour,
        "cost_per_km": vehicle.costs.per_km,
        "max_stops": vehicle.max_tasks,
        "max_distance_m": vehicle.max_distance,
        "max_duration_s": vehicle.max_travel_time,
    }
    if shift is not None:
        out["shift"] = [shift[0] - origin_s, shift[1] - origin_s]
    if uses_indices:
        out["start_index"], out["end_index"] = vehicle.start_index, vehicle.end_index
    else:
        out["start"], out["end"] = vehicle.start, vehicle.end
    anytime = [out["shift"]] if shift is not None else [[0.0, 10 * 365 * 86400.0]]
    out["breaks"] = [
        {
            "id": b.id,
            "time_windows": [[a - origin_s, z - origin_s] for a, z in b.time_windows] or anytime,
            "duration_s": b.service,
        }
        for b in vehicle.breaks
    ]
    return out


def _check_places(problem: VroomProblem, matrix: VroomMatrix | None, issues: _Problems) -> None:
    uses_indices = matrix is not None
    size = len(matrix.durations or []) if matrix is not None else 0
    key = "location_index" if uses_indices else "location"
    for i, job in enumerate(problem.jobs):
        if getattr(job, key) is None:
            reason = "with custom matrices" if uses_indices else "without custom matrices"
            issues.add(f"jobs[{i}].{key}", None, f"is required {reason}")
        elif uses_indices and job.location_index is not None and job.location_index >= size:
            issues.add(
                f"jobs[{i}].location_index",
                job.location_index,
                f"is out of range for a {size}x{size} matrix",
            )
    for i, shipment in enumerate(problem.shipments):
        for name in ("pickup", "delivery"):
            end = getattr(shipment, name)
            where = f"shipments[{i}].{name}.{key}"
            if getattr(end, key) is None:
                reason = "with custom matrices" if uses_indices else "without custom matrices"
                issues.add(where, None, f"is required {reason}")
            elif uses_indices and end.location_index is not None and end.location_index >= size:
                issues.add(where, end.location_index, f"is out of range for a {size}x{size} matrix")
    for i, vehicle in enumerate(problem.vehicles):
        for end in ("start_index", "end_index"):
            index = getattr(vehicle, end)
            if uses_indices and index is not None and index >= size:
                issues.add(
                    f"vehicles[{i}].{end}", index, f"is out of range for a {size}x{size} matrix"
                )
    for i, vehicle in enumerate(problem.vehicles):
        for end in ("start", "end"):
            coords, index = getattr(vehicle, end), getattr(vehicle, f"{end}_index")
            if uses_indices and coords is not None and index is None:
                issues.add(
                    f"vehicles[{i}].{end}_index",
                    None,
                    f"is required with custom matrices ({end} given)",
                )
            if not uses_indices and index is not None and coords is None:
                issues.add(
                    f"vehicles[{i}].{end}",
                    None,
                    f"is required without custom matrices ({end}_index given)",
                )


def _check_ids(problem: VroomProblem, issues: _Problems) -> None:
    def duplicates(kind: str, items: list[Any], path: str) -> None:
        seen: set[int] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                issues.add(f"{path}[{i}].id", item.id, f"duplicate {kind} id {item.id}")
            seen.add(item.id)

    duplicates("job", problem.jobs, "jobs")
    for name in ("pickup", "delivery"):
        seen: set[int] = set()
        for i, shipment in enumerate(problem.shipments):
            end = getattr(shipment, name)
            if end.id in seen:
                issues.add(f"shipments[{i}].{name}.id", end.id, f"duplicate {name} id {end.id}")
            seen.add(end.id)
    duplicates("vehicle", problem.vehicles, "vehicles")
    for i, vehicle in enumerate(problem.vehicles):
        duplicates("break", vehicle.breaks, f"vehicles[{i}].breaks")


def translate(problem: VroomProblem, time_limit_s: float, seed: int = 0) -> VroomTranslation:
    """The routing request that ``problem`` describes (:class:`InvalidInputError` if none)."""
    issues = _Problems()
    _check_ids(problem, issues)
    matrix, _profile = _matrix(problem, issues)
    uses_indices = matrix is not None
    _check_places(problem, matrix, issues)
    dims = _amounts(problem, issues)
    issues.raise_if_any()
    origin_s = _origin(problem)
    data: dict[str, Any] = {
        "jobs": [_stop(job, dims, origin_s, uses_indices) for job in problem.jobs],
        "shipments": [_shipment(s, dims, origin_s, uses_indices) for s in problem.shipments],
        "vehicles": [_vehicle(v, dims, origin_s, uses_indices) for v in problem.vehicles],
        "options": {"time_limit_s": time_limit_s, "seed": seed, "geometry": problem.options.g},
    }
    if matrix is not None:
        data["matrix"] = {
            "provider": "explicit",
            "durations_s": matrix.durations,
            "distances_m": matrix.distances,
        }
    try:
        request = RoutingRequest.model_validate(data)
    except ValidationError as error:
        raise InvalidInputError.from_validation(
            error, "the VROOM problem is not a valid plan request"
        ) from error
    return VroomTranslation(
        problem=problem,
        request=request,
        origin_s=origin_s,
        dimensions=dims,
        uses_indices=uses_indices,
        has_distances=matrix is None or matrix.distances is not None,
    )


# --------------------------------------------------------------------------- output


def _vector(values: list[int] | None, dims: int) -> list[int]:
    return list(values) if values else [0] * dims


def _add(a: list[int], b: list[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _sub(a: list[int], b: list[int]) -> list[int]:
    return [x - y for x, y in zip(a, b, strict=True)]


@dataclass(frozen=True)
class _Visit:
    """A job or a shipment end, as VROOM knows it, with its effect on the load."""

    kind: str
    id: int
    item: Any
    starts_on_board: list[int]
    picked: list[int]
    dropped: list[int]
    priority: int


def _visits(tr: VroomTranslation) -> dict[Any, _Visit]:
    """Our visit id → the VROOM job or shipment end it stands for."""
    dims = tr.dimensions
    out: dict[Any, _Visit] = {}
    for job in tr.problem.jobs:
        delivery, pickup = _vector(job.delivery, dims), _vector(job.pickup, dims)
        out[job.id] = _Visit("job", job.id, job, delivery, pickup, delivery, job.priority)
    for shipment in tr.problem.shipments:
        amount, none = _vector(shipment.amount, dims), [0] * dims
        p, d = shipment.pickup, shipment.delivery
        out[f"{PICKUP_PREFIX}{p.id}"] = _Visit(
            "pickup", p.id, p, none, amount, none, shipment.priority
        )
        out[f"{DELIVERY_PREFIX}{d.id}"] = _Visit(
            "delivery", d.id, d, none, none, amount, shipment.priority
        )
    return out


def _route(tr: VroomTranslation, route: Any, vehicle: VroomVehicle) -> dict[str, Any]:
    visits = _visits(tr)
    breaks = {b.id: b for b in vehicle.breaks}
    dims = tr.dimensions
    served = [visits[s.id] for s in route.steps if s.type.is_visit]
    delivery = [0] * dims
    pickup = [0] * dims
    load = [0] * dims
    for visit in served:
        delivery = _add(delivery, visit.dropped)
        pickup = _add(pickup, visit.picked)
        load = _add(load, visit.starts_on_board)
    departure = route.steps[0].departure_s
    busy_s = 0.0  # time spent at steps (waiting, service, breaks) before the current arrival
    steps = []
    for step in route.steps:
        out: dict[str, Any] = {"type": step.type.value}
        setup = service = 0.0
        description = None
        location, location_index = None, None
        if step.type.is_visit:
            visit = visits[step.id]
            job = visit.item
            setup, service, description = job.setup, job.service, job.description
            location, location_index = job.location, job.location_index
            load = _add(_sub(load, visit.dropped), visit.picked)
            out["type"] = visit.kind
            out["id"] = visit.id
            if visit.kind == "job":
                out["job"] = visit.id
        elif step.type == StepType.BREAK:
            item = breaks[step.id]
            service, description = step.service_s, item.description
            out["id"] = item.id
        else:
            which = step.type.value
            location = getattr(vehicle, which)
            location_index = getattr(vehicle, f"{which}_index")
        if description is not None:
            out["description"] = description
        if tr.uses_indices:
            if location_index is not None:
                out["location_index"] = location_index
            if location is not None:
                out["location"] = list(location)
        elif location is not None:
            out["location"] = list(location)
        travel_s = 0.0 if step.type == StepType.START else step.arrival_s - departure - busy_s
        if step.type != StepType.START:
            busy_s += step.departure_s - step.arrival_s
        out.update(
            {
                "setup": round(setup),
                "service": round(service),
                "waiting_time": round(step.waiting_s),
                "arrival": round(
                    (step.departure_s if step.type == StepType.START else step.arrival_s)
                    + tr.origin_s
                ),
                "duration": round(travel_s),
                "violations": [],
            }
        )
        if dims:
            out["load"] = list(load)
        if tr.has_distances:
            out["distance"] = round(step.distance_m)
        steps.append(out)
    summary = route.summary
    body: dict[str, Any] = {"vehicle": vehicle.id, "cost": round(summary.cost)}
    if vehicle.description is not None:
        body["description"] = vehicle.description
    if dims:
        body.update({"delivery": delivery, "amount": delivery, "pickup": pickup})
    body.update(
        {
            "setup": round(sum(visit.item.setup for visit in served)),
            "service": round(sum(visit.item.service for visit in served)),
            "duration": round(summary.travel_s),
            "waiting_time": round(summary.waiting_s),
            "priority": sum(visit.priority for visit in served),
        }
    )
    if tr.has_distances:
        body["distance"] = round(summary.distance_m)
    body["steps"] = steps
    body["violations"] = []
    if route.geometry is not None:
        body["geometry"] = route.geometry
    return body


def to_vroom_output(
    tr: VroomTranslation, result: RoutingResult, computing_ms: dict[str, int] | None = None
) -> dict[str, Any]:
    """``result`` in VROOM's output shape; each unassigned job also says why (``reason``)."""
    vehicles = {v.id: v for v in tr.problem.vehicles}
    visits = _visits(tr)
    routes = [_route(tr, route, vehicles[int(route.vehicle_id)]) for route in result.routes]
    dims = tr.dimensions
    unassigned = []
    for item in result.unassigned:
        visit = visits[item.id]
        job = visit.item
        entry: dict[str, Any] = {"id": visit.id, "type": visit.kind}
        if job.location is not None:
            entry["location"] = list(job.location)
        if tr.uses_indices and job.location_index is not None:
            entry["location_index"] = job.location_index
        if job.description is not None:
            entry["description"] = job.description
        entry["reason"] = item.reason.value
        entry["message"] = item.message
        unassigned.append(entry)
    summary: dict[str, Any] = {
        "cost": sum(r["cost"] for r in routes),
        "routes": len(routes),
        "unassigned": len(unassigned),
    }
    if dims:
        delivery = [sum(r["delivery"][k] for r in routes) for k in range(dims)]
        pickup = [sum(r["pickup"][k] for r in routes) for k in range(dims)]
        summary.update({"delivery": delivery, "amount": delivery, "pickup": pickup})
    for key in ("setup", "service", "duration", "waiting_time", "priority"):
        summary[key] = sum(r[key] for r in routes)
    if tr.has_distances:
        summary["distance"] = sum(r["distance"] for r in routes)
    summary["violations"] = []
    if computing_ms is not None:
        summary["computing_times"] = computing_ms
    evaluation = result.evaluation
    return {
        "code": CODE_OK,
        "summary": summary,
        "unassigned": unassigned,
        "routes": routes,
        "evaluation": None if evaluation is None else evaluation.model_dump(mode="json"),
        "status": result.stats.status,
    }


def solve_vroom(
    problem: VroomProblem,
    time_limit_s: float,
    on_progress: Callable[[float, float], None] | None = None,
) -> dict[str, Any]:
    """Solve a VROOM problem and answer in VROOM's output shape (with our evaluator's verdict)."""
    began = time.perf_counter()
    tr = translate(problem, time_limit_s)
    loaded = time.perf_counter()
    result = solve_routes(tr.request, on_progress=on_progress)
    ms = {
        "loading": round((loaded - began) * 1000),
        "solving": round(result.stats.solve_s * 1000),
        "routing": round(result.stats.matrix_s * 1000),
    }
    return to_vroom_output(tr, result, ms)
