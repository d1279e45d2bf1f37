"""The independent evaluator: recompute every number of a plan and check every constraint.

It reads the request and the result only (rows, tick matrices and schedules of its own, in
:mod:`engine.routing.evaluate_schedule`), never trusts a reported figure, and reports each
broken constraint or figure that does not add up as a :class:`Violation`:

* coverage: every stop served exactly once or listed as unassigned, ids known;
* capacity in every dimension, skills, shifts, time windows, service times;
* travel: no step reached before the previous departure plus travel (and breaks on the way);
* breaks: each break of a used vehicle taken once, inside a window, between visits;
* links (:mod:`engine.routing.evaluate_links`): shipments' two ends, locked prefixes kept
  exactly, stops only on the vehicles they name, the reassign penalty;
* max duration, distance and stops per vehicle;
* loads, cumulative distances and durations, every route summary figure (its ``capacity``
  must be the vehicle's), the plan's totals and its cost split;
* every reason given for a stop left out (:mod:`engine.routing.evaluate_reasons`).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from engine.matrices import TravelMatrices
from engine.routing.evaluate_links import Report as _Report
from engine.routing.evaluate_links import check_links, reassign_cost
from engine.routing.evaluate_plan import plan_from_routes
from engine.routing.evaluate_reasons import check_reasons
from engine.routing.evaluate_reloads import check_reload, first_trip
from engine.routing.evaluate_schedule import NOWHERE, Geometry, build_geometry
from engine.routing.evaluate_walk import COST_RTOL as COST_RTOL
from engine.routing.evaluate_walk import DIST_TOL_M as DIST_TOL_M
from engine.routing.evaluate_walk import TIME_TOL_S as TIME_TOL_S
from engine.routing.evaluate_walk import RouteTotals as _RouteTotals
from engine.routing.evaluate_walk import Walk as _Walk
from engine.routing.evaluate_walk import check_load as _check_load
from engine.routing.evaluate_walk import check_travel as _check_travel
from engine.routing.evaluate_walk import close as _close
from engine.routing.evaluate_walk import cost_close as _cost_close
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import (
    Evaluation,
    Id,
    Route,
    RoutingRequest,
    RoutingResult,
    Step,
    StepType,
    Task,
    Vehicle,
)
from models.status import ViolationCode


def _check_shape(steps: list[Step], vid: Id, report: _Report) -> bool:
    """A route begins with its start step and ends with its end step, and has no others."""
    if len(steps) < 2 or steps[0].type != StepType.START or steps[-1].type != StepType.END:
        report.add(
            ViolationCode.ROUTE_SHAPE,
            "a route must begin with a start step and end with an end step",
            vid,
        )
        return False
    if any(s.type in (StepType.START, StepType.END) for s in steps[1:-1]):
        report.add(
            ViolationCode.ROUTE_SHAPE, "start and end steps may only come first and last", vid
        )
        return False
    return True


def _check_start(geo: Geometry, route: Route, vehicle_index: int, report: _Report) -> _Walk:
    """The start step: where the vehicle sets off, what it carries, and when (in its shift).

    The first trip's deliveries are on board at the start (the whole route's without a
    reload); pickups add, drops remove.
    """
    tasks = geo.tasks
    vehicle = geo.request.vehicles[vehicle_index]
    stop_index: dict[Id | None, int] = {s.id: i for i, s in enumerate(tasks)}
    jobs = [stop_index.get(s.id) for s in route.steps if s.type.is_visit]
    known = [i for i in jobs if i is not None]
    rows = [geo.stop_row[i] for i in known]
    here = geo.start_row[vehicle_index]
    if here == NOWHERE:
        here = rows[0] if rows else NOWHERE
    names = set(vehicle.capacity) | {n for i in known for n in tasks[i].demand}
    trip = [i for i in (stop_index.get(s.id) for s in first_trip(route.steps)) if i is not None]
    load = {name: sum(tasks[i].delivery.get(name, 0.0) for i in trip) for name in names}
    _check_load(load, vehicle.capacity, "at the start", vehicle.id, report)
    start = route.steps[0]
    shift_lo = vehicle.shift.start_s if vehicle.shift else 0.0
    if start.departure_s < shift_lo - TIME_TOL_S:
        report.add(
            ViolationCode.SHIFT,
            f"route starts at {start.departure_s} s, before its shift {shift_lo} s",
            vehicle.id,
        )
    return _Walk(
        geo=geo,
        vehicle=vehicle,
        report=report,
        travel=geo.time(vehicle),
        stop_index=stop_index,
        break_specs={b.id: b for b in vehicle.breaks},
        here=here,
        end_row=geo.end_row[vehicle_index],
        load=load,
        clock=start.departure_s,
        leg_departure=start.departure_s,
        vehicle_index=vehicle_index,
    )


def _check_break(walk: _Walk, step: Step) -> None:
    """A break step: one of the vehicle's, after the previous step, in a window, full length."""
    spec = walk.break_specs.get(step.id) if step.id is not None else None
    if spec is None:
        walk.add(ViolationCode.BREAK_UNKNOWN, f"break {step.id!r} is not one of the vehicle's")
        return
    walk.breaks_taken[spec.id] = walk.breaks_taken.get(spec.id, 0) + 1
    if step.arrival_s < walk.clock - TIME_TOL_S:
        walk.add(
            ViolationCode.BREAK_OVERLAP,
            f"break {step.id!r} begins at {step.arrival_s} s, before the previous step "
            f"ends at {walk.clock} s",
        )
    if step.service_start_s < step.arrival_s - TIME_TOL_S or not _close(
        step.waiting_s, step.service_start_s - step.arrival_s, TIME_TOL_S
    ):
        walk.add(ViolationCode.WAITING, f"break {step.id!r}: waiting does not add up")
    if not any(
        w.start_s - TIME_TOL_S <= step.service_start_s <= w.end_s + TIME_TOL_S
        for w in spec.time_windows
    ):
        walk.add(
            ViolationCode.BREAK_WINDOW,
            f"break {step.id!r} starts at {step.service_start_s} s, outside its windows",
        )
    if not _close(step.departure_s - step.service_start_s, spec.duration_s, TIME_TOL_S):
        walk.add(
            ViolationCode.BREAK_DURATION,
            f"break {step.id!r} lasts {step.departure_s - step.service_start_s} s, "
            f"not {spec.duration_s} s",
        )
    walk.leg_breaks += spec.duration_s
    walk.break_s += spec.duration_s
    walk.clock = max(walk.clock, step.departure_s)


