"""Locked route prefixes: what a vehicle has done or is doing, kept exactly by every backend.

Data
    ``VrpData.locked[v]`` = stops ``a_0 .. a_k`` the route of vehicle ``v`` must begin with, in
    this order; each is mandatory and served by ``v`` only.
OR-Tools (native)
    ``next(start_v) = a_0``, ``next(a_i) = a_(i+1)``, ``vehicle(a_i) = v`` as hard constraints
    (:mod:`solvers.routing.ortools`).
PyVRP (no native locks: :func:`fold`)
    ``a_0 .. a_(k-1)`` are served first, from the shift's start, each as early as its windows
    allow (:func:`prefix_schedule`), and are not clients of the search. The vehicle starts
    instead at a new depot, a copy of ``a_(k-1)``'s node (the start's when ``k = 0``), at that
    departure time, which it may not delay (``start_late = tw_early``); from there only
    ``a_k`` is reachable, and ``a_k`` is required and reachable by ``v`` only. The vehicle's
    capacity loses the most the prefix has on board at once (its deliveries still to hand
    over plus its pickups so far: :func:`_prefix_peak`; for a vehicle that may reload, that
    is PyVRP's ``initial_load`` instead, on board until the first reload), its max duration
    the prefix's time, its max distance the prefix's distance, its max stops the prefix's
    count. The prefix's
    arc, span and assignment costs are a constant (:attr:`Folded.offset`) added back to the
    objective.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from solvers.routing.data import IntArray, VrpData


@dataclass(frozen=True)
class PrefixSchedule:
    """A prefix served as early as its windows allow: where and when the vehicle leaves it."""

    node: int  # the last node served (the start when the prefix is empty)
    departure: int
    distance: int
    arc_cost: int


def _earliest(windows: IntArray, t: int) -> int | None:
    """The earliest service start at or after ``t`` in ``windows`` (``t`` with none)."""
    if len(windows) == 0:
        return t
    for lo, hi in windows:
        if t <= hi:
            return max(t, int(lo))
    return None


def prefix_schedule(data: VrpData, v: int, nodes: IntArray) -> PrefixSchedule | None:
    """Serve ``nodes`` in order from ``v``'s start at its shift's start; None when a window
    cannot be met."""
    duration = data.durations[int(data.vehicle_profile[v])]
    arc = data.arc_cost(v)
    here, t = int(data.vehicle_start[v]), int(data.shift[v, 0])
    distance = cost = 0
    for node in (int(x) for x in nodes):
        start = _earliest(data.time_windows[node], t + int(duration[here, node]))
        if start is None:
            return None
        distance += int(data.distance[here, node])
        cost += int(arc[here, node])
        t, here = start + int(data.service[node]), node
    return PrefixSchedule(here, t, distance, cost)


def lock_problems(data: VrpData) -> list[tuple[int, str]]:
    """(vehicle, why) for each vehicle that cannot serve its locked prefix (empty: all can)."""
    problems: list[tuple[int, str]] = []
    for v in range(data.n_vehicles):
        nodes = data.vehicle_locked(v)
        if len(nodes) == 0:
            continue
        timed = prefix_schedule(data, v, nodes)
        if timed is None:
            problems.append((v, "a locked stop's time windows cannot be met in order"))
        elif timed.departure > int(data.shift[v, 1]):
            problems.append((v, "the locked stops end after the shift"))
        delivered = data.demand[nodes].sum(axis=0)
        if np.any(delivered > data.capacity[v]):
            problems.append((v, "the locked stops deliver more than its capacity"))
    return problems


@dataclass(frozen=True)
class Folded:
    """A problem with its locked prefixes folded into the vehicles (see the module doc)."""

    data: VrpData
    hidden: frozenset[int]  # prefix stops served before the search's part of the route
    head: dict[int, int]  # vehicle -> its last locked stop, the first the search must visit
    new_start: dict[int, int]  # vehicle -> its new start node
    prefix: dict[int, list[int]]  # vehicle -> its hidden stops, in order
    start: dict[int, int]  # vehicle -> when its route really starts (its shift's start)
    offset: int  # the hidden prefixes' cost
    #: vehicle that reloads -> its prefix's peak load, on board for the first trip only
    #: (its capacity is then kept whole: a reload empties the van)
    initial_load: dict[int, IntArray] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        """Whether some vehicle had a locked prefix."""
        return bool(self.head)


def _grown(matrix: IntArray, sources: list[int]) -> IntArray:
    """``matrix`` with one more row and column per source node, copies of the source's."""
    n = matrix.shape[0]
    out = np.zeros((n + len(sources), n + len(sources)), dtype=matrix.dtype)
    out[:n, :n] = matrix
    index = [*range(n), *sources]
    out[n:, :] = matrix[np.ix_(sources, index)]
    out[:, n:] = matrix[np.ix_(index, sources)]
    return out


