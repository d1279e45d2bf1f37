"""The arrays every VRP backend reads, and the raw solution every backend returns.

Nodes are numbered: ``0 .. n_stops-1`` are stops, then depots, and (when some route is
open) a last "free" node at zero distance and time from everything, used as the start or end
of open routes. All numbers are integers in the engine's ticks (see ``engine/units.py``): the solver
neither knows nor cares about seconds or metres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Called with (seconds since the search began, best objective so far) on each improvement.
ProgressCallback = Callable[[float, int], None]


@dataclass(frozen=True)
class VrpBreak:
    """A break of one vehicle: its start lies in one of ``windows`` (rows ``[lo, hi]``)."""

    windows: IntArray
    duration: int


@dataclass(frozen=True)
class VrpData:
    """A routing problem in solver units.

    Attributes:
        distance: ``[N, N]`` travel distance.
        durations: one ``[N, N]`` travel-time matrix per speed profile.
        vehicle_profile: ``[V]`` index into ``durations``.
        service: ``[N]`` service time at each node (0 at depots).
        demand: ``[N, D]`` quantity delivered at each node (loaded at the route's start).
        pickup: ``[N, D]`` quantity loaded at each node (a stop's pickup, kept to the end, or
            a shipment's pickup end); zeros when not given.
        unload: ``[N, D]`` quantity that leaves the vehicle at a shipment's delivery end.
        pairs: ``[P, 2]`` (pickup node, delivery node) of each shipment: same vehicle, pickup
            first, both served or neither (the delivery end's penalty is 0).
        coordinates: ``[N, 2]`` where each node is (NaN when unknown): only for search
            heuristics that look at geometry (PyVRP's route sectors), never for costs.
        capacity: ``[V, D]`` vehicle capacity per dimension.
        time_windows: per stop, a ``[k, 2]`` array of disjoint sorted windows for the service
            start (``k = 0`` means any time).
        vehicle_start, vehicle_end: ``[V]`` node where each route starts and ends.
        shift: ``[V, 2]`` earliest start and latest end of each route.
        max_duration, max_distance, max_stops: ``[V]``, ``-1`` when unlimited.
        fixed_cost: ``[V]`` cost of using a vehicle.
        distance_cost, duration_cost: ``[V]`` cost per distance tick and per travel-time tick.
        span_cost: ``[V]`` cost per time tick from the route's start to its end.
        allowed: ``[n_stops, V]`` whether a vehicle may serve a stop (skills, pre-checks).
        compatible: ``[n_stops, V]`` the hard part of ``allowed``: the vehicle has the skills.
        penalty: ``[n_stops]`` cost of leaving each stop out.
        mandatory: ``[n_stops]`` whether a stop must be served (its penalty then dominates).
        breaks: per vehicle, its breaks.
        locked: per vehicle, the stops its route must begin with, in order (empty: none);
            a locked stop is mandatory and served by that vehicle only.
        assign_cost: ``[n_stops, V]`` cost of serving each stop by each vehicle (a
            reassign penalty off the stop's planned vehicle); None: nothing.
        reloads: per vehicle, the depot nodes where it may load again mid-route (multi-trip;
            empty: none). At a reload the vehicle's load starts again: what was picked up is
            unloaded and the next trip's deliveries are loaded.
        max_reloads: ``[V]`` reloads allowed per route, ``-1`` when unlimited.
        reload_service: ``[V]`` time one reload takes.
        balance_metric: workload balance: ``"duration"`` (route span), ``"stops"`` or
            ``"distance"``; None: no balance term.
        balance_cost: cost per tick (per stop) of the largest route's ``balance_metric``.
    """

    distance: IntArray
    durations: list[IntArray]
    vehicle_profile: IntArray
    service: IntArray
    demand: IntArray
    capacity: IntArray
    time_windows: list[IntArray]
    vehicle_start: IntArray
    vehicle_end: IntArray
    shift: IntArray
    max_duration: IntArray
    max_distance: IntArray
    max_stops: IntArray
    fixed_cost: IntArray
    distance_cost: FloatArray
    duration_cost: FloatArray
    span_cost: FloatArray
    allowed: BoolArray
    compatible: BoolArray
    penalty: IntArray
    mandatory: BoolArray
    breaks: list[list[VrpBreak]] = field(default_factory=list)
    pickup: IntArray | None = None
    unload: IntArray | None = None
    pairs: IntArray | None = None
    coordinates: FloatArray | None = None
    locked: list[IntArray] = field(default_factory=list)
    assign_cost: IntArray | None = None
    reloads: list[IntArray] = field(default_factory=list)
    max_reloads: IntArray | None = None
    reload_service: IntArray | None = None
    balance_metric: str | None = None
    balance_cost: float = 0.0

    def __post_init__(self) -> None:
        if self.pickup is None:
            object.__setattr__(self, "pickup", np.zeros_like(self.demand))
        if self.unload is None:
            object.__setattr__(self, "unload", np.zeros_like(self.demand))
        if self.pairs is None:
            object.__setattr__(self, "pairs", np.zeros((0, 2), dtype=np.int64))
        n = self.distance.shape[0]
        v = self.vehicle_start.shape[0]
        if self.distance.shape != (n, n) or any(d.shape != (n, n) for d in self.durations):
            raise ValueError("distance and duration matrices must all be N x N")
        if self.service.shape != (n,) or self.demand.shape[0] != n:
            raise ValueError("service and demand need one row per node")
        if self.capacity.shape != (v, self.demand.shape[1]):
            raise ValueError("capacity must be V x D with the demand's D")
        if self.allowed.shape != (self.n_stops, v) or self.penalty.shape != (self.n_stops,):
            raise ValueError("allowed must be n_stops x V and penalty n_stops long")
        if len(self.breaks) not in (0, v):
            raise ValueError("breaks must be given for every vehicle or none")
        if len(self.locked) not in (0, v):
            raise ValueError("locked prefixes must be given for every vehicle or none")
        if self.assign_cost is not None and self.assign_cost.shape != (self.n_stops, v):
            raise ValueError("assign_cost must be n_stops x V")
        if len(self.reloads) not in (0, v):
            raise ValueError("reload places must be given for every vehicle or none")
        if any(np.any(r < self.n_stops) for r in self.reloads):
            raise ValueError("reload places must be depot nodes, not stops")
        for name in ("max_reloads", "reload_service"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, np.full(v, -1 if name == "max_reloads" else 0))
            elif value.shape != (v,):
                raise ValueError(f"{name} must have one entry per vehicle")

    @property
    def has_pickups(self) -> bool:
        """Whether anything is loaded along a route (not only at its start)."""
        assert self.pickup is not None and self.unload is not None
        return bool(np.any(self.pickup) or np.any(self.unload))

    @property
    def n_nodes(self) -> int:
        """Number of nodes (stops, depots and the free node)."""
        return int(self.distance.shape[0])

    @property
    def n_stops(self) -> int:
        """Number of stops (the first nodes)."""
        return len(self.time_windows)

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return int(self.vehicle_start.shape[0])

    def vehicle_breaks(self, vehicle: int) -> list[VrpBreak]:
        """The breaks of one vehicle (none when breaks were not given)."""
        return self.breaks[vehicle] if self.breaks else []

    def vehicle_locked(self, vehicle: int) -> IntArray:
        """The stops one vehicle's route must begin with (empty when none)."""
        return self.locked[vehicle] if self.locked else np.zeros(0, dtype=np.int64)

    def vehicle_reloads(self, vehicle: int) -> IntArray:
        """The depot nodes where one vehicle may reload (empty when it may not)."""
        if not self.reloads or self.max_reloads_of(vehicle) == 0:
            return np.zeros(0, dtype=np.int64)
        return self.reloads[vehicle]

    def max_reloads_of(self, vehicle: int) -> int:
        """Reloads allowed to one vehicle (``-1``: any number)."""
        assert self.max_reloads is not None
        return int(self.max_reloads[vehicle])

    @property
    def has_reloads(self) -> bool:
        """Whether some vehicle may reload mid-route."""
        return any(len(self.vehicle_reloads(v)) for v in range(self.n_vehicles))

    @property
    def has_locks(self) -> bool:
        """Whether some vehicle's route has a locked prefix."""
        return any(len(x) for x in self.locked)

    def arc_cost(self, vehicle: int) -> IntArray:
        """Integer cost of every arc for one vehicle (distance and travel-time parts)."""
        duration = self.durations[int(self.vehicle_profile[vehicle])]
        cost = self.distance_cost[vehicle] * self.distance + self.duration_cost[vehicle] * duration
        arc_cost: IntArray = np.rint(cost).astype(np.int64)
        return arc_cost


@dataclass(frozen=True)
class BreakVisit:
    """A break taken on a route: after ``position`` stops, starting at ``start``."""

    break_index: int
    position: int
    start: int


@dataclass(frozen=True)
class ReloadVisit:
    """A reload on a route: at depot ``node``, after ``position`` stops."""

    position: int
    node: int


@dataclass(frozen=True)
class VehicleRoute:
    """One vehicle's route: the stops in order, when the route starts, and its breaks and
    reloads (each placed by the number of stops before it)."""

    vehicle: int
    stops: IntArray
    start: int
    breaks: list[BreakVisit] = field(default_factory=list)
    reloads: list[ReloadVisit] = field(default_factory=list)


@dataclass(frozen=True)
class VrpSolution:
    """What a backend returns: non-empty routes, dropped stops and how the search went."""

    routes: list[VehicleRoute]
    dropped: IntArray
    objective: int | None
    status: str
    solve_s: float
    first_solution_s: float | None
    worker_errors: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """Whether the backend found any solution at all."""
        return self.objective is not None