def _check_service(walk: _Walk, step: Step, stop: Task) -> None:
    """A visit's service: skills, in a window, after arrival, full length, times add up."""
    vehicle = walk.vehicle
    if not stop.skills <= vehicle.skills:
        walk.add(
            ViolationCode.SKILLS,
            f"stop needs skills {sorted(stop.skills)}, vehicle has {sorted(vehicle.skills)}",
            stop.id,
        )
    if step.service_start_s < step.arrival_s - TIME_TOL_S:
        walk.add(ViolationCode.SERVICE_BEFORE_ARRIVAL, "service starts before arrival", stop.id)
    if stop.time_windows and not any(
        w.start_s - TIME_TOL_S <= step.service_start_s <= w.end_s + TIME_TOL_S
        for w in stop.time_windows
    ):
        walk.add(
            ViolationCode.TIME_WINDOW,
            f"service starts at {step.service_start_s} s, outside its windows "
            f"{[[w.start_s, w.end_s] for w in stop.time_windows]}",
            stop.id,
        )
    if not _close(step.service_s, stop.service_s, TIME_TOL_S):
        walk.add(
            ViolationCode.SERVICE_TIME,
            f"service lasts {step.service_s} s, the stop needs {stop.service_s} s",
            stop.id,
        )
    if not _close(step.departure_s, step.service_start_s + stop.service_s, TIME_TOL_S):
        walk.add(ViolationCode.DEPARTURE, "departure is not service start plus service", stop.id)
    if not _close(step.waiting_s, step.service_start_s - step.arrival_s, TIME_TOL_S):
        walk.add(ViolationCode.WAITING, "waiting is not service start minus arrival", stop.id)