def _rows(values: IntArray, count: int) -> IntArray:
    """``values`` with ``count`` more rows of zeros."""
    extra = np.zeros((count, *values.shape[1:]), dtype=values.dtype)
    return np.concatenate([values, extra])


def _prefix_peak(data: VrpData, hidden: list[int]) -> IntArray:
    """Per dimension, the most the hidden prefix has on board at once: its deliveries still
    to hand over plus its pickups so far, from the start to its end. The rest of the route
    fits beside it when it fits in the capacity less this."""
    assert data.pickup is not None and data.unload is not None
    to_deliver = data.demand[hidden].sum(axis=0)
    picked = np.zeros_like(to_deliver)
    peak = to_deliver + picked
    for node in hidden:
        to_deliver = to_deliver - data.demand[node]
        picked = picked + data.pickup[node] - data.unload[node]
        peak = np.maximum(peak, to_deliver + picked)
    peak_out: IntArray = peak
    return peak_out


def fold(data: VrpData) -> Folded:
    """Fold every locked prefix into its vehicle (see the module doc); the data as is
    when nothing is locked."""
    locked = {v: data.vehicle_locked(v) for v in range(data.n_vehicles)}
    locked = {v: nodes for v, nodes in locked.items() if len(nodes)}
    if not locked:
        return Folded(data, frozenset(), {}, {}, {}, {}, 0, {})
    n = data.n_nodes
    vehicle_start, shift = data.vehicle_start.copy(), data.shift.copy()
    capacity = data.capacity.copy()
    max_duration, max_distance = data.max_duration.copy(), data.max_distance.copy()
    max_stops = data.max_stops.copy()
    allowed, compatible = data.allowed.copy(), data.compatible.copy()
    mandatory = data.mandatory.copy()
    sources: list[int] = []
    head, new_start, prefix, start = {}, {}, {}, {}
    initial_load: dict[int, IntArray] = {}
    offset = 0
    for v, nodes in locked.items():
        hidden = [int(x) for x in nodes[:-1]]
        timed = prefix_schedule(data, v, np.asarray(hidden, dtype=np.int64))
        assert timed is not None, "lock_problems() must be empty before folding"
        head[v], prefix[v], start[v] = int(nodes[-1]), hidden, int(shift[v, 0])
        new_start[v] = n + len(sources)
        sources.append(timed.node)
        vehicle_start[v] = new_start[v]
        offset += timed.arc_cost + round(float(data.span_cost[v]) * (timed.departure - shift[v, 0]))
        if max_duration[v] >= 0:
            max_duration[v] = max(max_duration[v] - (timed.departure - shift[v, 0]), 0)
        shift[v, 0] = timed.departure
        if len(data.vehicle_reloads(v)):
            initial_load[v] = _prefix_peak(data, hidden)
        else:
            capacity[v] = np.maximum(capacity[v] - _prefix_peak(data, hidden), 0)
        if data.assign_cost is not None:
            offset += int(data.assign_cost[hidden, v].sum())
        if max_distance[v] >= 0:
            max_distance[v] = max(max_distance[v] - timed.distance, 0)
        if max_stops[v] >= 0:
            max_stops[v] = max(max_stops[v] - len(hidden), 0)
        for node in nodes:
            allowed[node, :] = compatible[node, :] = False
            allowed[node, v] = compatible[node, v] = True
            mandatory[node] = True
    extra = len(sources)
    coordinates = None
    if data.coordinates is not None:
        coordinates = np.concatenate([data.coordinates, data.coordinates[sources]])
    folded = dataclasses.replace(
        data,
        distance=_grown(data.distance, sources),
        durations=[_grown(m, sources) for m in data.durations],
        service=_rows(data.service, extra),
        demand=_rows(data.demand, extra),
        pickup=_rows(data.pickup, extra) if data.pickup is not None else None,
        unload=_rows(data.unload, extra) if data.unload is not None else None,
        coordinates=coordinates,
        capacity=capacity,
        vehicle_start=vehicle_start,
        shift=shift,
        max_duration=max_duration,
        max_distance=max_distance,
        max_stops=max_stops,
        allowed=allowed,
        compatible=compatible,
        mandatory=mandatory,
        locked=[],
    )
    hidden_stops = frozenset(s for nodes in prefix.values() for s in nodes)
    return Folded(folded, hidden_stops, head, new_start, prefix, start, offset, initial_load)
