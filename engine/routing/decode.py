"""Decode a backend's raw solution into a :class:`RoutingResult` with the user's ids and units."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from engine.routing.compile import CompiledProblem, vehicle_shift
from engine.routing.locations import NO_LOCATION
from engine.routing.schedule import RouteSchedule, best_schedule
from engine.units import COST_SCALE, DISTANCE_SCALE, TIME_SCALE
from models.errors import InvalidInputError
from models.routing import (
    Id,
    Route,
    RouteSummary,
    RoutingRequest,
    RoutingResult,
    RoutingStats,
    Step,
    StepType,
    Summary,
    Unassigned,
    Vehicle,
)
from models.status import UnassignedReason
from solvers.routing.data import VrpSolution

_KIND = {
    "start": StepType.START,
    "job": StepType.STOP,
    "break": StepType.BREAK,
    "reload": StepType.RELOAD,
    "end": StepType.END,
}
_TASK_KIND = {"job": StepType.STOP, "pickup": StepType.PICKUP, "delivery": StepType.DELIVERY}


def route_cost(vehicle: Vehicle, distance_m: float, travel_s: float, duration_s: float) -> float:
    """What a used vehicle costs: fixed, per km driven, per hour of travel and of work."""
    return (
        vehicle.fixed_cost
        + vehicle.cost_per_km * distance_m / 1000
        + vehicle.cost_per_hour * travel_s / 3600
        + vehicle.cost_per_working_hour * duration_s / 3600
    )


def _route(problem: CompiledProblem, vehicle_index: int, timed: RouteSchedule) -> Route:
    request, tasks = problem.request, problem.resolved.tasks
    vehicle = request.vehicles[vehicle_index]
    dims = problem.dimensions
    jobs = [s.index for s in timed.steps if s.kind == "job" and s.index is not None]
    delivered = {
        name: sum(
            (tasks[i].delivery.get(name, 0.0) + tasks[i].unload.get(name, 0.0) for i in jobs), 0.0
        )
        for name in dims
    }
    trips = _trips(timed)
    load = _trip_load(problem, trips[0])
    start = timed.steps[0].departure
    steps: list[Step] = []
    for item in timed.steps:
        entity_id = None
        location, location_index = None, None
        service_s = (item.departure - item.service_start) / TIME_SCALE
        kind = _KIND[item.kind]
        if item.kind == "job":
            assert item.index is not None
            stop = tasks[item.index]
            kind = _TASK_KIND[stop.kind]
            entity_id = stop.id
            location, location_index = stop.location, stop.location_index
            for name in dims:
                load[name] += (
                    stop.pickup.get(name, 0.0)
                    - stop.delivery.get(name, 0.0)
                    - stop.unload.get(name, 0.0)
                )
        elif item.kind == "break":
            assert item.index is not None
            entity_id = vehicle.breaks[item.index].id
        elif item.kind == "reload":
            assert item.index is not None
            trips.pop(0)
            load = _trip_load(problem, trips[0])
            if vehicle.reload_indices:
                location_index = vehicle.reload_indices[item.index]
            else:
                location = vehicle.reload_locations[item.index]
        elif item.kind == "start":
            location, location_index = vehicle.start, vehicle.start_index
        else:
            location, location_index = vehicle.end, vehicle.end_index
        if item.kind in ("start", "end") and item.location == NO_LOCATION:
            location = location_index = None
        arrival_s = item.arrival / TIME_SCALE
        steps.append(
            Step(
                type=kind,
                id=entity_id,
                location=location,
                location_index=location_index,
                arrival_s=arrival_s,
                service_start_s=item.service_start / TIME_SCALE,
                departure_s=item.departure / TIME_SCALE,
                waiting_s=(item.service_start - item.arrival) / TIME_SCALE,
                service_s=service_s,
                load={name: round(value, 9) for name, value in load.items()},
                distance_m=item.distance / DISTANCE_SCALE,
                duration_s=(item.arrival - start) / TIME_SCALE,
                arrival_time=(
                    request.day_start + timedelta(seconds=arrival_s) if request.day_start else None
                ),
            )
        )
    distance_m = timed.steps[-1].distance / DISTANCE_SCALE
    travel_s = sum(s.travel for s in timed.steps) / TIME_SCALE
    summary = RouteSummary(
        stops=len(jobs),
        distance_m=distance_m,
        duration_s=timed.span / TIME_SCALE,
        travel_s=travel_s,
        service_s=sum(s.service_s for s in steps if s.type.is_visit),
        waiting_s=sum(s.waiting_s for s in steps),
        break_s=sum(s.service_s for s in steps if s.type == StepType.BREAK),
        reload_s=sum(s.service_s for s in steps if s.type == StepType.RELOAD),
        reloads=sum(s.type == StepType.RELOAD for s in steps),
        start_s=start / TIME_SCALE,
        end_s=timed.steps[-1].arrival / TIME_SCALE,
        delivered=delivered,
        capacity=dict(vehicle.capacity),
        cost=route_cost(vehicle, distance_m, travel_s, timed.span / TIME_SCALE),
    )
    return Route(vehicle_id=vehicle.id, steps=steps, summary=summary)


def _trips(timed: RouteSchedule) -> list[list[int]]:
    """The stops (request indices) of each trip: the route split at its reloads."""
    trips: list[list[int]] = [[]]
    for step in timed.steps:
        if step.kind == "reload":
            trips.append([])
        elif step.kind == "job" and step.index is not None:
            trips[-1].append(step.index)
    return trips


def _trip_load(problem: CompiledProblem, trip: list[int]) -> dict[str, float]:
    """What a trip leaves with: its deliveries (its pickups are collected on the way)."""
    tasks = problem.resolved.tasks
    return {
        name: sum((tasks[i].delivery.get(name, 0.0) for i in trip), 0.0)
        for name in problem.dimensions
    }


def reload_places(
    problem: CompiledProblem, vehicle: int, reloads: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """A raw route's reloads as (position, node) pairs, made (position, reload place) pairs."""
    rows = [int(x) for x in problem.resolved.table.reload_rows(vehicle)]
    return [(p, rows.index(int(problem.node_location[node]))) for p, node in reloads]