def _check_handover(walk: _Walk, step: Step, stop: Task) -> None:
    """Goods change hands: a pickup adds to the load, a delivery or an unload removes.

    The new load must fit (and not go below zero), and match the one the step reports.
    """
    for name in walk.load:
        walk.load[name] += (
            stop.pickup.get(name, 0.0) - stop.delivery.get(name, 0.0) - stop.unload.get(name, 0.0)
        )
    _check_load(
        walk.load, walk.vehicle.capacity, f"after {stop.id!r}", walk.vehicle.id, walk.report
    )
    for name, value in walk.load.items():
        if not _close(step.load.get(name, 0.0), value, 1e-6):
            walk.add(
                ViolationCode.LOAD_MISMATCH,
                f"reports load {step.load.get(name, 0.0)} of {name!r}, recomputed {value}",
                stop.id,
            )


def _check_visit(walk: _Walk, step: Step, served: dict[Id, Id]) -> None:
    """A visit (a job, a pickup or a delivery): a known stop, served once, reached in time."""
    i = walk.stop_index.get(step.id)
    if i is None:
        walk.add(ViolationCode.UNKNOWN_STOP, f"step visits unknown stop {step.id!r}")
        return
    stop = walk.geo.tasks[i]
    vid = walk.vehicle.id
    if step.type.value != stop.kind:
        walk.add(
            ViolationCode.STEP_TYPE,
            f"{stop.id!r} is a {stop.kind} but the step says {step.type.value}",
            stop.id,
        )
    if stop.id in served:
        walk.add(
            ViolationCode.SERVED_TWICE,
            f"stop {stop.id!r} is served by {served[stop.id]!r} and {vid!r}",
            stop.id,
        )
    served[stop.id] = vid
    walk.stops += 1
    walk.service_s += stop.service_s
    for name in set(stop.delivery) | set(stop.unload):
        walk.delivered[name] = (
            walk.delivered.get(name, 0.0)
            + stop.delivery.get(name, 0.0)
            + stop.unload.get(name, 0.0)
        )
    row = walk.geo.stop_row[i]
    _check_travel(walk, step, row, stop.id)
    _check_service(walk, step, stop)
    _check_handover(walk, step, stop)
    walk.clock = walk.leg_departure = step.departure_s
    walk.leg_breaks = 0.0
    walk.here = row


def _check_end(walk: _Walk, step: Step) -> None:
    """The end step: the drive back (or nowhere, on an open route), inside the shift."""
    row = walk.end_row if walk.end_row != NOWHERE else walk.here
    _check_travel(walk, step, row, None)
    walk.clock = step.arrival_s
    walk.leg_breaks = 0.0
    walk.here = row
    shift = walk.vehicle.shift
    shift_hi = shift.end_s if shift else float("inf")
    if step.arrival_s > shift_hi + TIME_TOL_S:
        walk.add(
            ViolationCode.SHIFT, f"route ends at {step.arrival_s} s, after its shift {shift_hi} s"
        )


def _check_limits(walk: _Walk, totals: _RouteTotals) -> None:
    """The vehicle's limits: max duration, distance and stops; each break taken once."""
    vehicle = walk.vehicle
    if (
        vehicle.max_duration_s is not None
        and totals.duration_s > vehicle.max_duration_s + TIME_TOL_S
    ):
        walk.add(
            ViolationCode.MAX_DURATION,
            f"route lasts {totals.duration_s} s, more than max_duration_s {vehicle.max_duration_s}",
        )
    if vehicle.max_distance_m is not None and walk.distance_m > vehicle.max_distance_m + DIST_TOL_M:
        walk.add(
            ViolationCode.MAX_DISTANCE,
            f"route drives {walk.distance_m} m, more than max_distance_m {vehicle.max_distance_m}",
        )
    if vehicle.max_stops is not None and walk.stops > vehicle.max_stops:
        walk.add(
            ViolationCode.MAX_STOPS,
            f"route has {walk.stops} stops, max_stops is {vehicle.max_stops}",
        )
    for spec in vehicle.breaks:
        if walk.breaks_taken.get(spec.id, 0) != 1:
            walk.add(
                ViolationCode.BREAK_MISSING
                if spec.id not in walk.breaks_taken
                else ViolationCode.BREAK_REPEATED,
                f"break {spec.id!r} taken {walk.breaks_taken.get(spec.id, 0)} times, expected once",
            )


