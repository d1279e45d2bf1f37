"""Compile a routing request into solver arrays (:class:`VrpData`), after pre-checks.

Ids stay here: the solver sees node and vehicle indices only, and ``CompiledProblem`` keeps
the maps back. Scaling to integer ticks is in ``engine/units.py``. Before the solve, every
(stop, vehicle) pair is checked on its own (skills, capacity, shift, windows, limits): pairs
that can never work are forbidden, and a stop that fits no vehicle is reported with the
reason of the vehicle that came closest, instead of being left to the search.

Every value it scales is checked (``engine/units.py``), and so are the sums the solvers make
of them (arc and route costs, drop penalties): a value that would overflow is an
:class:`~models.errors.InvalidInputError` naming its field, never a wrong plan from a cast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.routing.compile_costs import owner_path, penalty_ticks, task_path, vehicle_costs
from engine.routing.locations import NO_LOCATION, LocationTable, ResolvedRequest, TickMatrices
from engine.units import (
    COST_SCALE,
    DISTANCE_SCALE,
    MAX_TICKS,
    TIME_SCALE,
    check_ticks,
    to_cost_ticks,
    to_distance_ticks,
    to_quantity_ticks,
    to_time_ticks,
)
from models.common import TimeWindow
from models.errors import InvalidInputError
from models.routing import RoutingRequest, Task, Unassigned, Vehicle
from models.status import PRE_CHECK_REASONS, UnassignedReason
from solvers.routing.data import VrpBreak, VrpData
from solvers.routing.locks import lock_problems

#: Pre-check levels, in the order a (stop, vehicle) pair is examined; OK passes them all.
_CHECKS = PRE_CHECK_REASONS
_OK = len(_CHECKS)


@dataclass(frozen=True)
class CompiledProblem:
    """Solver arrays plus the maps from solver indices back to the request."""

    resolved: ResolvedRequest
    data: VrpData
    stop_of_node: npt.NDArray[np.int64]
    node_location: npt.NDArray[np.int64]
    rejected: list[Unassigned]
    dimensions: list[str]
    horizon: int

    @property
    def request(self) -> RoutingRequest:
        """The request this problem was compiled from."""
        return self.resolved.request


def quantity_dimensions(request: RoutingRequest) -> list[str]:
    """Every named quantity used by a demand or a capacity, sorted."""
    names: set[str] = set()
    for task in request.tasks():
        names.update(task.demand)
    for vehicle in request.vehicles:
        names.update(vehicle.capacity)
    return sorted(names)


def windows_ticks(windows: list[TimeWindow], field: str = "time_windows") -> npt.NDArray[np.int64]:
    """Time windows as a ``[k, 2]`` array of ticks."""
    if not windows:
        return np.zeros((0, 2), dtype=np.int64)
    return to_time_ticks([[w.start_s, w.end_s] for w in windows], field).reshape(-1, 2)


def time_horizon(resolved: ResolvedRequest) -> int:
    """A time in ticks after which nothing need happen: bounds open shifts."""
    request, tasks = resolved.request, resolved.tasks
    ends = [0]
    for i, task in enumerate(tasks):
        where = f"{task_path(request, i)}.time_windows"
        ends += [int(w) for w in windows_ticks(task.time_windows, where)[:, 1]]
    for v, vehicle in enumerate(request.vehicles):
        if vehicle.shift is not None:
            ends.append(int(to_time_ticks(vehicle.shift.end_s, f"vehicles[{v}].shift.end_s")))
        for b, spec in enumerate(vehicle.breaks):
            where = f"vehicles[{v}].breaks[{b}].time_windows"
            ends += [int(w) for w in windows_ticks(spec.time_windows, where)[:, 1]]
    base = resolved.ticks.base_time
    slowest = min(v.speed_factor for v in request.vehicles)
    longest = int(np.ceil(base.max() / slowest)) if base.size else 0
    service = int(to_time_ticks(sum(s.service_s for s in tasks), "stops (their service_s)"))
    breaks = int(
        to_time_ticks(
            sum(b.duration_s for v in request.vehicles for b in v.breaks),
            "vehicles (their breaks' duration_s)",
        )
    )
    # a reload may come before every stop: its time and one more leg each
    reload_s = max(
        (
            v.reload_service_s
            * min(len(tasks), MAX_TICKS if v.max_reloads is None else v.max_reloads)
            for v in request.vehicles
            if v.has_reloads
        ),
        default=-1.0,
    )
    reloads = 0 if reload_s < 0 else int(to_time_ticks(reload_s, "vehicles (their reloads)"))
    legs = len(tasks) + 2 + (len(tasks) if reload_s >= 0 else 0)
    horizon = max(ends) + service + breaks + reloads + legs * longest + 1
    check_ticks(
        horizon,
        "matrix",
        "with every service, break and the longest trip once per stop, the day's times add "
        f"up beyond what the solvers can hold ({MAX_TICKS / TIME_SCALE:.4g} s)",
        scale=TIME_SCALE,
    )
    return horizon


def vehicle_shift(vehicle: Vehicle, horizon: int, field: str = "shift") -> tuple[int, int]:
    """A vehicle's shift in ticks; an unlimited one spans ``[0, horizon]``."""
    if vehicle.shift is None:
        return 0, horizon
    start, end = to_time_ticks([vehicle.shift.start_s, vehicle.shift.end_s], field)
    return int(start), int(end)


