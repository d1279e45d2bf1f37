"""Bare routes (stop ids per vehicle) made into a full plan by the evaluator's own schedule.

Each route gets the punctual schedule of shortest span over its candidate starts
(:func:`engine.routing.evaluate_schedule.best_timing`); each break, in the order of its first
window, goes at the first position among the route's steps where a punctual schedule exists
(at the front if none does). A route with no punctual schedule keeps the earliest one, late
steps and all, for the evaluator to report.
"""

from __future__ import annotations

from datetime import timedelta

from engine.routing.evaluate_schedule import (
    NOWHERE,
    Geometry,
    Item,
    Timed,
    best_timing,
    merged_windows,
    simulate,
)
from engine.units import DISTANCE_SCALE, TIME_SCALE
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
)
from models.status import UnassignedReason

_VISIT = {"job": StepType.STOP, "pickup": StepType.PICKUP, "delivery": StepType.DELIVERY}


def _with_breaks(geo: Geometry, v: int, stops: list[int]) -> list[Item]:
    """The route's stops with each break at the first position that keeps it punctual."""
    items: list[Item] = [("stop", i) for i in stops]
    breaks = geo.request.vehicles[v].breaks
    for b in sorted(range(len(breaks)), key=lambda k: merged_windows(breaks[k].time_windows)[0]):
        choice = [("break", b), *items]
        for k in range(len(items) + 1):
            trial = [*items[:k], ("break", b), *items[k:]]
            if best_timing(geo, v, trial, shortest=False) is not None:
                choice = trial
                break
        items = choice
    return items


def _schedule(geo: Geometry, v: int, items: list[Item]) -> list[Timed]:
    timed = best_timing(geo, v, items, shortest=True)
    if timed is None:
        lo, _ = geo.shift(geo.request.vehicles[v])
        timed = simulate(geo, v, items, lo, lenient=True)
    assert timed is not None
    return timed


def _route(geo: Geometry, v: int, timed: list[Timed]) -> Route:
    """Steps and summary of a scheduled route, in the user's units."""
    request = geo.request
    vehicle = request.vehicles[v]
    visits = [geo.tasks[s.index] for s in timed if s.kind == "stop" and s.index is not None]
    names = sorted(set(vehicle.capacity) | {n for t in visits for n in t.demand})
    load = {n: sum(t.delivery.get(n, 0.0) for t in visits) for n in names}
    start = timed[0].departure
    steps: list[Step] = []
    for item in timed:
        kind, entity, location, index = StepType.START, None, vehicle.start, vehicle.start_index
        if item.kind == "stop":
            assert item.index is not None
            task = geo.tasks[item.index]
            kind, entity = _VISIT[task.kind], task.id
            location, index = task.location, task.location_index
            for n in names:
                load[n] += task.pickup.get(n, 0.0) - task.delivery.get(n, 0.0)
                load[n] -= task.unload.get(n, 0.0)
        elif item.kind == "break":
            assert item.index is not None
            kind, entity, location, index = (
                StepType.BREAK,
                vehicle.breaks[item.index].id,
                None,
                None,
            )
        elif item.kind == "end":
            kind, location, index = StepType.END, vehicle.end, vehicle.end_index
        row = geo.start_row[v] if item.kind == "start" else geo.end_row[v]
        if item.kind in ("start", "end") and row == NOWHERE:
            location = index = None
        arrival_s = item.arrival / TIME_SCALE
        steps.append(
            Step(
                type=kind,
                id=entity,
                location=location,
                location_index=index,
                arrival_s=arrival_s,
                service_start_s=item.begin / TIME_SCALE,
                departure_s=item.departure / TIME_SCALE,
                waiting_s=(item.begin - item.arrival) / TIME_SCALE,
                service_s=(item.departure - item.begin) / TIME_SCALE,
                load={n: round(value, 9) for n, value in load.items()},
                distance_m=item.distance / DISTANCE_SCALE,
                duration_s=(item.arrival - start) / TIME_SCALE,
                arrival_time=(
                    request.day_start + timedelta(seconds=arrival_s) if request.day_start else None
                ),
            )
        )
    distance_m = timed[-1].distance / DISTANCE_SCALE
    travel_s = sum(s.travel for s in timed) / TIME_SCALE
    duration_s = (timed[-1].arrival - start) / TIME_SCALE
    summary = RouteSummary(
        stops=len(visits),
        distance_m=distance_m,
        duration_s=duration_s,
        travel_s=travel_s,
        service_s=sum(s.service_s for s in steps if s.type.is_visit),
        waiting_s=sum(s.waiting_s for s in steps),
        break_s=sum(s.service_s for s in steps if s.type == StepType.BREAK),
        start_s=start / TIME_SCALE,
        end_s=timed[-1].arrival / TIME_SCALE,
        delivered={
            n: sum(t.delivery.get(n, 0.0) + t.unload.get(n, 0.0) for t in visits) for n in names
        },
        capacity=dict(vehicle.capacity),
        cost=vehicle.fixed_cost
        + vehicle.cost_per_km * distance_m / 1000
        + vehicle.cost_per_hour * travel_s / 3600
        + vehicle.cost_per_working_hour * duration_s / 3600,
    )
    return Route(vehicle_id=vehicle.id, steps=steps, summary=summary)