def _route_cost(vehicle: Vehicle, totals: _RouteTotals) -> float:
    """What the route costs: fixed, per km, per hour driving and per working hour."""
    return (
        vehicle.fixed_cost
        + vehicle.cost_per_km * totals.distance_m / 1000
        + vehicle.cost_per_hour * totals.travel_s / 3600
        + vehicle.cost_per_working_hour * totals.duration_s / 3600
    )


def _check_route_summary(walk: _Walk, route: Route, totals: _RouteTotals) -> None:
    """Time accounted for, and the reported route summary against the recomputed totals."""
    steps = route.steps
    parts = sum(s.waiting_s for s in steps) + sum(
        s.departure_s - s.service_start_s
        for s in steps
        if s.type.is_visit or s.type in (StepType.BREAK, StepType.RELOAD)
    )
    if not _close(totals.duration_s, totals.travel_s + parts, TIME_TOL_S * len(steps)):
        walk.add(
            ViolationCode.TIME_UNACCOUNTED,
            f"route lasts {totals.duration_s} s but travel, service, waiting, breaks and reloads "
            "add up "
            f"to {totals.travel_s + parts} s",
        )
    summary = route.summary
    many = TIME_TOL_S * len(steps)
    checks = [
        ("distance_m", summary.distance_m, totals.distance_m, DIST_TOL_M),
        ("travel_s", summary.travel_s, totals.travel_s, TIME_TOL_S),
        ("duration_s", summary.duration_s, totals.duration_s, TIME_TOL_S),
        ("service_s", summary.service_s, totals.service_s, many),
        ("waiting_s", summary.waiting_s, totals.waiting_s, many),
        ("break_s", summary.break_s, totals.break_s, many),
        ("reload_s", summary.reload_s, walk.reload_s, many),
        ("reloads", summary.reloads, walk.reloads, 0),
        ("start_s", summary.start_s, steps[0].departure_s, TIME_TOL_S),
        ("end_s", summary.end_s, steps[-1].arrival_s, TIME_TOL_S),
    ]
    names = set(summary.delivered) | set(walk.delivered)
    checks += [
        (f"delivered[{n!r}]", summary.delivered.get(n, 0.0), walk.delivered.get(n, 0.0), 1e-6)
        for n in sorted(names)
    ]
    for name, reported, recomputed, tol in checks:
        if not _close(reported, recomputed, tol):
            walk.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"route {name} is {reported}, recomputed {recomputed}",
            )
    if summary.stops != walk.stops:
        walk.add(
            ViolationCode.SUMMARY_MISMATCH, f"route stops is {summary.stops}, counted {walk.stops}"
        )
    capacity = walk.vehicle.capacity
    # an empty capacity is one not reported (results made elsewhere, or before it was)
    for n in sorted(set(summary.capacity) | set(capacity)) if summary.capacity else []:
        given, own = summary.capacity.get(n), capacity.get(n)
        if given is None or own is None or not _close(given, own, 1e-9):
            walk.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"route capacity[{n!r}] is {given}, the vehicle's is {own}",
            )
    if not _cost_close(summary.cost, totals.cost):
        walk.add(
            ViolationCode.COST_MISMATCH, f"route cost is {summary.cost}, recomputed {totals.cost}"
        )