def _first_window_from(windows: npt.NDArray[np.int64], t: int) -> int | None:
    """Earliest service start at or after ``t`` inside ``windows`` (None if all closed)."""
    if len(windows) == 0:
        return t
    for lo, hi in windows:
        if hi >= t:
            return max(int(lo), t)
    return None


def _quantity_path(request: RoutingRequest, tasks: list[Task], index: int, name: str) -> str:
    """The field that gives task ``index`` its quantity ``name``."""
    task = tasks[index]
    if task.kind != "job":
        return f"{owner_path(request, index)}.amount.{name}"
    part = "demand" if task.delivery.get(name, 0.0) >= task.pickup.get(name, 0.0) else "pickup"
    return f"{task_path(request, index)}.{part}.{name}"


@dataclass(frozen=True)
class _TaskArrays:
    """What the pre-checks need of every task, as arrays (windows padded to the widest)."""

    rows: npt.NDArray[np.int64]  # location row of each task
    service: npt.NDArray[np.int64]  # service ticks
    windows: npt.NDArray[np.int64]  # [task, window, (start, end)]; padding is [far, -1]
    has_windows: npt.NDArray[np.bool_]
    skills: list[frozenset[str]]
    allowed: npt.NDArray[np.bool_]  # [task, vehicle]: skills, the task's vehicles, locks
    names: list[str]  # the quantity names that tasks demand
    demand: npt.NDArray[np.int64]  # [task, name] in quantity ticks


def _task_arrays(resolved: ResolvedRequest) -> _TaskArrays:
    """Gather the tasks' rows, service times, windows, skills and demands as arrays."""
    request, stops = resolved.request, resolved.tasks
    n_stops, vehicles = len(stops), request.vehicles
    widest = max((len(s.time_windows) for s in stops), default=0)
    far = np.iinfo(np.int64).max // 4
    win = np.full((n_stops, max(widest, 1), 2), [far, -1], dtype=np.int64)
    has_windows = np.zeros(n_stops, dtype=bool)
    for i, stop in enumerate(stops):
        if stop.time_windows:
            where = f"{task_path(request, i)}.time_windows"
            win[i, : len(stop.time_windows)] = windows_ticks(stop.time_windows, where)
            has_windows[i] = True
    names = sorted({n for s in stops for n in s.demand})
    demand = to_quantity_ticks(
        [[s.demand.get(n, 0.0) for n in names] for s in stops],
        lambda at: _quantity_path(request, stops, at[0], names[at[1]]),
    )
    locked = request.locked_by()
    allowed = np.zeros((n_stops, len(vehicles)), dtype=np.bool_)
    for i, s in enumerate(stops):
        for v, vehicle in enumerate(vehicles):
            allowed[i, v] = s.allows(vehicle) and locked.get(s.id, v) == v
    return _TaskArrays(
        allowed=allowed,
        rows=resolved.table.stop_location,
        service=to_time_ticks(
            [s.service_s for s in stops], lambda at: f"{task_path(request, at[0])}.service_s"
        ),
        windows=win,
        has_windows=has_windows,
        skills=[frozenset(s.skills) for s in stops],
        names=names,
        demand=demand.reshape(n_stops, len(names)),
    )


