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
* loads, cumulative distances and durations, every route summary figure, the plan's totals
  and its cost split;
* every reason given for a stop left out (:mod:`engine.routing.evaluate_reasons`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from engine.matrices import TravelMatrices
from engine.routing.evaluate_links import Report as _Report
from engine.routing.evaluate_links import check_links, reassign_cost
from engine.routing.evaluate_plan import plan_from_routes
from engine.routing.evaluate_reasons import check_reasons
from engine.routing.evaluate_schedule import NOWHERE, Geometry, build_geometry
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import (
    Break,
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

#: Times and distances are exact to a tick (0.1); half a tick absorbs user-value rounding.
TIME_TOL_S = 0.5 / TIME_SCALE + 1e-6
DIST_TOL_M = 0.5 / DISTANCE_SCALE + 1e-6
COST_RTOL = 1e-6


def _check_load(
    load: dict[str, float], capacity: dict[str, float], when: str, vid: Id, report: _Report
) -> None:
    """Report a load above the capacity, or below zero (goods dropped before collected)."""
    for name, value in load.items():
        if name in capacity and value > capacity[name] + 1e-9:
            report.add(
                ViolationCode.CAPACITY,
                f"load {value} of {name!r} {when} exceeds {capacity[name]}",
                vid,
            )
        if value < -1e-9:
            report.add(
                ViolationCode.NEGATIVE_LOAD, f"load {value} of {name!r} {when} is below zero", vid
            )


def _close(a: float, b: float, tol: float) -> bool:
    """Equal within an absolute tolerance."""
    return abs(a - b) <= tol


def _cost_close(a: float, b: float) -> bool:
    """Equal within :data:`COST_RTOL`, relative (absolute below 1)."""
    return abs(a - b) <= COST_RTOL * max(1.0, abs(a), abs(b))


@dataclass
class _RouteTotals:
    """What a route (or the whole plan) adds up to, recomputed."""

    distance_m: float = 0.0
    travel_s: float = 0.0
    duration_s: float = 0.0
    service_s: float = 0.0
    waiting_s: float = 0.0
    break_s: float = 0.0
    fixed_cost: float = 0.0
    drop_penalty: float = 0.0
    reassign_cost: float = 0.0
    cost: float = 0.0

    def add(self, other: _RouteTotals) -> None:
        """Add a route's totals to the plan's."""
        for name in (
            "distance_m", "travel_s", "duration_s", "service_s", "waiting_s", "break_s",
            "fixed_cost", "cost",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Walk:
    """One route walked step by step: the vehicle, and the running state after each step."""

    geo: Geometry
    vehicle: Vehicle
    report: _Report
    travel: npt.NDArray[np.int64]  # travel ticks at the vehicle's speed
    stop_index: dict[Id | None, int]  # a step without an id finds nothing
    break_specs: dict[Id, Break]
    here: int  # the matrix row the vehicle is at (NOWHERE: anywhere, on an open route)
    end_row: int
    load: dict[str, float]  # on board now
    clock: float  # when the previous step ends
    leg_departure: float  # when the vehicle left the previous visit (or the start)
    leg_breaks: float = 0.0  # breaks taken since then
    distance_m: float = 0.0
    travel_s: float = 0.0
    stops: int = 0
    service_s: float = 0.0  # what the stops need, from the request
    break_s: float = 0.0  # what the breaks taken last, from the request
    delivered: dict[str, float] = field(default_factory=dict)
    breaks_taken: dict[Id, int] = field(default_factory=dict)

    def add(self, code: ViolationCode, message: str, stop: Id | None = None) -> None:
        """Report a violation of this route's vehicle."""
        self.report.add(code, message, self.vehicle.id, stop)


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

    The route's deliveries are on board at the start; pickups add, drops remove.
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
    load = {name: sum(tasks[i].delivery.get(name, 0.0) for i in known) for name in names}
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


def _check_travel(walk: _Walk, step: Step, row: int, who: Id | None) -> None:
    """The leg to ``row``: not reached before the earliest possible arrival, distance adds up."""
    here = walk.here
    leg_ticks = 0 if NOWHERE in (here, row) else int(walk.travel[here, row])
    leg_s = leg_ticks / TIME_SCALE
    walk.distance_m += (
        0 if NOWHERE in (here, row) else int(walk.geo.distance[here, row]) / DISTANCE_SCALE
    )
    walk.travel_s += leg_s
    earliest = max(walk.clock, walk.leg_departure + leg_s + walk.leg_breaks)
    if step.arrival_s < earliest - TIME_TOL_S:
        walk.add(
            ViolationCode.TRAVEL_TIME,
            f"arrives at {step.arrival_s} s but cannot be there before {earliest} s",
            who,
        )
    if not _close(step.distance_m, walk.distance_m, DIST_TOL_M):
        walk.add(
            ViolationCode.DISTANCE_MISMATCH,
            f"reports {step.distance_m} m travelled, recomputed {walk.distance_m} m",
            who,
        )


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
        if s.type.is_visit or s.type == StepType.BREAK
    )
    if not _close(totals.duration_s, totals.travel_s + parts, TIME_TOL_S * len(steps)):
        walk.add(
            ViolationCode.TIME_UNACCOUNTED,
            f"route lasts {totals.duration_s} s but travel, service, waiting and breaks add up "
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
    for step in steps[1:]:
        if not _close(step.duration_s, step.arrival_s - steps[0].departure_s, TIME_TOL_S):
            walk.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"step reports {step.duration_s} s since the start, recomputed "
                f"{step.arrival_s - steps[0].departure_s} s",
                step.id,
            )
        if step.type == StepType.BREAK:
            _check_break(walk, step)
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
            plan.cost - plan.fixed_cost - plan.drop_penalty - plan.reassign_cost,
        ),
        ("fixed_cost", summary.fixed_cost, plan.fixed_cost),
        ("drop_penalty", summary.drop_penalty, plan.drop_penalty),
        ("reassign_cost", summary.reassign_cost, plan.reassign_cost),
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
    plan.cost += plan.drop_penalty + plan.reassign_cost
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