def _balance_cost(request: RoutingRequest, routes: list[Route]) -> float:
    """``options.balance``'s weight times the largest route's metric."""
    balance = request.options.balance
    if balance is None or not routes:
        return 0.0
    metric = {
        "duration": lambda r: r.summary.duration_s / 3600,
        "stops": lambda r: float(r.summary.stops),
        "distance": lambda r: r.summary.distance_m / 1000,
    }[balance.metric]
    return balance.weight * max(metric(r) for r in routes)


def plan_from_routes(geo: Geometry, sequences: dict[Id, list[Id]]) -> RoutingResult:
    """A result from bare routes; stops in no route are unassigned. Unknown ids raise
    :class:`InvalidInputError` naming the route and the ids."""
    request = geo.request
    vehicle_index = {v.id: k for k, v in enumerate(request.vehicles)}
    task_index = {t.id: k for k, t in enumerate(geo.tasks)}
    routes = []
    for vehicle_id, stop_ids in sequences.items():
        if vehicle_id not in vehicle_index:
            raise InvalidInputError(f"routes: unknown vehicle id {vehicle_id!r}")
        unknown = [s for s in stop_ids if s not in task_index]
        if unknown:
            raise InvalidInputError(f"routes[{vehicle_id!r}]: unknown stop ids {unknown}")
        if stop_ids:
            v = vehicle_index[vehicle_id]
            items = _with_breaks(geo, v, [task_index[s] for s in stop_ids])
            routes.append(_route(geo, v, _schedule(geo, v, items)))
    served = {s for ids in sequences.values() for s in ids}
    unassigned = [
        Unassigned(
            id=t.id,
            reason=UnassignedReason.DROPPED_FOR_COST
            if t.optional
            else UnassignedReason.NO_ROOM_IN_PLAN,
            message="not in any of the given routes",
        )
        for t in geo.tasks
        if t.id not in served
    ]
    penalty = sum(t.drop_penalty or 0.0 for t in geo.tasks if t.optional and t.id not in served)
    balance = _balance_cost(request, routes)
    fixed = sum(request.vehicles[vehicle_index[r.vehicle_id]].fixed_cost for r in routes)
    total = sum(r.summary.cost for r in routes)
    summary = Summary(
        cost=total + penalty + balance,
        balance_cost=balance,
        travel_cost=total - fixed,
        fixed_cost=fixed,
        drop_penalty=penalty,
        routes=len(routes),
        stops_served=sum(r.summary.stops for r in routes),
        unassigned=len(unassigned),
        distance_m=sum(r.summary.distance_m for r in routes),
        duration_s=sum(r.summary.duration_s for r in routes),
        travel_s=sum(r.summary.travel_s for r in routes),
        service_s=sum(r.summary.service_s for r in routes),
        waiting_s=sum(r.summary.waiting_s for r in routes),
    )
    stats = RoutingStats(
        status="partial" if unassigned else "complete",
        backend="given",
        solver_status="given",
        solve_s=0.0,
    )
    return RoutingResult(
        summary=summary,
        routes=routes,
        unassigned=unassigned,
        stats=stats,
        day_start=request.day_start,
    )