def _vehicle_levels(
    resolved: ResolvedRequest, tasks: _TaskArrays, v: int, horizon: int
) -> npt.NDArray[np.int64]:
    """For every task, the first pre-check it fails with vehicle ``v`` (``_OK``: none)."""
    table, ticks = resolved.table, resolved.ticks
    vehicle = resolved.request.vehicles[v]
    n_stops = len(tasks.skills)
    rows, service, win, has_windows = tasks.rows, tasks.service, tasks.windows, tasks.has_windows
    failed = np.full(n_stops, _OK, dtype=np.int64)

    def mark(mask: npt.NDArray[np.bool_], level: int) -> None:
        failed[mask & (failed == _OK)] = level

    mark(~tasks.allowed[:, v], 0)
    for k, name in enumerate(tasks.names):
        if name in vehicle.capacity:
            capacity = to_quantity_ticks(vehicle.capacity[name], f"vehicles[{v}].capacity.{name}")
            mark(tasks.demand[:, k] > capacity, 1)
    if vehicle.max_stops == 0:
        mark(np.ones(n_stops, dtype=bool), 2)
    lo, hi = vehicle_shift(vehicle, horizon, f"vehicles[{v}].shift")
    real = win[:, :, 1] >= 0
    overlaps = real & (win[:, :, 0] <= hi) & (win[:, :, 1] >= lo)
    mark(has_windows & ~overlaps.any(axis=1), 3)
    travel = ticks.time(vehicle.speed_factor)
    start, end = int(table.vehicle_start[v]), int(table.vehicle_end[v])
    out = travel[start, rows] if start != NO_LOCATION else np.zeros(n_stops, np.int64)
    back = travel[rows, end] if end != NO_LOCATION else np.zeros(n_stops, np.int64)
    arrival = lo + out
    open_after = real & (win[:, :, 1] >= arrival[:, None])
    first = np.argmax(open_after, axis=1)
    begin = np.maximum(win[np.arange(n_stops), first, 0], arrival)
    begin = np.where(has_windows, begin, arrival)
    reachable = ~has_windows | open_after.any(axis=1)
    mark(~reachable | (begin + service + back > hi), 4)
    if vehicle.max_distance_m is not None:
        dist = ticks.distance
        there = dist[start, rows] if start != NO_LOCATION else np.zeros(n_stops, np.int64)
        home = dist[rows, end] if end != NO_LOCATION else np.zeros(n_stops, np.int64)
        limit_m = to_distance_ticks(vehicle.max_distance_m, f"vehicles[{v}].max_distance_m")
        mark(there + home > limit_m, 5)
    if vehicle.max_duration_s is not None:
        limit_s = to_time_ticks(vehicle.max_duration_s, f"vehicles[{v}].max_duration_s")
        mark(out + service + back > limit_s, 6)
    return failed


def pair_levels(resolved: ResolvedRequest, horizon: int) -> npt.NDArray[np.int64]:
    """For every (stop, vehicle) pair, how many pre-checks it passes (``_OK`` = all).

    Each vehicle is checked against all tasks (stops and shipment ends) at once: skills,
    capacity, ``max_stops = 0``, windows against the shift, reaching a window from the start
    and getting back before the shift ends, then the round trip against ``max_distance_m``
    and ``max_duration_s``. A shipment's two ends share the worse of their two levels.
    """
    stops = resolved.tasks
    n_stops, n_vehicles = len(stops), len(resolved.request.vehicles)
    levels = np.full((n_stops, n_vehicles), _OK, dtype=np.int64)
    if n_stops == 0:
        return levels
    tasks = _task_arrays(resolved)
    for v in range(n_vehicles):
        levels[:, v] = _vehicle_levels(resolved, tasks, v, horizon)
    # A shipment's two ends go to one vehicle: each end is only as good as the worse one.
    for i, task in enumerate(stops):
        if task.partner is not None:
            levels[i] = np.minimum(levels[i], levels[task.partner])
    return levels


