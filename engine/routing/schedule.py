"""Earliest-time schedule of a route, in ticks: when each step arrives, starts and leaves.

Rules (the same ones the evaluator checks):

* a route leaves its start at ``start``; travel from i to j takes the vehicle's travel time;
* a break placed on the leg i → j starts at the later of the departure from i (or the end of
  an earlier break on that leg) and its window's opening; it may be taken mid-drive, so the
  vehicle is at j, ready, ``travel + breaks`` after leaving i, or right after the break if
  that ends later; time spent waiting for a break window to open is the break's waiting;
* ``arrival`` at a stop is when the vehicle is there and ready (after breaks on the way);
  service starts at the earliest time in one of the stop's windows, the gap is waiting.

A late arrival (no window left) keeps its time: the evaluator then reports the violation.
"""

from __future__ import annotations

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
) -> RouteSchedule:
    """Schedule ``stops`` (request indices) with ``breaks`` as (break index, leg) pairs.

    Leg ``p`` runs from the stop before position ``p`` (or the start) to stop ``p`` (or the end).
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
    for leg in range(len(stops) + 1):
        last = leg == len(stops)
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
) -> RouteSchedule:
    """The schedule with the shortest span, and among those the earliest end.

    The span only shrinks as the start moves later, until lateness sets in; so the start is
    the latest punctual one, pulled back as far as the span allows.
    """

    def at(start: int) -> RouteSchedule:
        return schedule_route(resolved, vehicle_index, stops, breaks, start)

    def punctual(start: int) -> bool:
        timed = at(start)
        return not timed.late and timed.steps[-1].arrival <= shift[1]

    lo, hi = shift
    if not punctual(lo):
        return at(lo)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if punctual(mid) else (lo, mid - 1)
    shortest = at(lo).span
    low, high = shift[0], lo
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if at(mid).span <= shortest else (mid + 1, high)
    return at(low)
