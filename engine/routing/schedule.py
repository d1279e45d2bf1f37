"""Earliest-time schedule of a route, in ticks: when each step arrives, starts and leaves.

Rules (the same ones the evaluator checks):

* a route leaves its start at ``start``; travel from i to j takes the vehicle's travel time;
* a break placed on the leg i → j starts at the later of the departure from i (or the end of
  an earlier break on that leg) and its window's opening; it may be taken mid-drive, so the
  vehicle is at j, ready, ``travel + breaks`` after leaving i, or right after the break if
  that ends later; time spent waiting for a break window to open is the break's waiting;
* ``arrival`` at a stop is when the vehicle is there and ready (after breaks on the way);
  service starts at the earliest time in one of the stop's windows, the gap is waiting;
* a reload before stop ``p`` (multi-trip) drives to the reload place, takes the vehicle's
  ``reload_service_s`` at once, and goes on to stop ``p`` (routes with reloads have no breaks).

A late arrival (no window left) keeps its time: the evaluator then reports the violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.routing.compile import _first_window_from, windows_ticks
from engine.routing.locations import NO_LOCATION, ResolvedRequest
from engine.units import to_time_ticks


@dataclass(frozen=True)
class TimedStep:
    """One step of a scheduled route, all in ticks (distance cumulative since the start)."""

    kind: str
    index: int | None
    location: int
    arrival: int
    service_start: int
    departure: int
    distance: int
    travel: int = 0


@dataclass(frozen=True)
class RouteSchedule:
    """The timed steps of a route, and whether some window or break was missed."""

    steps: list[TimedStep]
    late: bool

    @property
    def span(self) -> int:
        """Ticks from the route's start to its end."""
        return self.steps[-1].arrival - self.steps[0].departure


def schedule_route(
    resolved: ResolvedRequest,
    vehicle_index: int,
    stops: list[int],
    breaks: list[tuple[int, int]],
    start: int,
    reloads: Sequence[tuple[int, int]] = (),
) -> RouteSchedule:
    """Schedule ``stops`` (request indices) with ``breaks`` as (break index, leg) pairs and
    ``reloads`` as (position, reload place) pairs.

    Leg ``p`` runs from the stop before position ``p`` (or the start) to stop ``p`` (or the end);
    a reload at position ``p`` comes on leg ``p``, before stop ``p``.
    """
    request, table, ticks = resolved.request, resolved.table, resolved.ticks
    vehicle = request.vehicles[vehicle_index]
    travel = ticks.time(vehicle.speed_factor)
    distance = ticks.distance
    start_row = int(table.vehicle_start[vehicle_index])
    end_row = int(table.vehicle_end[vehicle_index])
    rows = [int(table.stop_location[s]) for s in stops]
    if start_row == NO_LOCATION and rows:
        start_row = rows[0]
    on_leg: dict[int, list[int]] = {}
    for brk, leg in breaks:
        on_leg.setdefault(leg, []).append(brk)

    late = False
    steps = [
        TimedStep("start", None, int(table.vehicle_start[vehicle_index]), start, start, start, 0)
    ]
    clock, here, travelled = start, start_row, 0
    reload_at = dict(reloads)
    reload_rows = table.reload_rows(vehicle_index)
    reload_ticks = int(to_time_ticks(vehicle.reload_service_s))
    for leg in range(len(stops) + 1):
        last = leg == len(stops)
        if leg in reload_at and not last:
            place = reload_at[leg]
            row = int(reload_rows[place])
            arrival = clock + _pair(travel, here, row)
            travelled += _pair(distance, here, row)
            leave = arrival + reload_ticks
            steps.append(
                TimedStep(
                    "reload", place, row, arrival, arrival, leave, travelled,
                    _pair(travel, here, row),
                )
            )  # fmt: skip
            clock, here = leave, row
        there = (end_row if end_row != NO_LOCATION else here) if last else rows[leg]
        drive_left = _pair(travel, here, there)
        for brk in on_leg.get(leg, []):
            spec = vehicle.breaks[brk]
            begin = _first_window_from(windows_ticks(spec.time_windows), clock)
            late |= begin is None
            begin = clock if begin is None else begin
            driven = min(drive_left, begin - clock)
            idle = begin - clock - driven
            drive_left -= driven
            duration = int(to_time_ticks(spec.duration_s))
            steps.append(
                TimedStep(
                    "break", brk, NO_LOCATION, begin - idle, begin, begin + duration, travelled
                )
            )
            clock = begin + duration
        leg_time = _pair(travel, here, there)
        arrival = clock + drive_left
        travelled += _pair(distance, here, there)
        if last:
            steps.append(
                TimedStep("end", None, end_row, arrival, arrival, arrival, travelled, leg_time)
            )
            break
        stop = resolved.tasks[stops[leg]]
        begin = _first_window_from(windows_ticks(stop.time_windows), arrival)
        late |= begin is None
        begin = arrival if begin is None else begin
        leave = begin + int(to_time_ticks(stop.service_s))
        steps.append(
            TimedStep("job", stops[leg], there, arrival, begin, leave, travelled, leg_time)
        )
        clock, here = leave, there
    return RouteSchedule(steps, late)