def _reason_message(code: UnassignedReason, stop: Task) -> str:
    """A sentence explaining why no vehicle can serve ``stop``."""
    messages = {
        UnassignedReason.NO_VEHICLE_WITH_SKILLS: (
            f"no vehicle has all the skills {sorted(stop.skills)}"
        ),
        UnassignedReason.DEMAND_EXCEEDS_CAPACITY: (
            f"demand {stop.demand} exceeds the capacity of every vehicle with the skills"
        ),
        UnassignedReason.NO_STOPS_ALLOWED: "every suitable vehicle has max_stops = 0",
        UnassignedReason.OUTSIDE_EVERY_SHIFT: (
            f"time windows {[[w.start_s, w.end_s] for w in stop.time_windows]} lie outside "
            "the shift of every suitable vehicle"
        ),
        UnassignedReason.TIME_WINDOW_UNREACHABLE: (
            "no suitable vehicle can reach the stop within its time windows and get back "
            "before its shift ends"
        ),
        UnassignedReason.EXCEEDS_MAX_DISTANCE: (
            "the round trip from every suitable vehicle's start exceeds its max_distance_m"
        ),
        UnassignedReason.EXCEEDS_MAX_DURATION: (
            "the round trip from every suitable vehicle's start exceeds its max_duration_s"
        ),
    }
    return messages[code]


