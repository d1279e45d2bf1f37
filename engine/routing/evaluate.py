"""The independent evaluator: recompute every number of a plan and check every constraint.

It never calls a solver and never trusts a reported figure: it walks each route step by step
over the same tick-rounded matrices the solve used, and reports each broken constraint or
each number that does not add up as a :class:`Violation`. It checks:

* coverage: every stop served exactly once or listed as unassigned, ids known;
* capacity in every dimension, skills, shifts, time windows, service times;
* travel consistency: no step is reached before the previous one's departure plus travel
  (and breaks taken on the way), waiting and departure add up;
* breaks: each break of a used vehicle taken once, inside a window, between visits;
* max duration, distance and stops per vehicle;
* reported loads, cumulative distances, route summaries, costs and totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.matrices import TravelMatrices
from engine.routing.compile import compile_request
from engine.routing.decode import plan_from_sequences
from engine.routing.locations import NO_LOCATION, ResolvedRequest, resolve
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import (
    Evaluation,
    Id,
    Route,
    RoutingRequest,
    RoutingResult,
    StepType,
    Task,
    Violation,
)

#: Times and distances are exact to a tick (0.1); half a tick absorbs user-value rounding.
TIME_TOL_S = 0.5 / TIME_SCALE + 1e-6
DIST_TOL_M = 0.5 / DISTANCE_SCALE + 1e-6
COST_RTOL = 1e-6


@dataclass
class _Report:
    """Collects violations."""

    violations: list[Violation] = field(default_factory=list)

    def add(
        self, code: str, message: str, vehicle: Id | None = None, stop: Id | None = None
    ) -> None:
        self.violations.append(
            Violation(code=code, message=message, vehicle_id=vehicle, stop_id=stop)
        )


def _check_load(
    load: dict[str, float], capacity: dict[str, float], when: str, vid: Id, report: _Report
) -> None:
    """Report a load above the capacity, or below zero (goods dropped before collected)."""
    for name, value in load.items():
        if name in capacity and value > capacity[name] + 1e-9:
            report.add("capacity", f"load {value} of {name!r} {when} exceeds {capacity[name]}", vid)
        if value < -1e-9:
            report.add("negative_load", f"load {value} of {name!r} {when} is below zero", vid)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _cost_close(a: float, b: float) -> bool:
    return abs(a - b) <= COST_RTOL * max(1.0, abs(a), abs(b))


@dataclass
class _RouteTotals:
    distance_m: float = 0.0
    travel_s: float = 0.0
    duration_s: float = 0.0
    cost: float = 0.0


def _check_route(
    resolved: ResolvedRequest,
    route: Route,
    vehicle_index: int,
    served: dict[Id, Id],
    report: _Report,
) -> _RouteTotals:
    request, table, ticks = resolved.request, resolved.table, resolved.ticks
    vehicle = request.vehicles[vehicle_index]
    vid = vehicle.id
    tasks = resolved.tasks
    stop_index = {s.id: i for i, s in enumerate(tasks)}
    travel = ticks.time(vehicle.speed_factor)
    steps = route.steps
    totals = _RouteTotals()
    if len(steps) < 2 or steps[0].type != StepType.START or steps[-1].type != StepType.END:
        report.add(
            "route_shape", "a route must begin with a start step and end with an end step", vid
        )
        return totals
    if any(s.type in (StepType.START, StepType.END) for s in steps[1:-1]):
        report.add("route_shape", "start and end steps may only come first and last", vid)
        return totals

    jobs = [stop_index.get(s.id) for s in steps if s.type.is_visit]
    rows = [int(table.stop_location[i]) for i in jobs if i is not None]
    here = int(table.vehicle_start[vehicle_index])
    if here == NO_LOCATION:
        here = rows[0] if rows else NO_LOCATION
    end_row = int(table.vehicle_end[vehicle_index])

    # load: the route's deliveries are on board at the start; pickups add, drops remove
    names = set(vehicle.capacity) | {n for i in jobs if i is not None for n in tasks[i].demand}
    load = {
        name: sum(tasks[i].delivery.get(name, 0.0) for i in jobs if i is not None) for name in names
    }
    _check_load(load, vehicle.capacity, "at the start", vid, report)

    start = steps[0]
    shift_lo = vehicle.shift.start_s if vehicle.shift else 0.0
    shift_hi = vehicle.shift.end_s if vehicle.shift else float("inf")
    if start.departure_s < shift_lo - TIME_TOL_S:
        report.add(
            "shift", f"route starts at {start.departure_s} s, before its shift {shift_lo} s", vid
        )
    clock = leg_departure = start.departure_s
    leg_breaks = 0.0
    distance_m = 0.0
    breaks_taken: dict[Id, int] = {}
    break_specs = {b.id: b for b in vehicle.breaks}
    stops_count = 0
    for step in steps[1:]:
        if step.type == StepType.BREAK:
            spec = break_specs.get(step.id)
            if spec is None:
                report.add("break_unknown", f"break {step.id!r} is not one of the vehicle's", vid)
                continue
            breaks_taken[step.id] = breaks_taken.get(step.id, 0) + 1
            if step.arrival_s < clock - TIME_TOL_S:
                report.add(
                    "break_overlap",
                    f"break {step.id!r} begins at {step.arrival_s} s, before the previous step "
                    f"ends at {clock} s",
                    vid,
                )
            if step.service_start_s < step.arrival_s - TIME_TOL_S or not _close(
                step.waiting_s, step.service_start_s - step.arrival_s, TIME_TOL_S
            ):
                report.add("waiting", f"break {step.id!r}: waiting does not add up", vid)
            if not any(
                w.start_s - TIME_TOL_S <= step.service_start_s <= w.end_s + TIME_TOL_S
                for w in spec.time_windows
            ):
                report.add(
                    "break_window",
                    f"break {step.id!r} starts at {step.service_start_s} s, outside its windows",
                    vid,
                )
            if not _close(step.departure_s - step.service_start_s, spec.duration_s, TIME_TOL_S):
                report.add(
                    "break_duration",
                    f"break {step.id!r} lasts {step.departure_s - step.service_start_s} s, "
                    f"not {spec.duration_s} s",
                    vid,
                )
            leg_breaks += spec.duration_s
            clock = max(clock, step.departure_s)
            continue

        if step.type.is_visit:
            i = stop_index.get(step.id)
            if i is None:
                report.add("unknown_stop", f"step visits unknown stop {step.id!r}", vid)
                continue
            stop = tasks[i]
            if step.type.value != stop.kind:
                report.add(
                    "step_type",
                    f"{step.id!r} is a {stop.kind} but the step says {step.type.value}",
                    vid,
                    step.id,
                )
            if step.id in served:
                report.add(
                    "served_twice",
                    f"stop {step.id!r} is served by {served[step.id]!r} and {vid!r}",
                    vid,
                    step.id,
                )
            served[step.id] = vid
            stops_count += 1
            row = int(table.stop_location[i])
        else:
            stop = None
            row = end_row if end_row != NO_LOCATION else here

        leg_ticks = 0 if NO_LOCATION in (here, row) else int(travel[here, row])
        leg_s = leg_ticks / TIME_SCALE
        distance_m += (
            0 if NO_LOCATION in (here, row) else int(ticks.distance[here, row]) / DISTANCE_SCALE
        )
        totals.travel_s += leg_s
        earliest = max(clock, leg_departure + leg_s + leg_breaks)
        who = step.id if stop is not None else None
        if step.arrival_s < earliest - TIME_TOL_S:
            report.add(
                "travel_time",
                f"arrives at {step.arrival_s} s but cannot be there before {earliest} s",
                vid,
                who,
            )
        if not _close(step.distance_m, distance_m, DIST_TOL_M):
            report.add(
                "distance_mismatch",
                f"reports {step.distance_m} m travelled, recomputed {distance_m} m",
                vid,
                who,
            )
        if stop is not None:
            if not stop.skills <= vehicle.skills:
                report.add(
                    "skills",
                    f"stop needs skills {sorted(stop.skills)}, "
                    f"vehicle has {sorted(vehicle.skills)}",
                    vid,
                    stop.id,
                )
            if step.service_start_s < step.arrival_s - TIME_TOL_S:
                report.add("service_before_arrival", "service starts before arrival", vid, stop.id)
            if stop.time_windows and not any(
                w.start_s - TIME_TOL_S <= step.service_start_s <= w.end_s + TIME_TOL_S
                for w in stop.time_windows
            ):
                report.add(
                    "time_window",
                    f"service starts at {step.service_start_s} s, outside its windows "
                    f"{[[w.start_s, w.end_s] for w in stop.time_windows]}",
                    vid,
                    stop.id,
                )
            if not _close(step.service_s, stop.service_s, TIME_TOL_S):
                report.add(
                    "service_time",
                    f"service lasts {step.service_s} s, the stop needs {stop.service_s} s",
                    vid,
                    stop.id,
                )
            if not _close(step.departure_s, step.service_start_s + stop.service_s, TIME_TOL_S):
                report.add("departure", "departure is not service start plus service", vid, stop.id)
            if not _close(step.waiting_s, step.service_start_s - step.arrival_s, TIME_TOL_S):
                report.add("waiting", "waiting is not service start minus arrival", vid, stop.id)
            for name in load:
                load[name] += (
                    stop.pickup.get(name, 0.0)
                    - stop.delivery.get(name, 0.0)
                    - stop.unload.get(name, 0.0)
                )
            _check_load(load, vehicle.capacity, f"after {stop.id!r}", vid, report)
            for name, value in load.items():
                if not _close(step.load.get(name, 0.0), value, 1e-6):
                    report.add(
                        "load_mismatch",
                        f"reports load {step.load.get(name, 0.0)} of {name!r}, recomputed {value}",
                        vid,
                        stop.id,
                    )
            clock = leg_departure = step.departure_s
        else:
            clock = step.arrival_s
        leg_breaks = 0.0
        here = row

    end = steps[-1]
    if end.arrival_s > shift_hi + TIME_TOL_S:
        report.add("shift", f"route ends at {end.arrival_s} s, after its shift {shift_hi} s", vid)
    totals.distance_m = distance_m
    totals.duration_s = end.arrival_s - start.departure_s
    if (
        vehicle.max_duration_s is not None
        and totals.duration_s > vehicle.max_duration_s + TIME_TOL_S
    ):
        report.add(
            "max_duration",
            f"route lasts {totals.duration_s} s, more than max_duration_s {vehicle.max_duration_s}",
            vid,
        )
    if vehicle.max_distance_m is not None and distance_m > vehicle.max_distance_m + DIST_TOL_M:
        report.add(
            "max_distance",
            f"route drives {distance_m} m, more than max_distance_m {vehicle.max_distance_m}",
            vid,
        )
    if vehicle.max_stops is not None and stops_count > vehicle.max_stops:
        report.add(
            "max_stops", f"route has {stops_count} stops, max_stops is {vehicle.max_stops}", vid
        )
    for spec in vehicle.breaks:
        if breaks_taken.get(spec.id, 0) != 1:
            report.add(
                "break_missing" if spec.id not in breaks_taken else "break_repeated",
                f"break {spec.id!r} taken {breaks_taken.get(spec.id, 0)} times, expected once",
                vid,
            )
    totals.cost = (
        vehicle.fixed_cost
        + vehicle.cost_per_km * distance_m / 1000
        + vehicle.cost_per_hour * totals.travel_s / 3600
        + vehicle.cost_per_working_hour * totals.duration_s / 3600
    )
    summary = route.summary
    checks = [
        ("distance_m", summary.distance_m, distance_m, DIST_TOL_M),
        ("travel_s", summary.travel_s, totals.travel_s, TIME_TOL_S),
        ("duration_s", summary.duration_s, totals.duration_s, TIME_TOL_S),
    ]
    parts = sum(s.waiting_s for s in steps) + sum(
        s.departure_s - s.service_start_s
        for s in steps
        if s.type.is_visit or s.type == StepType.BREAK
    )
    if not _close(totals.duration_s, totals.travel_s + parts, TIME_TOL_S * len(steps)):
        report.add(
            "time_unaccounted",
            f"route lasts {totals.duration_s} s but travel, service, waiting and breaks add up "
            f"to {totals.travel_s + parts} s",
            vid,
        )
    for name, reported, recomputed, tol in checks:
        if not _close(reported, recomputed, tol):
            report.add(
                "summary_mismatch", f"route {name} is {reported}, recomputed {recomputed}", vid
            )
    if summary.stops != stops_count:
        report.add(
            "summary_mismatch", f"route stops is {summary.stops}, counted {stops_count}", vid
        )
    if not _cost_close(summary.cost, totals.cost):
        report.add("cost_mismatch", f"route cost is {summary.cost}, recomputed {totals.cost}", vid)
    return totals


def _check_shipments(
    tasks: list[Task], result: RoutingResult, served: dict[Id, Id], report: _Report
) -> None:
    """Both ends of a shipment on one route, pickup first; or neither served."""
    position = {
        step.id: k
        for route in result.routes
        for k, step in enumerate(route.steps)
        if step.type.is_visit
    }
    for task in tasks:
        if task.kind != "pickup" or task.partner is None:
            continue
        other = tasks[task.partner]
        if (task.id in served) != (other.id in served):
            report.add(
                "shipment_split",
                f"shipment {task.id!r} -> {other.id!r}: one end is served, the other is not",
                stop=task.id,
            )
        elif task.id in served:
            if served[task.id] != served[other.id]:
                report.add(
                    "shipment_split",
                    f"shipment {task.id!r} -> {other.id!r} is split between "
                    f"{served[task.id]!r} and {served[other.id]!r}",
                    stop=task.id,
                )
            elif position[task.id] > position[other.id]:
                report.add(
                    "shipment_order",
                    f"shipment {task.id!r} is delivered at {other.id!r} before it is picked up",
                    served[task.id],
                    task.id,
                )


def evaluate(
    request: RoutingRequest,
    result: RoutingResult,
    matrices: TravelMatrices | None = None,
    resolved: ResolvedRequest | None = None,
) -> Evaluation:
    """Check ``result`` against ``request`` from scratch and return the verdict."""
    resolved = resolved or resolve(request, matrices)
    report = _Report()
    vehicle_index = {v.id: i for i, v in enumerate(request.vehicles)}
    tasks = resolved.tasks
    stop_ids = {s.id for s in tasks}
    served: dict[Id, Id] = {}
    used: set[Id] = set()
    cost = distance = duration = 0.0
    for route in result.routes:
        if route.vehicle_id not in vehicle_index:
            report.add("unknown_vehicle", f"route of unknown vehicle {route.vehicle_id!r}")
            continue
        if route.vehicle_id in used:
            report.add("vehicle_twice", "vehicle has two routes", route.vehicle_id)
        used.add(route.vehicle_id)
        totals = _check_route(resolved, route, vehicle_index[route.vehicle_id], served, report)
        cost += totals.cost
        distance += totals.distance_m
        duration += totals.duration_s

    listed: set[Id] = set()
    for item in result.unassigned:
        if item.id not in stop_ids:
            report.add("unknown_stop", f"unassigned lists unknown stop {item.id!r}", stop=item.id)
        elif item.id in served:
            report.add("served_and_unassigned", "stop is both served and unassigned", stop=item.id)
        elif item.id in listed:
            report.add("unassigned_twice", "stop is listed twice as unassigned", stop=item.id)
        listed.add(item.id)
    for stop in tasks:
        if stop.id not in served and stop.id not in listed:
            report.add("missing_stop", "stop is neither served nor unassigned", stop=stop.id)
    _check_shipments(tasks, result, served, report)

    penalty = sum(s.drop_penalty or 0.0 for s in tasks if s.optional and s.id in listed)
    cost += penalty
    summary = result.summary
    if not _cost_close(summary.cost, cost):
        report.add("cost_mismatch", f"total cost is {summary.cost}, recomputed {cost}")
    if not _close(summary.distance_m, distance, DIST_TOL_M * max(1, len(result.routes))):
        report.add(
            "summary_mismatch", f"total distance is {summary.distance_m}, recomputed {distance}"
        )
    if summary.stops_served != len(served) or summary.unassigned != len(listed):
        report.add("summary_mismatch", "served or unassigned counts do not match the routes")
    if summary.routes != len(result.routes):
        report.add("summary_mismatch", "route count does not match")
    return Evaluation(
        feasible=not report.violations,
        violations=report.violations,
        cost=cost,
        distance_m=distance,
        duration_s=duration,
    )


def evaluate_routes(
    request: RoutingRequest,
    sequences: dict[Id, list[Id]],
    matrices: TravelMatrices | None = None,
) -> tuple[RoutingResult, Evaluation]:
    """Evaluate bare routes (stop ids per vehicle id): schedule them, then check everything.

    Returns the scheduled plan and the verdict; pre-checks that would reject a stop are not
    applied, so a stop no vehicle can serve shows up as a violation here.
    """
    resolved = resolve(request, matrices)
    result = plan_from_sequences(compile_request(resolved), sequences)
    return result, evaluate(request, result, resolved=resolved)