def balance_cost(request: RoutingRequest, routes: list[Route]) -> float:
    """``options.balance``: its weight times the largest route's metric (0 without it)."""
    balance = request.options.balance
    if balance is None or not routes:
        return 0.0
    per_route = {
        "duration": [r.summary.duration_s / 3600 for r in routes],
        "stops": [float(r.summary.stops) for r in routes],
        "distance": [r.summary.distance_m / 1000 for r in routes],
    }[balance.metric]
    return balance.weight * max(per_route)


def _dropped(problem: CompiledProblem, solution: VrpSolution) -> list[Unassigned]:
    out = []
    for node in solution.dropped:
        stop = problem.resolved.tasks[int(problem.stop_of_node[int(node)])]
        if stop.optional:
            out.append(
                Unassigned(
                    id=stop.id,
                    reason=UnassignedReason.DROPPED_FOR_COST,
                    message=f"serving it would cost more than its drop_penalty {stop.drop_penalty}",
                )
            )
        else:
            out.append(
                Unassigned(
                    id=stop.id,
                    reason=UnassignedReason.NO_ROOM_IN_PLAN,
                    message=(
                        "each vehicle could serve it alone, but no route found room for it "
                        "with the other stops (capacity, time windows, shifts or limits)"
                        if solution.found
                        else "the solver found no plan at all in the time allowed"
                    ),
                )
            )
    return out


def _summary(
    problem: CompiledProblem, routes: list[Route], unassigned: list[Unassigned]
) -> Summary:
    request, tasks = problem.request, problem.resolved.tasks
    order = {stop.id: i for i, stop in enumerate(tasks)}
    penalty = sum(
        tasks[order[u.id]].drop_penalty or 0.0 for u in unassigned if tasks[order[u.id]].optional
    )
    vehicles = {v.id: v for v in request.vehicles}
    fixed = sum(vehicles[r.vehicle_id].fixed_cost for r in routes)
    route_total = sum(r.summary.cost for r in routes)
    reassigned = sum(
        1
        for r in routes
        for step in r.steps
        if step.id in order
        and step.type.is_visit
        and tasks[order[step.id]].assigned_vehicle not in (None, r.vehicle_id)
    )
    reassign = reassigned * request.options.reassign_penalty
    balance = balance_cost(request, routes)
    return Summary(
        cost=route_total + penalty + reassign + balance,
        travel_cost=route_total - fixed,
        fixed_cost=fixed,
        drop_penalty=penalty,
        reassign_cost=reassign,
        balance_cost=balance,
        routes=len(routes),
        stops_served=sum(r.summary.stops for r in routes),
        unassigned=len(unassigned),
        distance_m=sum(r.summary.distance_m for r in routes),
        duration_s=sum(r.summary.duration_s for r in routes),
        travel_s=sum(r.summary.travel_s for r in routes),
        service_s=sum(r.summary.service_s for r in routes),
        waiting_s=sum(r.summary.waiting_s for r in routes),
    )


def _scheduled(
    problem: CompiledProblem,
    vehicle: int,
    stops: list[int],
    breaks: list[tuple[int, int]],
    reloads: list[tuple[int, int]] | None = None,
) -> Route:
    shift = vehicle_shift(problem.request.vehicles[vehicle], problem.horizon)
    timed = best_schedule(problem.resolved, vehicle, stops, breaks, shift, reloads or ())
    return _route(problem, vehicle, timed)