def _node_coordinates(
    resolved: ResolvedRequest, node_location: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Where each node is (NaN when unknown), for heuristics that look at geometry."""
    table = resolved.table
    known: dict[int, tuple[float, float]] = {}
    if table.points is not None:
        known = {row: (float(p[0]), float(p[1])) for row, p in enumerate(table.points)}
    else:  # explicit matrices: coordinates given beside the indices, if any
        for task, row in zip(resolved.tasks, table.stop_location, strict=True):
            if task.location is not None:
                known[int(row)] = task.location
        for k, vehicle in enumerate(resolved.request.vehicles):
            for point, row in (
                (vehicle.start, table.vehicle_start[k]),
                (vehicle.end, table.vehicle_end[k]),
            ):
                if point is not None and row >= 0:
                    known[int(row)] = point
    out = np.full((len(node_location), 2), np.nan)
    for node, row in enumerate(node_location):
        if int(row) in known:
            out[node] = known[int(row)]
    if np.any(node_location < 0) and np.any(np.isfinite(out)):
        out[node_location < 0] = np.nanmean(out, axis=0)  # the free node: anywhere central
    return out


def _pre_check(
    tasks: list[Task], levels: npt.NDArray[np.int64]
) -> tuple[list[int], list[Unassigned]]:
    """The tasks some vehicle may serve, and the others, each with its closest reason."""
    candidates = [s for s in range(len(tasks)) if np.any(levels[s] == _OK)]
    rejected = []
    chosen = set(candidates)
    for s in range(len(tasks)):
        if s not in chosen:
            code = _CHECKS[int(levels[s].max())]
            rejected.append(
                Unassigned(id=tasks[s].id, reason=code, message=_reason_message(code, tasks[s]))
            )
    return candidates, rejected


@dataclass(frozen=True)
class _Nodes:
    """The solver's nodes: candidate stops, each distinct depot row, then a free node if a
    route is open (it stands for "anywhere", zero travel to and from it)."""

    location: npt.NDArray[np.int64]  # location row of each node (NO_LOCATION: the free node)
    free_node: int  # -1 when every route is closed
    depot_node: dict[int, int]  # location row -> node

    def matrix(self, matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A location matrix restricted to the nodes, zero to and from the free node."""
        rows = np.where(self.location >= 0, self.location, 0)
        sub = matrix[np.ix_(rows, rows)] if matrix.size else np.zeros((len(rows),) * 2, np.int64)
        sub = sub.astype(np.int64, copy=True)
        if self.free_node >= 0:
            sub[self.free_node, :] = 0
            sub[:, self.free_node] = 0
        return sub

    def of_rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The node of each vehicle start or end row (the free node for none)."""
        return np.asarray([self.depot_node.get(int(x), self.free_node) for x in rows], np.int64)


def _nodes(resolved: ResolvedRequest, candidates: list[int]) -> _Nodes:
    """Lay out the nodes: candidate stops first, then depots, then the free node."""
    table = resolved.table
    depot_rows = sorted(
        {
            int(x)
            for x in np.concatenate(
                [table.vehicle_start, table.vehicle_end, *table.vehicle_reloads]
            )
            if x >= 0
        }
    )
    open_routes = bool(np.any(table.vehicle_start < 0) or np.any(table.vehicle_end < 0))
    location = np.asarray(
        [int(table.stop_location[s]) for s in candidates]
        + depot_rows
        + ([NO_LOCATION] if open_routes else []),
        dtype=np.int64,
    )
    return _Nodes(
        location=location,
        free_node=len(location) - 1 if open_routes else -1,
        depot_node={row: len(candidates) + k for k, row in enumerate(depot_rows)},
    )


def _profiles(
    request: RoutingRequest, ticks: TickMatrices, nodes: _Nodes
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64]]:
    """One duration matrix per distinct speed factor, and each vehicle's profile index."""
    speeds = sorted({v.speed_factor for v in request.vehicles})
    durations = [nodes.matrix(ticks.time(f)) for f in speeds]
    profile = np.asarray([speeds.index(v.speed_factor) for v in request.vehicles], dtype=np.int64)
    return durations, profile


@dataclass(frozen=True)
class _Quantities:
    """Per node: service ticks, and what is delivered, picked up and unloaded per dimension."""

    service: npt.NDArray[np.int64]
    demand: npt.NDArray[np.int64]
    pickup: npt.NDArray[np.int64]
    unload: npt.NDArray[np.int64]


def _node_quantities(
    request: RoutingRequest,
    tasks: list[Task],
    candidates: list[int],
    dimensions: list[str],
    n_nodes: int,
) -> _Quantities:
    """Service times and quantities of the candidate stops, in ticks (zero at depots)."""
    service = np.zeros(n_nodes, dtype=np.int64)
    demand = np.zeros((n_nodes, len(dimensions)), dtype=np.int64)
    pickup = np.zeros_like(demand)
    unload = np.zeros_like(demand)
    for node, s in enumerate(candidates):
        stop, where, owner = tasks[s], task_path(request, s), owner_path(request, s)
        service[node] = int(to_time_ticks(stop.service_s, f"{where}.service_s"))
        delivered = f"{owner}.amount" if stop.kind != "job" else f"{where}.demand"
        picked = f"{owner}.amount" if stop.kind != "job" else f"{where}.pickup"
        for k, name in enumerate(dimensions):
            demand[node, k] = int(to_quantity_ticks(stop.delivery.get(name, 0.0), delivered))
            pickup[node, k] = int(to_quantity_ticks(stop.pickup.get(name, 0.0), picked))
            unload[node, k] = int(to_quantity_ticks(stop.unload.get(name, 0.0), delivered))
    return _Quantities(service, demand, pickup, unload)


def _shipment_pairs(tasks: list[Task], candidates: list[int]) -> npt.NDArray[np.int64]:
    """``[k, 2]`` (pickup node, delivery node) of each shipment whose ends are both kept."""
    node_of = {s: node for node, s in enumerate(candidates)}
    pairs = [
        (node_of[s], node_of[partner])
        for s in candidates
        if tasks[s].kind == "pickup" and (partner := tasks[s].partner) in node_of
    ]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _capacities(
    request: RoutingRequest, dimensions: list[str], quantities: _Quantities
) -> npt.NDArray[np.int64]:
    """``[vehicle, dimension]`` capacity ticks; a dimension a vehicle does not limit gets
    more than all demands and pickups together."""
    unlimited = (quantities.demand + quantities.pickup).sum(axis=0) + 1
    return np.asarray(
        [
            [
                int(to_quantity_ticks(v.capacity[name], f"vehicles[{i}].capacity.{name}"))
                if name in v.capacity
                else int(unlimited[k])
                for k, name in enumerate(dimensions)
            ]
            for i, v in enumerate(request.vehicles)
        ],
        dtype=np.int64,
    ).reshape(len(request.vehicles), len(dimensions))


@dataclass(frozen=True)
class _Limits:
    """Per vehicle in ticks: shift ``[start, end]``, max duration, distance, stops (-1: none)."""

    shift: npt.NDArray[np.int64]
    max_duration: npt.NDArray[np.int64]
    max_distance: npt.NDArray[np.int64]
    max_stops: npt.NDArray[np.int64]


def _limits(request: RoutingRequest, horizon: int) -> _Limits:
    """The vehicles' shifts and limits in ticks."""
    vehicles = request.vehicles

    def limit(name: str, unit: str) -> list[int]:
        values = [getattr(v, name) for v in vehicles]
        known = [0.0 if x is None else x for x in values]
        to_ticks = to_time_ticks if unit == "s" else to_distance_ticks
        ticks = to_ticks(known, lambda at: f"vehicles[{at[0]}].{name}")
        return [-1 if x is None else int(t) for x, t in zip(values, ticks, strict=True)]

    return _Limits(
        shift=np.asarray(
            [vehicle_shift(v, horizon, f"vehicles[{i}].shift") for i, v in enumerate(vehicles)],
            dtype=np.int64,
        ).reshape(len(vehicles), 2),
        max_duration=np.asarray(limit("max_duration_s", "s"), dtype=np.int64),
        max_distance=np.asarray(limit("max_distance_m", "m"), dtype=np.int64),
        max_stops=np.asarray(
            [-1 if v.max_stops is None else v.max_stops for v in vehicles], dtype=np.int64
        ),
    )


def _breaks(request: RoutingRequest) -> list[list[VrpBreak]]:
    """Each vehicle's breaks: windows and duration in ticks."""
    return [
        [
            VrpBreak(
                windows_ticks(b.time_windows, f"vehicles[{i}].breaks[{k}].time_windows"),
                int(to_time_ticks(b.duration_s, f"vehicles[{i}].breaks[{k}].duration_s")),
            )
            for k, b in enumerate(v.breaks)
        ]
        for i, v in enumerate(request.vehicles)
    ]


def _check_locks(resolved: ResolvedRequest, levels: npt.NDArray[np.int64]) -> None:
    """Every locked stop passes its own vehicle's pre-checks: a lock states what is done or
    under way, so a lock the vehicle cannot serve is an input error, not a dropped stop."""
    request, tasks = resolved.request, resolved.tasks
    index = {t.id: i for i, t in enumerate(tasks)}
    for v, vehicle in enumerate(request.vehicles):
        for k, stop_id in enumerate(vehicle.locked_stops):
            level = int(levels[index[stop_id], v])
            if level != _OK:
                raise InvalidInputError.for_field(
                    f"vehicles[{v}].locked_stops[{k}]",
                    stop_id,
                    f"vehicle {vehicle.id!r} cannot serve this locked stop: "
                    f"{_CHECKS[level].value.replace('_', ' ')}",
                )


def _links(
    request: RoutingRequest, tasks: list[Task], candidates: list[int]
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64] | None]:
    """Each vehicle's locked prefix as nodes, and the cost ticks of serving each candidate
    stop by each vehicle (the reassign penalty off its assigned vehicle; None: no such cost)."""
    node_of = {tasks[s].id: node for node, s in enumerate(candidates)}
    locked = [
        np.asarray([node_of[s] for s in v.locked_stops], dtype=np.int64) for v in request.vehicles
    ]
    penalty = request.options.reassign_penalty
    ids = [v.id for v in request.vehicles]
    if penalty <= 0 or not any(tasks[s].assigned_vehicle for s in candidates):
        return locked, None
    ticks = int(to_cost_ticks(penalty, "options.reassign_penalty"))
    cost = np.zeros((len(candidates), len(ids)), dtype=np.int64)
    for node, s in enumerate(candidates):
        assigned = tasks[s].assigned_vehicle
        if assigned is not None:
            cost[node] = [0 if vid == assigned else ticks for vid in ids]
    return locked, cost


