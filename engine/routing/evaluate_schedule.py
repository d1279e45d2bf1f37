"""The evaluator's own view of a request: matrix rows, tick matrices and route schedules.

Nothing here comes from the solve path: rows are looked up from the request (its
``location_index`` values with an explicit matrix, else unique coordinates in order of first
appearance: tasks, vehicle starts, vehicle ends, the convention callers' matrices follow),
the matrices come from the request's provider (or are given), and routes are scheduled by
the rules the evaluator checks:

* a route leaves its start at ``start`` (free inside the shift); travel from i to j takes the
  vehicle's travel time (base ticks divided by its speed factor, rounded);
* a break on the leg i -> j starts at the later of the previous step's end and its window's
  opening; the vehicle may drive while it waits for that opening, so it is at j
  ``travel + breaks`` after leaving i, or right after the break if that ends later;
* service starts at the earliest time inside one of the stop's (merged) windows.

All times are integer ticks of ``1 / TIME_SCALE`` s, distances of ``1 / DISTANCE_SCALE`` m.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.matrices import TravelMatrices, explicit_matrices, provider_for
from engine.units import to_distance_ticks, to_time_ticks, travel_time_ticks
from models.common import TimeWindow
from models.matrices import ExplicitMatrix
from models.routing import RoutingRequest, Task, Vehicle

#: Row meaning "no fixed place" (an open route's missing start or end).
NOWHERE = -1
#: Stand-in for an unbounded shift end, in ticks.
UNBOUNDED = 2**62


def merged_windows(windows: Sequence[TimeWindow]) -> list[tuple[int, int]]:
    """Windows in ticks, sorted, overlapping or touching ones merged."""
    spans = sorted((int(to_time_ticks(w.start_s)), int(to_time_ticks(w.end_s))) for w in windows)
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def first_open(windows: list[tuple[int, int]], t: int) -> int | None:
    """The earliest time at or after ``t`` inside a window (``t`` itself with no windows)."""
    if not windows:
        return t
    for lo, hi in windows:
        if t <= hi:
            return max(t, lo)
    return None


@dataclass
class Geometry:
    """Rows of every task and vehicle end, the tick matrices, and each task's windows."""

    request: RoutingRequest
    tasks: list[Task]
    stop_row: list[int]
    start_row: list[int]
    end_row: list[int]
    distance: npt.NDArray[np.int64]
    base_time: npt.NDArray[np.int64]
    windows: list[list[tuple[int, int]]]
    _by_speed: dict[float, npt.NDArray[np.int64]] = field(default_factory=dict)
    locked: dict[int, list[int]] = field(default_factory=dict)  # vehicle -> its locked tasks
    lock_owner: dict[int, int] = field(default_factory=dict)  # locked task -> its vehicle
    reload_row: list[list[int]] = field(default_factory=list)  # vehicle -> its reload places

    def may_serve(self, v: int, i: int) -> bool:
        """Whether vehicle ``v`` may serve task ``i``: skills, the task's vehicles, and no
        other vehicle's lock on it."""
        return self.tasks[i].allows(self.request.vehicles[v]) and self.lock_owner.get(i, v) == v

    def prefix(self, v: int) -> list[int]:
        """The tasks vehicle ``v``'s route must begin with, in order (none: empty)."""
        return self.locked.get(v, [])

    def time(self, vehicle: Vehicle) -> npt.NDArray[np.int64]:
        """Travel-time ticks at the vehicle's speed."""
        f = vehicle.speed_factor
        if f not in self._by_speed:
            self._by_speed[f] = travel_time_ticks(self.base_time, f)
        return self._by_speed[f]

    def shift(self, vehicle: Vehicle) -> tuple[int, int]:
        """The vehicle's shift in ticks (unbounded without one)."""
        if vehicle.shift is None:
            return 0, UNBOUNDED
        return int(to_time_ticks(vehicle.shift.start_s)), int(to_time_ticks(vehicle.shift.end_s))