def _pair(matrix: npt.NDArray[np.int64], a: int, b: int) -> int:
    """Matrix cell, zero when either end is not a fixed place."""
    if a == NO_LOCATION or b == NO_LOCATION:
        return 0
    return int(matrix[a, b])


def best_schedule(
    resolved: ResolvedRequest,
    vehicle_index: int,
    stops: list[int],
    breaks: list[tuple[int, int]],
    shift: tuple[int, int],
    reloads: Sequence[tuple[int, int]] = (),
) -> RouteSchedule:
    """The punctual schedule with the shortest span, and among those the earliest end.

    As the start moves later, the span shrinks while some waiting is absorbed, stays flat when
    none is left, and jumps up when a step misses the end of its window and moves to its next
    one; after such a jump it may shrink below anything seen before (several windows per
    stop). So the start sweeps the shift from event to event (:func:`_next_start`) and the
    best schedule seen wins. With no punctual start at all, the one leaving at the shift's
    start is returned (the evaluator then reports what it misses).
    """

    def at(start: int) -> RouteSchedule:
        return schedule_route(resolved, vehicle_index, stops, breaks, start, reloads)

    def punctual(timed: RouteSchedule) -> bool:
        return not timed.late and timed.steps[-1].arrival <= shift[1]

    first = at(shift[0])
    if not punctual(first):
        return first
    ends = _window_ends(resolved, vehicle_index, stops)
    best, start = first, shift[0]
    # each event absorbs a waiting or moves a step to a later window; a route rarely needs
    # more than a few per step, and the best seen so far is punctual whenever the sweep stops
    events = 4 * (len(first.steps) + sum(len(e) for e in ends.values()))
    for _ in range(events):
        following = _next_start(at(start), ends, start)
        if following is None or following > shift[1]:
            break
        start = following
        timed = at(start)
        if not punctual(timed):
            break
        if (timed.span, timed.steps[-1].arrival) < (best.span, best.steps[-1].arrival):
            best = timed
    return best


#: Window ends of each step that has windows, keyed by (kind, index), in ticks.
_Ends = dict[tuple[str, int], npt.NDArray[np.int64]]


def _window_ends(resolved: ResolvedRequest, vehicle_index: int, stops: list[int]) -> _Ends:
    ends: _Ends = {}
    for stop in stops:
        windows = windows_ticks(resolved.tasks[stop].time_windows)
        if len(windows):
            ends["job", stop] = windows[:, 1]
    for brk, spec in enumerate(resolved.request.vehicles[vehicle_index].breaks):
        windows = windows_ticks(spec.time_windows)
        if len(windows):
            ends["break", brk] = windows[:, 1]
    return ends


def _next_start(timed: RouteSchedule, ends: _Ends, start: int) -> int | None:
    """The next start worth trying after ``start``: later by the first waiting on the route, or
    by as much as the steps before it can be delayed and stay in their windows; one tick past
    that when a step sits at the end of its window (it then moves to its next window)."""
    slack: int | None = None
    for step in timed.steps[1:]:
        waiting = step.service_start - step.arrival
        if step.kind == "end":
            break
        closes = ends.get((step.kind, step.index)) if step.index is not None else None
        if closes is not None:
            later = closes[closes >= step.service_start]
            room = int(later[0]) - step.service_start if len(later) else 0
            if waiting > 0:
                # the waiting is absorbed before this step's own window can close
                return start + (waiting if slack is None else min(waiting, slack) or 1)
            slack = room if slack is None else min(slack, room)
        elif waiting > 0:
            return start + (waiting if slack is None else min(waiting, slack) or 1)
    if slack is None:
        return None  # no windows ahead and no waiting: a later start only ends later
    return start + slack + 1
