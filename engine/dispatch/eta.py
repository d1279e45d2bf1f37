"""Live ETAs of a dispatched route: pure functions over its stops, unit-testable.

Where the van is (:func:`place`): at the stop of the latest event (``arrived``: it leaves
when its service is done, not before the latest time heard from it; ``delivered``,
``failed`` or ``departed``: it left then), or at its last reported position when that is
newer. Before any event or position it is at the route's start, at the plan's times.

From there the pending stops after it are rescheduled in their planned order
(:func:`reschedule`): ``arrival = previous departure + travel``; ``start = max(arrival,
window start)`` (waiting is kept); ``departure = start + service``; a break keeps its
duration and has no window. The travel to the stop that follows the place in the plan is
the plan's own (``travel_s``: its arrival minus the previous departure); from a position,
or to a stop out of the plan's order, it is the great-circle distance over the route's
average speed, its planned distance over its planned travel time
(:func:`average_speed_mps`), or the planned travel when either is unknown. A stop whose new
start is after its window's end is at risk. Pending stops before the place (passed over)
keep their last ETAs until an event reports them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The mean Earth radius, in metres.
EARTH_RADIUS_M = 6_371_008.8
#: An ETA that moves by more than this (seconds) is told as ``eta.changed``.
DEFAULT_THRESHOLD_S = 300.0

LonLat = tuple[float, float]


@dataclass(frozen=True)
class StopState:
    """One stop of the route as the ETAs need it: the plan, the state, the last ETA."""

    position: int
    kind: str
    travel_s: float
    service_s: float
    window_start_s: float | None
    window_end_s: float | None
    location: LonLat | None
    status: str
    event_s: float | None
    eta_arrival_s: float
    eta_start_s: float


@dataclass(frozen=True)
class Gps:
    """The van's last reported place and time (seconds from the day start)."""

    location: LonLat
    at_s: float


@dataclass(frozen=True)
class Place:
    """Where the van leaves from and when: the stop of that ``position`` (0: the start), or
    a reported position (``position`` None)."""

    depart_s: float
    position: int | None
    location: LonLat | None


@dataclass(frozen=True)
class Eta:
    """A stop's live times (seconds from the day start)."""

    arrival_s: float
    start_s: float
    at_risk: bool


def haversine_m(a: LonLat, b: LonLat) -> float:
    """The great-circle distance between two ``(lon, lat)`` points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def average_speed_mps(distance_m: float, travel_s: float) -> float | None:
    """A route's average speed: its planned distance over its planned travel time (None
    when it has no travel)."""
    if travel_s <= 0 or distance_m <= 0:
        return None
    return distance_m / travel_s


def _start(arrival_s: float, stop: StopState) -> float:
    if stop.kind == "break" or stop.window_start_s is None:
        return arrival_s
    return max(arrival_s, stop.window_start_s)


def _late(start_s: float, stop: StopState) -> bool:
    return stop.window_end_s is not None and start_s > stop.window_end_s


def place(stops: Sequence[StopState], gps: Gps | None) -> Place:
    """Where and when the van leaves next (see the module's docstring)."""
    done = [s for s in stops if s.status != "pending"]
    if not done:
        if gps is not None:
            return Place(gps.at_s, None, gps.location)
        first = stops[0] if stops else None
        depart = 0.0 if first is None else first.eta_arrival_s - first.travel_s
        return Place(depart, 0, None)
    last = max(done, key=lambda s: s.position)
    heard_s = max(s.event_s for s in done if s.event_s is not None)
    gps_newer = gps is not None and gps.at_s > heard_s
    if last.status == "arrived":
        start = _start(last.eta_arrival_s, last)
        depart = max(start + last.service_s, heard_s, gps.at_s if gps and gps_newer else 0.0)
        return Place(depart, last.position, last.location)
    if gps is not None and gps_newer:
        return Place(gps.at_s, None, gps.location)
    left_s = last.event_s if last.event_s is not None else heard_s
    return Place(left_s, last.position, last.location)


def travel_s(
    origin: Place | tuple[int | None, LonLat | None], stop: StopState, speed_mps: float | None
) -> float:
    """The travel from a place to a stop: the plan's when the stop follows it in the plan,
    else distance over the average speed (or the plan's, when either is unknown)."""
    position, location = (origin.position, origin.location) if isinstance(origin, Place) else origin
    if position is not None and stop.position == position + 1:
        return stop.travel_s
    if location is None or stop.location is None or speed_mps is None:
        return stop.travel_s
    return haversine_m(location, stop.location) / speed_mps


def reschedule(stops: Sequence[StopState], where: Place, speed_mps: float | None) -> dict[int, Eta]:
    """The live times of the pending stops after ``where``, by position (the others are
    not in the answer: they keep theirs)."""
    out: dict[int, Eta] = {}
    cursor: tuple[int | None, LonLat | None] = (where.position, where.location)
    departure = where.depart_s
    after = -1 if where.position is None else where.position
    if where.position is None:  # a reported position: the stops after the last one done
        done = [s.position for s in stops if s.status != "pending"]
        after = max(done, default=0)
    for stop in sorted(stops, key=lambda s: s.position):
        if stop.position <= after or stop.status != "pending":
            continue
        arrival = departure + travel_s(cursor, stop, speed_mps)
        start = _start(arrival, stop)
        out[stop.position] = Eta(arrival, start, _late(start, stop))
        departure = start + stop.service_s
        cursor = (stop.position, stop.location or cursor[1])
    return out


def live_etas(
    stops: Sequence[StopState], gps: Gps | None, speed_mps: float | None
) -> dict[int, Eta]:
    """The live times of every stop, by position: rescheduled for the pending ones after
    the van's place, the arrived one's from its arrival, the others as they were."""
    out = {s.position: Eta(s.eta_arrival_s, s.eta_start_s, _late(s.eta_start_s, s)) for s in stops}
    for s in stops:
        if s.status == "arrived":
            start = _start(s.eta_arrival_s, s)
            out[s.position] = Eta(s.eta_arrival_s, start, _late(start, s))
    out.update(reschedule(stops, place(stops, gps), speed_mps))
    return out


def moved(old_s: float, new_s: float, threshold_s: float = DEFAULT_THRESHOLD_S) -> bool:
    """Whether an ETA moved by more than ``threshold_s``."""
    return abs(new_s - old_s) > threshold_s