def _check_route(
    geo: Geometry,
    route: Route,
    vehicle_index: int,
    served: dict[Id, Id],
    report: _Report,
) -> _RouteTotals:
    """Walk one route step by step, then check its limits and its summary."""
    steps = route.steps
    if not _check_shape(steps, geo.request.vehicles[vehicle_index].id, report):
        return _RouteTotals()
    walk = _check_start(geo, route, vehicle_index, report)
    for k, step in enumerate(steps[1:], start=1):
        if not _close(step.duration_s, step.arrival_s - steps[0].departure_s, TIME_TOL_S):
            walk.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"step reports {step.duration_s} s since the start, recomputed "
                f"{step.arrival_s - steps[0].departure_s} s",
                step.id,
            )
        if step.type == StepType.BREAK:
            _check_break(walk, step)
        elif step.type == StepType.RELOAD:
            check_reload(walk, step, steps[k + 1 :], walk.reloads)
            walk.reloads += 1
        elif step.type.is_visit:
            _check_visit(walk, step, served)
        else:
            _check_end(walk, step)
    totals = _RouteTotals(
        distance_m=walk.distance_m,
        travel_s=walk.travel_s,
        duration_s=steps[-1].arrival_s - steps[0].departure_s,
        service_s=walk.service_s,
        waiting_s=sum(max(s.service_start_s - s.arrival_s, 0.0) for s in steps),
        break_s=walk.break_s,
        fixed_cost=walk.vehicle.fixed_cost,
        stops=walk.stops,
    )
    _check_limits(walk, totals)
    totals.cost = _route_cost(walk.vehicle, totals)
    _check_route_summary(walk, route, totals)
    return totals


def _check_routes(
    geo: Geometry, result: RoutingResult, served: dict[Id, Id], report: _Report
) -> _RouteTotals:
    """Every route: a known vehicle, one route each; return the routes' totals added up."""
    vehicle_index = {v.id: i for i, v in enumerate(geo.request.vehicles)}
    used: set[Id] = set()
    plan = _RouteTotals()
    for route in result.routes:
        if route.vehicle_id not in vehicle_index:
            report.add(
                ViolationCode.UNKNOWN_VEHICLE, f"route of unknown vehicle {route.vehicle_id!r}"
            )
            continue
        if route.vehicle_id in used:
            report.add(ViolationCode.VEHICLE_TWICE, "vehicle has two routes", route.vehicle_id)
        used.add(route.vehicle_id)
        plan.add(_check_route(geo, route, vehicle_index[route.vehicle_id], served, report))
    return plan


def _check_coverage(
    tasks: list[Task], result: RoutingResult, served: dict[Id, Id], report: _Report
) -> set[Id]:
    """Every stop served or listed as unassigned, exactly once; return the listed ids."""
    stop_ids = {s.id for s in tasks}
    listed: set[Id] = set()
    for item in result.unassigned:
        if item.id not in stop_ids:
            report.add(
                ViolationCode.UNKNOWN_STOP,
                f"unassigned lists unknown stop {item.id!r}",
                stop=item.id,
            )
        elif item.id in served:
            report.add(
                ViolationCode.SERVED_AND_UNASSIGNED,
                "stop is both served and unassigned",
                stop=item.id,
            )
        elif item.id in listed:
            report.add(
                ViolationCode.UNASSIGNED_TWICE, "stop is listed twice as unassigned", stop=item.id
            )
        listed.add(item.id)
    for stop in tasks:
        if stop.id not in served and stop.id not in listed:
            report.add(
                ViolationCode.MISSING_STOP, "stop is neither served nor unassigned", stop=stop.id
            )
    return listed


def _check_plan_summary(
    result: RoutingResult,
    served: dict[Id, Id],
    listed: set[Id],
    plan: _RouteTotals,
    report: _Report,
) -> None:
    """The plan's reported summary against the recomputed totals, cost split and counts."""
    summary = result.summary
    for name, reported, recomputed in (
        ("cost", summary.cost, plan.cost),
        (
            "travel_cost",
            summary.travel_cost,
            plan.cost
            - plan.fixed_cost
            - plan.drop_penalty
            - plan.reassign_cost
            - plan.balance_cost,
        ),
        ("fixed_cost", summary.fixed_cost, plan.fixed_cost),
        ("drop_penalty", summary.drop_penalty, plan.drop_penalty),
        ("reassign_cost", summary.reassign_cost, plan.reassign_cost),
        ("balance_cost", summary.balance_cost, plan.balance_cost),
    ):
        if not _cost_close(reported, recomputed):
            report.add(
                ViolationCode.COST_MISMATCH, f"total {name} is {reported}, recomputed {recomputed}"
            )
    n_steps = sum(len(r.steps) for r in result.routes)
    for name, reported, recomputed, tol in (
        ("distance_m", summary.distance_m, plan.distance_m, DIST_TOL_M * max(1, n_steps)),
        ("duration_s", summary.duration_s, plan.duration_s, TIME_TOL_S * max(1, n_steps)),
        ("travel_s", summary.travel_s, plan.travel_s, TIME_TOL_S * max(1, n_steps)),
        ("service_s", summary.service_s, plan.service_s, TIME_TOL_S * max(1, n_steps)),
        ("waiting_s", summary.waiting_s, plan.waiting_s, TIME_TOL_S * max(1, n_steps)),
    ):
        if not _close(reported, recomputed, tol):
            report.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"total {name} is {reported}, recomputed {recomputed}",
            )
    if summary.stops_served != len(served) or summary.unassigned != len(listed):
        report.add(
            ViolationCode.SUMMARY_MISMATCH, "served or unassigned counts do not match the routes"
        )
    if summary.routes != len(result.routes):
        report.add(ViolationCode.SUMMARY_MISMATCH, "route count does not match")


