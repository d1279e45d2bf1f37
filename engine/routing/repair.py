"""Repair a decoded plan: insert every mandatory stop it left out but could still serve.

A search cut short (time, solution limit) may leave out mandatory stops that fit. After the
decode, each such stop (or shipment: both ends, pickup first, one vehicle) goes to its
cheapest feasible place: any position of any route, or a vehicle left unused. Feasibility
is tested with the engine's own schedule (:func:`engine.routing.schedule.best_schedule`):
windows, shift, breaks, capacity over the route (pickups included), skills, max duration,
distance and stops. One pass suffices: inserting stops never makes room for another, so a
stop that fits nowhere now fits nowhere later. Cost: O(left out × positions) schedules.

Left-out stops that still fit nowhere get :attr:`UnassignedReason.SEARCH_TIME_EXHAUSTED`
when the search was cut short, else keep :attr:`UnassignedReason.NO_ROOM_IN_PLAN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement, islice

from engine.routing.compile import CompiledProblem, vehicle_shift
from engine.routing.decode import place_breaks, plan_summary, route_cost, scheduled_route
from engine.routing.schedule import RouteSchedule, best_schedule, schedule_route
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import Id, RoutingResult, StepType, Unassigned, Vehicle
from models.status import SolveStatus, UnassignedReason

#: Capacity and limit tolerances, as the evaluator's.
_LOAD_TOL = 1e-9
_TIME_TOL_S = 0.5 / TIME_SCALE
_DIST_TOL_M = 0.5 / DISTANCE_SCALE

#: Reasons a repair may overturn: the search's, not a pre-check's proof.
#: Most break placements tried per insertion once the usual ones fail.
MOVED_BREAKS_BUDGET = 2000
_SEARCH_REASONS = {UnassignedReason.NO_ROOM_IN_PLAN, UnassignedReason.SEARCH_TIME_EXHAUSTED}


@dataclass
class _Plan:
    """Routes as request indices: per vehicle, its stops and its (break, leg) pairs."""

    stops: dict[int, list[int]]
    breaks: dict[int, list[tuple[int, int]]]
    cost: dict[int, float]


def _plan_of(problem: CompiledProblem, result: RoutingResult) -> _Plan:
    vehicles = {v.id: i for i, v in enumerate(problem.request.vehicles)}
    tasks = {t.id: i for i, t in enumerate(problem.resolved.tasks)}
    plan = _Plan({}, {}, {})
    for route in result.routes:
        v = vehicles[route.vehicle_id]
        spec = {b.id: k for k, b in enumerate(problem.request.vehicles[v].breaks)}
        stops: list[int] = []
        breaks: list[tuple[int, int]] = []
        for step in route.steps:
            if step.type.is_visit and step.id is not None:
                stops.append(tasks[step.id])
            elif step.type == StepType.BREAK and step.id is not None:
                breaks.append((spec[step.id], len(stops)))
        plan.stops[v], plan.breaks[v], plan.cost[v] = stops, breaks, route.summary.cost
    return plan


def _loads_fit(problem: CompiledProblem, v: int, stops: list[int]) -> bool:
    """Capacity in every dimension at the start and after each visit, never below zero."""
    tasks, capacity = problem.resolved.tasks, problem.request.vehicles[v].capacity
    names = set(capacity) | {n for i in stops for n in tasks[i].demand}
    load = {n: sum(tasks[i].delivery.get(n, 0.0) for i in stops) for n in names}
    for k in range(len(stops) + 1):
        for name, value in load.items():
            if value < -_LOAD_TOL or (name in capacity and value > capacity[name] + _LOAD_TOL):
                return False
        if k < len(stops):
            task = tasks[stops[k]]
            for name in names:
                load[name] += (
                    task.pickup.get(name, 0.0)
                    - task.delivery.get(name, 0.0)
                    - task.unload.get(name, 0.0)
                )
    return True


def _timed(
    problem: CompiledProblem, v: int, stops: list[int], breaks: list[tuple[int, int]]
) -> RouteSchedule | None:
    """The best punctual schedule within the vehicle's shift and limits, or None."""
    vehicle = problem.request.vehicles[v]
    shift = vehicle_shift(vehicle, problem.horizon)
    if schedule_route(problem.resolved, v, stops, breaks, shift[0]).late:
        return None  # best_schedule would return this very schedule: cheap early exit
    timed = best_schedule(problem.resolved, v, stops, breaks, shift)
    if timed.late or timed.steps[-1].arrival > shift[1]:
        return None
    if vehicle.max_duration_s is not None and (
        timed.span / TIME_SCALE > vehicle.max_duration_s + _TIME_TOL_S
    ):
        return None
    distance_m = timed.steps[-1].distance / DISTANCE_SCALE
    if vehicle.max_distance_m is not None and distance_m > vehicle.max_distance_m + _DIST_TOL_M:
        return None
    return timed


def _shifted(breaks: list[tuple[int, int]], at: int, before: bool) -> list[tuple[int, int]]:
    """Break legs after inserting a stop at position ``at``; one on leg ``at`` goes before
    the new stop or after it."""
    return [(b, leg + (leg > at or (leg == at and not before))) for b, leg in breaks]