def build_geometry(request: RoutingRequest, matrices: TravelMatrices | None = None) -> Geometry:
    """Look every place up and build (or take) the travel matrices, rounded to ticks."""
    tasks = request.tasks()
    if isinstance(request.matrix, ExplicitMatrix):
        stops = [int(t.location_index) if t.location_index is not None else 0 for t in tasks]
        starts = [NOWHERE if v.start_index is None else v.start_index for v in request.vehicles]
        ends = [NOWHERE if v.end_index is None else v.end_index for v in request.vehicles]
        reloads = [list(v.reload_indices) for v in request.vehicles]
        if matrices is None:
            matrices = explicit_matrices(request.matrix)
    else:
        rows: dict[tuple[float, float], int] = {}

        def row(point: tuple[float, float] | None) -> int:
            if point is None:
                return NOWHERE
            return rows.setdefault((float(point[0]), float(point[1])), len(rows))

        stops = [row(t.location) for t in tasks]
        starts = [row(v.start) for v in request.vehicles]
        ends = [row(v.end) for v in request.vehicles]
        reloads = [[row(p) for p in v.reload_locations] for v in request.vehicles]
        if matrices is None:
            points = np.asarray(list(rows), dtype=np.float64).reshape(-1, 2)
            if len(points) == 0:
                empty = np.zeros((0, 0))
                matrices = TravelMatrices(empty, empty.copy())
            else:
                matrices = provider_for(request.matrix).matrices(points)
    index = {t.id: k for k, t in enumerate(tasks)}
    locked = {
        v: [index[s] for s in vehicle.locked_stops]
        for v, vehicle in enumerate(request.vehicles)
        if vehicle.locked_stops
    }
    return Geometry(
        locked=locked,
        lock_owner={i: v for v, prefix in locked.items() for i in prefix},
        request=request,
        tasks=tasks,
        stop_row=stops,
        start_row=starts,
        end_row=ends,
        reload_row=reloads,
        distance=to_distance_ticks(matrices.distances_m),
        base_time=to_time_ticks(matrices.durations_s),
        windows=[merged_windows(t.time_windows) for t in tasks],
    )


@dataclass(frozen=True)
class Timed:
    """One scheduled step, in ticks (``distance`` cumulative since the start)."""

    kind: str  # "start", "stop", "break", "end"
    index: int | None  # task index, or the break's index in the vehicle's breaks
    arrival: int
    begin: int
    departure: int
    distance: int
    travel: int = 0


#: A route as the evaluator schedules it: ("stop", task index), ("break", break index) and
#: ("reload", index into the vehicle's reload places).
Item = tuple[str, int]


def _cell(matrix: npt.NDArray[np.int64], a: int, b: int) -> int:
    return 0 if NOWHERE in (a, b) else int(matrix[a, b])


def simulate(
    geo: Geometry, v: int, items: Sequence[Item], start: int, *, lenient: bool = False
) -> list[Timed] | None:
    """The earliest schedule of ``items`` leaving at ``start``; None if a window is missed
    (``lenient``: a late step keeps its time instead, for plans that are reported as broken)."""
    vehicle = geo.request.vehicles[v]
    travel = geo.time(vehicle)
    stop_rows = [geo.stop_row[i] for kind, i in items if kind == "stop"]
    here = geo.start_row[v]
    if here == NOWHERE and stop_rows:
        here = stop_rows[0]
    out = [Timed("start", None, start, start, start, 0)]
    clock, travelled, pending = start, 0, []
    reload_ticks = int(to_time_ticks(vehicle.reload_service_s))
    for kind, index in [*items, ("end", -1)]:
        if kind == "break":
            pending.append(index)
            continue
        if kind == "reload":
            there = geo.reload_row[v][index]
            arrival = clock + _cell(travel, here, there)
            travelled += _cell(geo.distance, here, there)
            leg = _cell(travel, here, there)
            out.append(
                Timed("reload", index, arrival, arrival, arrival + reload_ticks, travelled, leg)
            )
            clock, here = arrival + reload_ticks, there
            continue
        if kind == "end":
            there = geo.end_row[v] if geo.end_row[v] != NOWHERE else here
        else:
            there = geo.stop_row[index]
        leg = _cell(travel, here, there)
        drive_left = leg
        for brk in pending:
            spec = vehicle.breaks[brk]
            begin = first_open(merged_windows(spec.time_windows), clock)
            if begin is None:
                if not lenient:
                    return None
                begin = clock
            driven = min(drive_left, begin - clock)
            drive_left -= driven
            end = begin + int(to_time_ticks(spec.duration_s))
            out.append(Timed("break", brk, begin - (begin - clock - driven), begin, end, travelled))
            clock = end
        pending = []
        arrival = clock + drive_left
        travelled += _cell(geo.distance, here, there)
        if kind == "end":
            out.append(Timed("end", None, arrival, arrival, arrival, travelled, leg))
            return out
        begin = first_open(geo.windows[index], arrival)
        if begin is None:
            if not lenient:
                return None
            begin = arrival
        leave = begin + int(to_time_ticks(geo.tasks[index].service_s))
        out.append(Timed("stop", index, arrival, begin, leave, travelled, leg))
        clock, here = leave, there
    raise AssertionError("unreachable")  # pragma: no cover


