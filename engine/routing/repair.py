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

from dataclasses import dataclass, field
from itertools import combinations_with_replacement, islice, pairwise

from engine.routing.compile import CompiledProblem, vehicle_shift
from engine.routing.decode import place_breaks, plan_summary, route_cost, scheduled_route
from engine.routing.schedule import RouteSchedule, best_schedule, schedule_route
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import Id, RoutingResult, Step, StepType, Unassigned, Vehicle
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
    reloads: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def _plan_of(problem: CompiledProblem, result: RoutingResult) -> _Plan:
    vehicles = {v.id: i for i, v in enumerate(problem.request.vehicles)}
    tasks = {t.id: i for i, t in enumerate(problem.resolved.tasks)}
    plan = _Plan({}, {}, {})
    for route in result.routes:
        v = vehicles[route.vehicle_id]
        spec = {b.id: k for k, b in enumerate(problem.request.vehicles[v].breaks)}
        stops: list[int] = []
        breaks: list[tuple[int, int]] = []
        reloads: list[tuple[int, int]] = []
        for step in route.steps:
            if step.type.is_visit and step.id is not None:
                stops.append(tasks[step.id])
            elif step.type == StepType.BREAK and step.id is not None:
                breaks.append((spec[step.id], len(stops)))
            elif step.type == StepType.RELOAD:
                reloads.append((len(stops), _place(problem.request.vehicles[v], step)))
        plan.stops[v], plan.breaks[v], plan.cost[v] = stops, breaks, route.summary.cost
        plan.reloads[v] = reloads
    return plan


def _place(vehicle: Vehicle, step: Step) -> int:
    """Which of the vehicle's reload places a reload step is at (the decode names one)."""
    if vehicle.reload_indices:
        return vehicle.reload_indices.index(step.location_index or 0)
    assert step.location is not None
    return [tuple(p) for p in vehicle.reload_locations].index(tuple(step.location))


def _loads_fit(
    problem: CompiledProblem, v: int, stops: list[int], reloads: list[tuple[int, int]]
) -> bool:
    """Capacity in every dimension at the start and after each visit, never below zero, on
    every trip (a reload at position p ends a trip before stop p)."""
    cuts = sorted({p for p, _ in reloads})
    if cuts:
        bounds = [0, *cuts, len(stops)]
        return all(_loads_fit(problem, v, stops[a:b], []) for a, b in pairwise(bounds))
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
    problem: CompiledProblem,
    v: int,
    stops: list[int],
    breaks: list[tuple[int, int]],
    reloads: list[tuple[int, int]] | None = None,
) -> RouteSchedule | None:
    """The best punctual schedule within the vehicle's shift and limits, or None."""
    vehicle = problem.request.vehicles[v]
    shift = vehicle_shift(vehicle, problem.horizon)
    given = reloads or []
    if schedule_route(problem.resolved, v, stops, breaks, shift[0], given).late:
        return None  # best_schedule would return this very schedule: cheap early exit
    timed = best_schedule(problem.resolved, v, stops, breaks, shift, given)
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


#: What a tried insertion gives: the cost it adds, the route's breaks and its reloads.
_Tried = tuple[float, list[tuple[int, int]], list[tuple[int, int]]]


def _try(
    problem: CompiledProblem, plan: _Plan, v: int, stops: list[int], cuts: list[int]
) -> _Tried | None:
    """Cost, breaks and reloads of vehicle ``v`` running ``stops`` (new stops inserted at
    ``cuts``)."""
    vehicle = problem.request.vehicles[v]
    if vehicle.max_stops is not None and len(stops) > vehicle.max_stops:
        return None
    if vehicle.has_reloads:  # no breaks then (the backends refuse both together)
        return _try_reloads(problem, plan, v, stops, cuts)
    if not _loads_fit(problem, v, stops, []):
        return None
    if vehicle.breaks and _timed(problem, v, stops, []) is None:
        return None  # breaks only add time: what does not fit without them never fits
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
            return _cost(vehicle, timed) - plan.cost.get(v, 0.0), breaks, []
    if vehicle.breaks:
        # last resort (the stops fit without the breaks, checked above): the breaks, in
        # order, on every combination of legs, up to a budget
        legs = combinations_with_replacement(range(len(stops) + 1), len(vehicle.breaks))
        for placement in islice(legs, MOVED_BREAKS_BUDGET):
            breaks = list(enumerate(placement))
            timed = _timed(problem, v, stops, breaks)
            if timed is not None:
                return _cost(vehicle, timed) - plan.cost.get(v, 0.0), breaks, []
    return None


def _shifted_reloads(
    reloads: list[tuple[int, int]], at: int, before: bool
) -> list[tuple[int, int]]:
    """Reload positions after inserting a stop at position ``at``; a reload at ``at`` stays
    before the new stop or goes after it."""
    return [(p + (p > at or (p == at and not before)), place) for p, place in reloads]


def _try_reloads(
    problem: CompiledProblem, plan: _Plan, v: int, stops: list[int], cuts: list[int]
) -> _Tried | None:
    """Cost of a reloading vehicle running ``stops``: the route's reloads kept before or after
    the new stop, or a new reload (at each place, within max_reloads) just before it."""
    vehicle = problem.request.vehicles[v]
    given = plan.reloads.get(v, [])
    options: list[list[tuple[int, int]]] = []
    for before in (True, False):
        moved = given
        for at in cuts:
            moved = _shifted_reloads(moved, at, before)
        if moved not in options:
            options.append(moved)
    room = vehicle.max_reloads is None or len(given) < vehicle.max_reloads
    places = len(vehicle.reload_locations or vehicle.reload_indices) if room else 0
    if len(cuts) == 1 and cuts[0] > 0:
        shifted = _shifted_reloads(given, cuts[0], False)
        options += [sorted([*shifted, (cuts[0], k)]) for k in range(places)]
    best: tuple[float, list[tuple[int, int]]] | None = None
    for reloads in options:
        if len({p for p, _ in reloads}) < len(reloads) or not _loads_fit(
            problem, v, stops, reloads
        ):
            continue
        timed = _timed(problem, v, stops, [], reloads)
        if timed is not None:
            cost = _cost(vehicle, timed) - plan.cost.get(v, 0.0)
            if best is None or cost < best[0]:
                best = (cost, reloads)
    return None if best is None else (best[0], [], best[1])


def _cost(vehicle: Vehicle, timed: RouteSchedule) -> float:
    distance_m = timed.steps[-1].distance / DISTANCE_SCALE
    travel_s = sum(s.travel for s in timed.steps) / TIME_SCALE
    return route_cost(vehicle, distance_m, travel_s, timed.span / TIME_SCALE)


_Move = tuple[float, int, list[int], list[tuple[int, int]], list[tuple[int, int]]]


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
                best = (found[0], v, stops, found[1], found[2])
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
        delta, v, stops, breaks, reloads = move
        plan.stops[v], plan.breaks[v], plan.reloads[v] = stops, breaks, reloads
        plan.cost[v] = plan.cost.get(v, 0.0) + delta
        inserted.update(tasks[i].id for i in ends)
    if not inserted:
        return _relabel(result, cut_short)
    routes = [
        scheduled_route(problem, v, plan.stops[v], plan.breaks[v], plan.reloads.get(v))
        for v in sorted(plan.stops)
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