def _try(
    problem: CompiledProblem, plan: _Plan, v: int, stops: list[int], cuts: list[int]
) -> tuple[float, list[tuple[int, int]]] | None:
    """Cost and breaks of vehicle ``v`` running ``stops`` (new stops inserted at ``cuts``)."""
    vehicle = problem.request.vehicles[v]
    if vehicle.max_stops is not None and len(stops) > vehicle.max_stops:
        return None
    if not _loads_fit(problem, v, stops):
        return None
    options: list[list[tuple[int, int]]] = []
    if v in plan.stops:  # the route's breaks where they were, around the new stops
        for before in (True, False):
            moved = plan.breaks.get(v, [])
            for at in cuts:
                moved = _shifted(moved, at, before)
            if moved not in options:
                options.append(moved)
    if not vehicle.breaks:
        options = options[:1] or [[]]
    for breaks in [*options, None] if vehicle.breaks else options:
        if breaks is None:  # dearer: each break on its first punctual leg
            breaks = place_breaks(problem, v, stops)
        timed = _timed(problem, v, stops, breaks)
        if timed is not None:
            return _cost(vehicle, timed) - plan.cost.get(v, 0.0), breaks
    if vehicle.breaks and _timed(problem, v, stops, []) is not None:
        # last resort (breaks only add time, so only when the stops fit without them): the
        # breaks, in order, on every combination of legs, up to a budget
        legs = combinations_with_replacement(range(len(stops) + 1), len(vehicle.breaks))
        for placement in islice(legs, MOVED_BREAKS_BUDGET):
            breaks = list(enumerate(placement))
            timed = _timed(problem, v, stops, breaks)
            if timed is not None:
                return _cost(vehicle, timed) - plan.cost.get(v, 0.0), breaks
    return None


def _cost(vehicle: Vehicle, timed: RouteSchedule) -> float:
    distance_m = timed.steps[-1].distance / DISTANCE_SCALE
    travel_s = sum(s.travel for s in timed.steps) / TIME_SCALE
    return route_cost(vehicle, distance_m, travel_s, timed.span / TIME_SCALE)


_Move = tuple[float, int, list[int], list[tuple[int, int]]]


def _best_move(problem: CompiledProblem, plan: _Plan, ends: list[int]) -> _Move | None:
    """The cheapest feasible insertion of ``ends`` (one stop, or pickup then delivery)."""
    tasks = problem.resolved.tasks
    vehicles = problem.request.vehicles
    index = {t.id: i for i, t in enumerate(tasks)}
    locked = {index[s]: v for s, v in problem.request.locked_by().items()}
    best: _Move | None = None
    for v, vehicle in enumerate(vehicles):
        if any(not tasks[i].allows(vehicle) or locked.get(i, v) != v for i in ends):
            continue
        route = plan.stops.get(v, [])
        n, first = len(route), len(vehicle.locked_stops)  # never inside a locked prefix
        places = (
            [(p,) for p in range(first, n + 1)]
            if len(ends) == 1
            else [(p, q) for p in range(first, n + 1) for q in range(p, n + 1)]
        )
        for place in places:
            stops = list(route)
            for offset, (at, task) in enumerate(zip(place, ends, strict=True)):
                stops.insert(at + offset, task)
            found = _try(problem, plan, v, stops, [p + k for k, p in enumerate(place)])
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], v, stops, found[1])
    return best


def repair(problem: CompiledProblem, result: RoutingResult, *, cut_short: bool) -> RoutingResult:
    """Insert every left-out mandatory stop that fits; relabel the rest (see the module doc).

    ``cut_short``: the search stopped on its time or solution limit without a plan serving
    every mandatory stop it could; it sets ``stats.time_limit_reached``. Returns ``result``
    itself when no mandatory stop is left out by the search.
    """
    tasks = problem.resolved.tasks
    order = {t.id: i for i, t in enumerate(tasks)}
    open_ids = [
        u.id
        for u in result.unassigned
        if u.reason in _SEARCH_REASONS and not tasks[order[u.id]].optional
    ]
    open_ids.sort(key=lambda i: -tasks[order[i]].priority)  # higher priorities choose first
    result.stats.time_limit_reached = cut_short and bool(open_ids)
    if not open_ids:
        return result
    plan = _plan_of(problem, result)
    inserted: set[Id] = set()
    for task_id in open_ids:
        index = order[task_id]
        task = tasks[index]
        if task.id in inserted or (task.kind == "delivery" and task.partner is not None):
            continue  # a shipment is inserted from its pickup end
        ends = [index] if task.partner is None else [index, task.partner]
        move = _best_move(problem, plan, ends)
        if move is None:
            continue
        delta, v, stops, breaks = move
        plan.stops[v], plan.breaks[v] = stops, breaks
        plan.cost[v] = plan.cost.get(v, 0.0) + delta
        inserted.update(tasks[i].id for i in ends)
    if not inserted:
        return _relabel(result, cut_short)
    routes = [
        scheduled_route(problem, v, plan.stops[v], plan.breaks[v]) for v in sorted(plan.stops)
    ]
    unassigned = [u for u in result.unassigned if u.id not in inserted]
    stats = result.stats.model_copy(
        update={
            "repaired": len(inserted),
            "status": SolveStatus.PARTIAL if unassigned else SolveStatus.COMPLETE,
        }
    )
    repaired = result.model_copy(
        update={
            "routes": routes,
            "unassigned": unassigned,
            "summary": plan_summary(problem, routes, unassigned),
            "stats": stats,
            "evaluation": None,
        }
    )
    return _relabel(repaired, cut_short)


def _relabel(result: RoutingResult, cut_short: bool) -> RoutingResult:
    """Left-out mandatory stops of a search cut short: ``search_time_exhausted``."""
    if not cut_short:
        return result
    result.unassigned = [
        Unassigned(
            id=u.id,
            reason=UnassignedReason.SEARCH_TIME_EXHAUSTED,
            message=(
                "no route of this plan has room for it, and the search stopped on its time or "
                "solution limit before finding a plan that serves every mandatory stop; a "
                "longer time_limit_s may place it"
            ),
        )
        if u.reason in _SEARCH_REASONS
        else u
        for u in result.unassigned
    ]
    return result