def _candidate_starts(geo: Geometry, v: int, items: Sequence[Item], lo: int) -> list[int]:
    """Starts at which the shortest span may be found: the shift's start, and each start at
    which some step would begin exactly at a window's opening or closing with no waiting
    before it (the span only changes slope or jumps there). With breaks the offsets are
    approximate; every candidate is simulated in full, so a miss only makes the evaluator
    find fewer insertions (never a false one)."""
    timed = simulate(geo, v, items, lo)
    if timed is None:
        return [lo]
    vehicle = geo.request.vehicles[v]
    starts = {lo}
    offset = 0  # ticks from the start to this step's begin, with no waiting anywhere
    for step in timed[1:-1]:
        offset += step.travel
        if step.kind == "reload":
            windows = []
        elif step.kind == "stop":
            assert step.index is not None
            windows = geo.windows[step.index]
        else:
            assert step.index is not None
            windows = merged_windows(vehicle.breaks[step.index].time_windows)
        for w_lo, w_hi in windows:
            starts.update(t for t in (w_lo - offset, w_hi - offset) if t > lo)
        offset += step.departure - step.begin
    return sorted(starts)


def _span(timed: list[Timed]) -> int:
    return timed[-1].arrival - timed[0].departure


def best_timing(
    geo: Geometry, v: int, items: Sequence[Item], *, shortest: bool
) -> list[Timed] | None:
    """A punctual schedule (windows, breaks, shift end) of ``items``, or None if none exists.

    ``shortest``: the one of shortest span over the candidate starts (earliest end among
    equals); else the one leaving at the shift's start, which ends earliest.
    """
    lo, hi = geo.shift(geo.request.vehicles[v])
    best: list[Timed] | None = None
    for start in _candidate_starts(geo, v, items, lo):
        if start > hi:
            break
        timed = simulate(geo, v, items, start)
        if timed is None or timed[-1].arrival > hi:
            continue
        if best is None or (_span(timed), timed[-1].arrival) < (_span(best), best[-1].arrival):
            best = timed
        if not shortest:
            break
    return best


def fits(geo: Geometry, v: int, items: Sequence[Item]) -> list[Timed] | None:
    """A schedule of ``items`` on vehicle ``v`` meeting every constraint, or None.

    Checks the locked prefix, skills and allowed vehicles, capacity over the route, max stops
    and distance, windows, breaks, the shift and max duration (the shortest span over the
    candidate starts).
    """
    vehicle = geo.request.vehicles[v]
    stops = [i for kind, i in items if kind == "stop"]
    if vehicle.max_stops is not None and len(stops) > vehicle.max_stops:
        return None
    prefix = geo.prefix(v)
    if stops[: len(prefix)] != prefix:
        return None
    if any(not geo.may_serve(v, i) for i in stops):
        return None
    if not loads_fit(geo, vehicle, stops, items):
        return None
    reloads = sum(kind == "reload" for kind, _ in items)
    if reloads and (
        not vehicle.has_reloads
        or (vehicle.max_reloads is not None and reloads > vehicle.max_reloads)
    ):
        return None
    limit = None if vehicle.max_duration_s is None else int(to_time_ticks(vehicle.max_duration_s))
    lo, hi = geo.shift(vehicle)
    best = simulate(geo, v, items, lo)
    if best is None or best[-1].arrival > hi:
        return None  # a later start only arrives later everywhere
    if limit is not None and _span(best) > limit:
        # the span never drops below driving, serving and breaks: search only if that fits
        busy = sum(s.travel + s.departure - s.begin for s in best)
        best = best_timing(geo, v, items, shortest=True) if busy <= limit else None
    if best is None or (limit is not None and _span(best) > limit):
        return None
    if vehicle.max_distance_m is not None and best[-1].distance > int(
        to_distance_ticks(vehicle.max_distance_m)
    ):
        return None
    return best


def loads_fit(
    geo: Geometry, vehicle: Vehicle, stops: Sequence[int], items: Sequence[Item] = ()
) -> bool:
    """The load stays within capacity (dimensions the vehicle limits) and above zero, on
    each trip when ``items`` has reloads (each trip leaves with its own deliveries)."""
    if any(kind == "reload" for kind, _ in items):
        trips: list[list[int]] = [[]]
        for kind, i in items:
            if kind == "reload":
                trips.append([])
            elif kind == "stop":
                trips[-1].append(i)
        return all(loads_fit(geo, vehicle, trip) for trip in trips)
    tasks = [geo.tasks[i] for i in stops]
    for name, cap in vehicle.capacity.items():
        load = sum(t.delivery.get(name, 0.0) for t in tasks)
        if load > cap + 1e-9:
            return False
        for t in tasks:
            load += t.pickup.get(name, 0.0) - t.delivery.get(name, 0.0) - t.unload.get(name, 0.0)
            if load > cap + 1e-9 or load < -1e-9:
                return False
    return True