class _HasTicks(Protocol):
    """What :func:`evaluate` reads of a legacy ``resolved`` argument: the input matrices."""

    @property
    def ticks(self) -> Any: ...


def _given_matrices(resolved: _HasTicks) -> TravelMatrices:
    """The request's own matrices, back from a caller's tick copy (exact: whole ticks)."""
    return TravelMatrices(
        np.asarray(resolved.ticks.distance, dtype=np.float64) / DISTANCE_SCALE,
        np.asarray(resolved.ticks.base_time, dtype=np.float64) / TIME_SCALE,
    )


def evaluate(
    request: RoutingRequest,
    result: RoutingResult,
    matrices: TravelMatrices | None = None,
    resolved: _HasTicks | None = None,
) -> Evaluation:
    """Check ``result`` against ``request`` from scratch and return the verdict.

    ``matrices``: the request's travel matrices if already built (rows in the order of
    :func:`engine.routing.evaluate_schedule.build_geometry`); else they are built again from
    the request. ``resolved`` (kept for callers that hold only the engine's resolved request)
    is read for its raw matrices alone; every row, window, time and reason is recomputed.
    """
    if matrices is None and resolved is not None:
        matrices = _given_matrices(resolved)
    geo = build_geometry(request, matrices)
    return evaluate_with(geo, result)


def evaluate_with(geo: Geometry, result: RoutingResult) -> Evaluation:
    """:func:`evaluate` over a geometry already built."""
    report = _Report()
    tasks = geo.tasks
    served: dict[Id, Id] = {}
    plan = _check_routes(geo, result, served, report)
    listed = _check_coverage(tasks, result, served, report)
    report.violations.extend(check_links(geo, result, served))
    plan.drop_penalty = sum(s.drop_penalty or 0.0 for s in tasks if s.optional and s.id in listed)
    plan.reassign_cost = reassign_cost(geo, served)
    balance = geo.request.options.balance
    if balance is not None and result.routes:
        plan.balance_cost = balance.weight * plan.most.get(balance.metric, 0.0)
    plan.cost += plan.drop_penalty + plan.reassign_cost + plan.balance_cost
    _check_plan_summary(result, served, listed, plan, report)
    report.violations.extend(check_reasons(geo, result))
    return Evaluation(
        feasible=not report.violations,
        violations=report.violations,
        cost=plan.cost,
        distance_m=plan.distance_m,
        duration_s=plan.duration_s,
    )


def evaluate_routes(
    request: RoutingRequest,
    sequences: dict[Id, list[Id]],
    matrices: TravelMatrices | None = None,
) -> tuple[RoutingResult, Evaluation]:
    """Evaluate bare routes (stop ids per vehicle id): schedule them, then check everything.

    The evaluator schedules them itself (:func:`engine.routing.evaluate_plan.plan_from_routes`);
    stops in no route are listed ``dropped_for_cost`` if optional, else ``no_room_in_plan``,
    and those reasons are proven like any other, so a missing mandatory stop that fits
    (or every stop, with no routes at all) makes the verdict infeasible.
    """
    geo = build_geometry(request, matrices)
    result = plan_from_routes(geo, sequences)
    return result, evaluate_with(geo, result)