def _reloads(request: RoutingRequest, table: LocationTable, nodes: _Nodes) -> dict[str, Any]:
    """Each vehicle's reload nodes, reload limit (-1: none) and reload time, in ticks."""
    if not any(v.has_reloads for v in request.vehicles):
        return {}
    return {
        "reloads": [
            nodes.of_rows(table.reload_rows(v)) if vehicle.has_reloads else np.zeros(0, np.int64)
            for v, vehicle in enumerate(request.vehicles)
        ],
        "max_reloads": np.asarray(
            [-1 if v.max_reloads is None else v.max_reloads for v in request.vehicles], np.int64
        ),
        "reload_service": np.asarray(
            [int(to_time_ticks(v.reload_service_s)) for v in request.vehicles], np.int64
        ),
    }


#: Cost ticks per tick (or per stop) of each balance metric, per unit of its weight.
_BALANCE_TICK = {
    "duration": COST_SCALE / (3600.0 * TIME_SCALE),
    "distance": COST_SCALE / (1000.0 * DISTANCE_SCALE),
    "stops": float(COST_SCALE),
}


def _balance(request: RoutingRequest) -> dict[str, Any]:
    """The balance term: its metric and its cost per tick (per stop)."""
    balance = request.options.balance
    if balance is None or balance.weight <= 0:
        return {}
    return {
        "balance_metric": balance.metric,
        "balance_cost": balance.weight * _BALANCE_TICK[balance.metric],
    }