def decode(problem: CompiledProblem, solution: VrpSolution, backend: str) -> RoutingResult:
    """Routes with earliest-time schedules, unassigned stops with reasons, totals and stats."""
    request = problem.request
    routes = [
        _scheduled(
            problem,
            raw.vehicle,
            [int(problem.stop_of_node[int(n)]) for n in raw.stops],
            [(b.break_index, b.position) for b in raw.breaks],
            reload_places(problem, raw.vehicle, [(r.position, r.node) for r in raw.reloads]),
        )
        for raw in solution.routes
    ]
    unassigned = problem.rejected + _dropped(problem, solution)
    order = {stop.id: i for i, stop in enumerate(problem.resolved.tasks)}
    unassigned.sort(key=lambda u: order[u.id])
    summary = _summary(problem, routes, unassigned)
    status = "failed" if not solution.found else "partial" if unassigned else "complete"
    stats = RoutingStats(
        status=status,
        backend=backend,
        solver_status=solution.status,
        objective=None if solution.objective is None else solution.objective / COST_SCALE,
        first_solution_s=solution.first_solution_s,
        solve_s=solution.solve_s,
        matrix_s=problem.resolved.matrix_s,
        worker_errors=list(solution.worker_errors),
    )
    return RoutingResult(
        summary=summary,
        routes=routes,
        unassigned=unassigned,
        stats=stats,
        day_start=request.day_start,
    )


def scheduled_route(
    problem: CompiledProblem,
    vehicle: int,
    stops: list[int],
    breaks: list[tuple[int, int]],
    reloads: list[tuple[int, int]] | None = None,
) -> Route:
    """The route of ``vehicle`` over ``stops`` (request indices) with ``breaks`` as
    (break index, leg) pairs and ``reloads`` as (position, reload place) pairs, on its best
    punctual schedule."""
    return _scheduled(problem, vehicle, stops, breaks, reloads)


def plan_summary(
    problem: CompiledProblem, routes: list[Route], unassigned: list[Unassigned]
) -> Summary:
    """The totals of a plan made of ``routes``, with ``unassigned`` left out."""
    return _summary(problem, routes, unassigned)


def empty_solution(problem: CompiledProblem) -> VrpSolution:
    """The solution of a problem with no stop left to route (all rejected or none given)."""
    return VrpSolution([], np.zeros(0, dtype=np.int64), 0, "nothing_to_route", 0.0, 0.0)


def place_breaks(problem: CompiledProblem, vehicle: int, stops: list[int]) -> list[tuple[int, int]]:
    """Put each of a vehicle's breaks on the first leg where the schedule stays punctual."""
    placed: list[tuple[int, int]] = []
    shift = vehicle_shift(problem.request.vehicles[vehicle], problem.horizon)
    for brk in range(len(problem.request.vehicles[vehicle].breaks)):
        choice = (brk, 0)
        for leg in range(len(stops) + 1):
            trial = sorted([*placed, (brk, leg)], key=lambda x: x[1])
            timed = best_schedule(problem.resolved, vehicle, stops, trial, shift)
            if not timed.late and timed.steps[-1].arrival <= shift[1]:
                choice = (brk, leg)
                break
        placed = sorted([*placed, choice], key=lambda x: x[1])
    return placed


def plan_from_sequences(
    problem: CompiledProblem, sequences: dict[Id, list[Id]], backend: str = "given"
) -> RoutingResult:
    """A result from bare routes: stop ids in visiting order per vehicle id.

    Times are the earliest punctual schedule; each break goes on the first leg where it fits.
    Stops in no route are unassigned. Unknown ids raise ``InvalidInputError``.
    """
    request = problem.request
    vehicle_index = {v.id: i for i, v in enumerate(request.vehicles)}
    stop_index = {s.id: i for i, s in enumerate(problem.resolved.tasks)}
    routes = []
    for vehicle_id, stop_ids in sequences.items():
        if vehicle_id not in vehicle_index:
            raise InvalidInputError(f"routes: unknown vehicle id {vehicle_id!r}")
        unknown = [s for s in stop_ids if s not in stop_index]
        if unknown:
            raise InvalidInputError(f"routes[{vehicle_id!r}]: unknown stop ids {unknown}")
        if not stop_ids:
            continue
        v = vehicle_index[vehicle_id]
        stops = [stop_index[s] for s in stop_ids]
        routes.append(_scheduled(problem, v, stops, place_breaks(problem, v, stops)))
    served = {s for ids in sequences.values() for s in ids}
    unassigned = [
        Unassigned(
            id=stop.id,
            reason=UnassignedReason.DROPPED_FOR_COST
            if stop.optional
            else UnassignedReason.NO_ROOM_IN_PLAN,
            message="not in any of the given routes",
        )
        for stop in problem.resolved.tasks
        if stop.id not in served
    ]
    stats = RoutingStats(
        status="partial" if unassigned else "complete",
        backend=backend,
        solver_status="given",
        solve_s=0.0,
        matrix_s=problem.resolved.matrix_s,
    )
    return RoutingResult(
        summary=_summary(problem, routes, unassigned),
        routes=routes,
        unassigned=unassigned,
        stats=stats,
        day_start=request.day_start,
    )