def compile_request(resolved: ResolvedRequest) -> CompiledProblem:
    """Pre-check every (stop, vehicle) pair and build the solver arrays for what remains."""
    request, table, tasks = resolved.request, resolved.table, resolved.tasks
    horizon = time_horizon(resolved)
    dimensions = quantity_dimensions(request)
    n_vehicles = len(request.vehicles)
    levels = pair_levels(resolved, horizon)
    _check_locks(resolved, levels)
    candidates, rejected = _pre_check(tasks, levels)
    locked, assign_cost = _links(request, tasks, candidates)
    forced = {s for v in request.vehicles for s in v.locked_stops}
    nodes = _nodes(resolved, candidates)
    distance = nodes.matrix(resolved.ticks.distance)
    durations, profile = _profiles(request, resolved.ticks, nodes)
    quantities = _node_quantities(request, tasks, candidates, dimensions, len(nodes.location))
    costs = vehicle_costs(request)
    limits = _limits(request, horizon)
    data = VrpData(
        distance=distance,
        durations=durations,
        vehicle_profile=profile,
        service=quantities.service,
        demand=quantities.demand,
        capacity=_capacities(request, dimensions, quantities),
        time_windows=[windows_ticks(tasks[s].time_windows) for s in candidates],
        vehicle_start=nodes.of_rows(table.vehicle_start),
        vehicle_end=nodes.of_rows(table.vehicle_end),
        shift=limits.shift,
        max_duration=limits.max_duration,
        max_distance=limits.max_distance,
        max_stops=limits.max_stops,
        fixed_cost=costs.fixed,
        distance_cost=costs.distance,
        duration_cost=costs.duration,
        span_cost=costs.span,
        allowed=(levels[candidates] == _OK).reshape(len(candidates), n_vehicles),
        compatible=(levels[candidates] > 0).reshape(len(candidates), n_vehicles),
        mandatory=np.asarray(
            [not tasks[s].optional or tasks[s].id in forced for s in candidates], dtype=bool
        ),
        penalty=penalty_ticks(
            request, tasks, candidates, costs, (distance, durations, profile), horizon
        ),
        breaks=_breaks(request),
        pickup=quantities.pickup,
        unload=quantities.unload,
        pairs=_shipment_pairs(tasks, candidates),
        coordinates=_node_coordinates(resolved, nodes.location),
        locked=locked,
        assign_cost=assign_cost,
        **_reloads(request, table, nodes),
        **_balance(request),
    )
    for v, why in lock_problems(data):
        raise InvalidInputError.for_field(
            f"vehicles[{v}].locked_stops", list(request.vehicles[v].locked_stops), why
        )
    return CompiledProblem(
        resolved=resolved,
        data=data,
        stop_of_node=np.asarray(candidates, dtype=np.int64),
        node_location=nodes.location,
        rejected=rejected,
        dimensions=dimensions,
        horizon=horizon,
    )
