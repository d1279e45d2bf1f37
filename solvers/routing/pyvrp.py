"""PyVRP backend: hybrid genetic search for the problem classes PyVRP supports.

Formulation (PyVRP's prize-collecting VRP with time windows, several depots, mixed fleet):

Data
    Locations are the :class:`VrpData` nodes. One PyVRP *client* per (stop, time window): a
    stop with several windows becomes a mutually exclusive client group, so exactly one of
    its copies is visited (at most one if the stop is optional). Depots are the depot nodes
    and, for open routes, the free node. Identical vehicles form one *vehicle type*.
    Skills: a type's profile puts the stops it may not serve out of reach (travel time past
    every shift end). Max stops: an extra load dimension where each client weighs the same.
    A type's routing profile pairs a travel-time matrix (its speed) with an arc-cost matrix
    ``round(c_d d + c_t t)`` used as PyVRP's distance with unit cost 1; when the type has a
    ``max_distance``, the real distance is used instead with unit cost ``round(c_d)`` (so a
    travel-time cost is then not expressible: see :func:`unsupported`). All costs are divided
    by their greatest common divisor, which keeps them exact and small. An assignment cost
    (reassign penalty) of a stop on a vehicle is added to every arc into it in that vehicle's
    profile. Locked prefixes are folded into their vehicles (:func:`solvers.routing.locks.fold`).
    Reload places are the types' ``reload_depots`` (:mod:`solvers.routing.pyvrp_reloads`).
Variables
    PyVRP's giant-tour routes: a sequence of clients per vehicle.
Constraints
    Capacity per dimension on every trip (a reload starts the load again); at most
    ``max_reloads`` reloads; service start within the client's window; vehicle shift
    ``[tw_early, tw_late]``; ``shift_duration`` = max route duration; ``max_distance``;
    mandatory clients required, optional ones collect their drop penalty as prize.
Objective
    ``sum fixed + sum distance cost + unit_duration_cost * route duration + uncollected
    prizes + assignment costs`` (plus the folded prefixes' constant cost), the same as the
    OR-Tools backend's up to rounding of per-tick unit costs.
Search
    PyVRP's ``solve`` (an iterated local search) until the time limit (or ``max_iterations``,
    which with a fixed seed makes the search deterministic). Searches running side by side may
    share their best plans through an :class:`Exchange`: a search whose best has not improved
    for ``stall_s`` while another's is better restarts from that plan, as PyVRP itself
    restarts from its own best after a long stall, keeping its penalties and random stream.
    When no feasible solution is found within a fifth of the limit (too many mandatory stops
    for the fleet), it restarts with every stop optional, mandatory ones carrying their
    (dominant) penalty, so the plan drops the fewest it must.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning

from solvers.routing.data import (
    IntArray,
    ProgressCallback,
    ReloadVisit,
    VehicleRoute,
    VrpData,
    VrpSolution,
)
from solvers.routing.locks import Folded, fold
from solvers.routing.pyvrp_reloads import (
    activity_of,
    depot_node_of,
    max_reloads,
    reload_copies,
    reload_depots,
    reload_service,
    visit_of,
)
from solvers.routing.pyvrp_search import BestPlan, Exchange, Plan, Search, Sharing, Stop

__all__ = ["Exchange", "Plan", "PyVrpParams", "solve_pyvrp", "unsupported"]


def unsupported(data: VrpData) -> list[str]:
    """The features of ``data`` this backend cannot honour (empty: it can solve it)."""
    reasons = []
    if any(data.vehicle_breaks(v) for v in range(data.n_vehicles)):
        reasons.append("breaks")
    if data.pairs is not None and len(data.pairs):
        reasons.append("shipments")
    if np.any((data.max_distance >= 0) & (data.duration_cost > 0)):
        reasons.append("max_distance with a cost per travel hour")
    if data.assign_cost is not None and np.any(data.max_distance >= 0):
        reasons.append("max_distance with a reassign penalty")
    if any(len(data.vehicle_reloads(v)) and data.max_stops[v] >= 0 for v in range(data.n_vehicles)):
        reasons.append("max_stops with reloads (PyVRP counts loads per trip)")
    if data.balance_metric is not None:
        reasons.append("workload balance")
    return reasons


@dataclass(frozen=True)
class PyVrpParams:
    """Search settings for the PyVRP backend.

    ``stall_s``: how long a search's best may stand still, while another search sharing an
    :class:`Exchange` has a better one, before it restarts from that one (default: 5% of
    the time limit, at least a second).
    """

    time_limit_s: float = 10.0
    seed: int = 0
    max_iterations: int | None = None
    stall_s: float | None = None
    #: Default ``stall_s`` as a share of the time limit, and its floor in seconds.
    stall_share: float = 0.05
    min_stall_s: float = 1.0
    #: Share of the time limit after which a search with no feasible plan yet gives up on the
    #: all-mandatory model and restarts with every stop optional (penalised).
    give_up_share: float = 0.2
    #: How often (seconds) a search sharing an exchange offers its best and looks at the others'.
    exchange_every_s: float = 0.25

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if self.stall_s is not None and self.stall_s <= 0:
            raise ValueError(f"stall_s must be > 0, got {self.stall_s}")
        for name in ("stall_share", "give_up_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("min_stall_s", "exchange_every_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    @property
    def stall_limit_s(self) -> float:
        """``stall_s``, or its default for the time limit."""
        if self.stall_s is not None:
            return self.stall_s
        return max(self.min_stall_s, self.stall_share * self.time_limit_s)


def _shift_end_never_binds(data: VrpData, vehicle: int) -> bool:
    """Whether no route of ``vehicle`` can reach its shift end (an open shift's horizon).

    Such a bound is better left out: PyVRP then skips the time-warp bookkeeping of the
    shift on every move it evaluates, which makes its search several per cent faster.
    A route that visits every stop once, each after waiting for its latest window, ends
    before ``max(shift start, last window end) + all service + (stops + 1) * longest leg``.
    """
    if len(data.vehicle_reloads(vehicle)):
        return False  # reloads add trips the bound below does not count
    closes = [int(w[:, 1].max()) for w in data.time_windows if len(w)]
    stops = data.n_stops
    longest = int(data.durations[int(data.vehicle_profile[vehicle])].max(initial=0))
    latest_end = (
        max([int(data.shift[vehicle, 0]), *closes])
        + int(data.service[:stops].sum())
        + (stops + 1) * longest
    )
    return int(data.shift[vehicle, 1]) >= latest_end


#: Cost of one unit of load in PyVRP's terms, as :func:`_load_scale` sets it.
LOAD_UNIT_COST = 100


def _load_scale(data: VrpData, arc_cost: np.ndarray) -> tuple[np.ndarray, ...]:
    """Demand, pickup and capacity on a scale that suits PyVRP's load penalty.

    PyVRP penalises each unit of excess load at a rate it adapts within fixed bounds
    ([0.1, 100000]); a good rate is about the cost of the arcs a unit of load displaces. So
    each dimension is first divided by the greatest common divisor of its amounts (capacities
    rounded down, which keeps feasibility exact), then multiplied so that a median arc costs
    about ``LOAD_UNIT_COST`` per median amount. Without it the engine's quantity ticks
    (thousandths) would put the right rate below PyVRP's floor on plain CVRP data.
    """
    pickup = data.pickup if data.pickup is not None else np.zeros_like(data.demand)
    amounts = np.vstack([data.demand, pickup])
    unit = np.gcd.reduce(amounts, axis=0)
    unit[unit == 0] = 1
    arcs = arc_cost[arc_cost > 0]
    typical_arc = float(np.median(arcs)) if arcs.size else 1.0
    factor = np.ones_like(unit)
    for d in range(unit.shape[0]):
        positive = amounts[:, d][amounts[:, d] > 0] // unit[d]
        if positive.size:
            ratio = typical_arc / float(np.median(positive))
            factor[d] = max(1, round(ratio / LOAD_UNIT_COST))
    # keep every number well inside int64
    top = max(int(data.capacity.max(initial=0)), int(amounts.sum(axis=0).max(initial=0)), 1)
    factor = np.minimum(factor, np.maximum(2**60 // top, 1))
    return (
        data.demand // unit * factor,
        pickup // unit * factor,
        data.capacity // unit * factor,
        unit,
        factor,
    )


#: Distance given to arcs into and out of stops a vehicle type may not serve, as a multiple
#: of its longest real arc (with travel times past every shift end, they are never taken).
UNREACHABLE_DISTANCE_FACTOR = 1000


@dataclass
class _Profiles:
    """PyVRP routing profiles: one per distinct (keeps real distance, costs, speed, skills).

    A profile's distance matrix holds arc costs (``is_cost``, unit cost 1) or, for vehicles
    with a ``max_distance``, real distances (unit cost ``unit``).
    """

    of_vehicle: list[int]
    blocked: list[IntArray]
    is_cost: list[bool]
    unit: list[int]
    distance: list[IntArray]
    duration: list[IntArray]


def _profiles(data: VrpData) -> _Profiles:
    """The routing profile of every vehicle, sharing one per distinct key."""
    keys: dict[tuple[bool, tuple[float, float], int, bytes], int] = {}
    profiles = _Profiles([], [], [], [], [], [])
    for v in range(data.n_vehicles):
        speed = int(data.vehicle_profile[v])
        keeps_distance = bool(data.max_distance[v] >= 0)
        costs = (
            float(data.distance_cost[v]),
            0.0 if keeps_distance else float(data.duration_cost[v]),
        )
        assign = None if data.assign_cost is None else data.assign_cost[:, v]
        key = (
            keeps_distance,
            costs,
            speed,
            data.compatible[:, v].tobytes() + (b"" if assign is None else assign.tobytes()),
        )
        if key not in keys:
            if keeps_distance:
                matrix, unit = data.distance, round(costs[0])
            else:
                matrix, unit = data.arc_cost(v), 1
            if assign is not None and np.any(assign):
                # serving a stop off its planned vehicle costs the penalty: on every arc into it
                matrix = matrix.copy()
                matrix[:, : data.n_stops] += assign[None, :]
                np.fill_diagonal(matrix, 0)
            keys[key] = len(profiles.distance)
            profiles.blocked.append(np.flatnonzero(~data.compatible[:, v]))
            profiles.is_cost.append(not keeps_distance)
            profiles.unit.append(unit)
            profiles.distance.append(matrix)
            profiles.duration.append(data.durations[speed])
        profiles.of_vehicle.append(keys[key])
    return profiles


def _divide_costs(data: VrpData, profiles: _Profiles) -> int:
    """Divide the arc-cost matrices by the greatest common divisor of every cost-carrying
    number (fixed and span costs, arc costs, unit costs of profiles that keep real
    distances, whose matrices stay as they are); returns that divisor."""
    money = [int(x) for x in data.fixed_cost] + [round(float(x)) for x in data.span_cost]
    money += [
        int(np.gcd.reduce(m.ravel())) if cost else unit
        for m, cost, unit in zip(profiles.distance, profiles.is_cost, profiles.unit, strict=True)
        if m.size
    ]
    divisor = reduce(math.gcd, [abs(x) for x in money if x], 0) or 1
    profiles.distance = [
        m // divisor if cost else m
        for m, cost in zip(profiles.distance, profiles.is_cost, strict=True)
    ]
    return divisor


def _far(profiles: _Profiles) -> list[int]:
    """Per profile, the distance of an arc it may not take: a multiple of its longest one
    (read before any arc is blocked)."""
    return [int(max(m.max(initial=0), 1)) * UNREACHABLE_DISTANCE_FACTOR for m in profiles.distance]


def _block_skills(data: VrpData, profiles: _Profiles, far_of: list[int]) -> None:
    """Make the stops a profile may not serve unreachable (any visit would arrive after
    every shift ends, so it is never part of a feasible plan); matrices are copied first."""
    unreachable_t = 2 * int(data.shift[:, 1].max()) + 1
    for k, stops in enumerate(profiles.blocked):
        if len(stops) == 0:
            continue
        far = far_of[k]
        profiles.distance[k] = profiles.distance[k].copy()
        profiles.duration[k] = profiles.duration[k].copy()
        for m, value in ((profiles.distance[k], far), (profiles.duration[k], unreachable_t)):
            m[stops, :] = value
            m[:, stops] = value
            m[stops, stops] = 0


@dataclass(frozen=True)
class _Loads:
    """Demand, pickup and capacity on PyVRP's scale (see :func:`_load_scale`), and the
    weight of a client in the extra max-stops dimension (``count_stops``)."""

    demand: IntArray
    pickup: IntArray
    capacity: IntArray
    count_stops: bool
    stop_weight: int
    unit: IntArray  # per dimension: amounts are divided by it, then multiplied by factor
    factor: IntArray

    def scaled(self, amounts: IntArray) -> list[int]:
        """Amounts (ticks per dimension) on PyVRP's scale, rounded up (a load kept on board)."""
        return [int(x) for x in -(-np.asarray(amounts) // self.unit) * self.factor]


def _loads(data: VrpData, arc_cost: IntArray) -> _Loads:
    """Loads on PyVRP's scale, and the max-stops dimension when a vehicle has a limit.

    PyVRP has one penalty for excess load in any dimension, so each client weighs the median
    demand there (a weight of 1 next to demands in the thousands is too cheap to break).
    """
    demand, pickup, capacity, unit, factor = _load_scale(data, arc_cost)
    positive = demand[: data.n_stops][demand[: data.n_stops] > 0]
    stop_weight = int(np.median(positive)) if positive.size else 1
    return _Loads(
        demand, pickup, capacity, bool(np.any(data.max_stops >= 0)), stop_weight, unit, factor
    )


def _locations(data: VrpData, depot_nodes: list[int]) -> tuple[list[int], list[pyvrp.Location]]:
    """PyVRP's order of the nodes (depots first, as PyVRP's own readers do) and their
    locations, at the nodes' coordinates when known: its search pairs nearby routes."""
    depot_set = set(depot_nodes)
    order = depot_nodes + [node for node in range(data.n_nodes) if node not in depot_set]
    points = data.coordinates
    if points is None or not np.all(np.isfinite(points)):
        points = np.zeros((data.n_nodes, 2))
    return order, [pyvrp.Location(float(points[i, 0]), float(points[i, 1])) for i in order]


def _clients(
    data: VrpData,
    loads: _Loads,
    at: dict[int, int],
    divisor: int,
    all_optional: bool,
    folded: Folded,
) -> tuple[list[pyvrp.Client], list[pyvrp.ClientGroup], list[int]]:
    """One client per (stop, time window), a group of mutually exclusive clients for a stop
    with several windows, and the stop of each client (stops of locked prefixes before
    their last are no clients; their last is always required)."""
    client_node: list[int] = []
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    extra = int(loads.count_stops)
    heads = set(folded.head.values())
    for stop in range(data.n_stops):
        if stop in folded.hidden:
            continue
        required = (not all_optional and bool(data.mandatory[stop])) or stop in heads
        prize = 0 if required else max(int(data.penalty[stop]) // divisor, 0)
        spans = [(int(lo), int(hi)) for lo, hi in data.time_windows[stop]] or [
            (0, np.iinfo(np.int64).max)
        ]
        members = []
        for lo, hi in spans:
            members.append(len(clients))
            client_node.append(stop)
            clients.append(
                pyvrp.Client(
                    location=at[stop],
                    delivery=[int(x) for x in loads.demand[stop]] + [loads.stop_weight] * extra,
                    pickup=[int(x) for x in loads.pickup[stop]] + [0] * extra,
                    service_duration=int(data.service[stop]),
                    tw_early=lo,
                    tw_late=hi,
                    prize=prize,
                    required=required and len(spans) == 1,
                    group=len(groups) if len(spans) > 1 else None,
                )
            )
        if len(spans) > 1:
            groups.append(pyvrp.ClientGroup(members, required=required))
    return clients, groups, client_node


def _block_folded_starts(profiles: _Profiles, folded: Folded, far_of: list[int]) -> None:
    """From a folded vehicle's new start, only its last locked stop is reachable (its
    profile is its own: that stop is compatible with it alone)."""
    for v, node in folded.new_start.items():
        k = profiles.of_vehicle[v]
        for matrices, far in (
            (profiles.distance, far_of[k]),
            (profiles.duration, 2 * int(folded.data.shift[:, 1].max()) + 1),
        ):
            m = matrices[k] = matrices[k].copy()
            head = folded.head[v]
            keep = m[node, head]
            m[node, :] = far
            m[node, head], m[node, node] = keep, 0


def _vehicle_groups(data: VrpData, profiles: _Profiles) -> list[list[int]]:
    """The vehicles of each PyVRP vehicle type: those alike in every field a type has."""
    type_keys: dict[tuple[object, ...], int] = {}
    groups: list[list[int]] = []
    for v in range(data.n_vehicles):
        profile = profiles.of_vehicle[v]
        key = (
            tuple(int(x) for x in data.capacity[v]),
            int(data.vehicle_start[v]),
            int(data.vehicle_end[v]),
            int(data.fixed_cost[v]),
            int(data.shift[v, 0]),
            int(data.shift[v, 1]),
            int(data.max_duration[v]),
            int(data.max_distance[v]),
            int(data.max_stops[v]),
            profiles.unit[profile],
            round(float(data.span_cost[v])),
            profile,
            tuple(int(x) for x in data.vehicle_reloads(v)),
            data.max_reloads_of(v),
            reload_service(data, v),
        )
        if key not in type_keys:
            type_keys[key] = len(groups)
            groups.append([])
        groups[type_keys[key]].append(v)
    return groups


def _vehicle_type(
    data: VrpData,
    vehicles: list[int],
    profiles: _Profiles,
    loads: _Loads,
    depot_index: dict[int, int],
    divisor: int,
    fixed_start: bool = False,
    reload_index: dict[tuple[int, int], int] | None = None,
    initial_load: IntArray | None = None,
) -> pyvrp.VehicleType:
    """The PyVRP vehicle type of a group of alike vehicles (read from the first)."""
    unlimited = int(np.iinfo(np.int64).max)
    v = vehicles[0]
    profile = profiles.of_vehicle[v]
    shift_end = (
        unlimited
        if len(profiles.blocked[profile]) == 0 and _shift_end_never_binds(data, v)
        else int(data.shift[v, 1])
    )
    capacity = [int(x) for x in loads.capacity[v]]
    service = reload_service(data, v)
    reloads_at = [(reload_index or {})[int(node), service] for node in data.vehicle_reloads(v)]
    if loads.count_stops:
        most = int(data.max_stops[v]) if data.max_stops[v] >= 0 else data.n_stops
        capacity.append(loads.stop_weight * most)
    return pyvrp.VehicleType(
        num_available=len(vehicles),
        capacity=capacity,
        start_depot=depot_index[int(data.vehicle_start[v])],
        end_depot=depot_index[int(data.vehicle_end[v])],
        fixed_cost=int(data.fixed_cost[v]) // divisor,
        tw_early=int(data.shift[v, 0]),
        tw_late=shift_end,
        shift_duration=int(data.max_duration[v]) if data.max_duration[v] >= 0 else unlimited,
        max_distance=int(data.max_distance[v]) if data.max_distance[v] >= 0 else unlimited,
        unit_distance_cost=1 if profiles.is_cost[profile] else profiles.unit[profile] // divisor,
        unit_duration_cost=round(float(data.span_cost[v])) // divisor,
        profile=profile,
        # a folded locked prefix: the vehicle leaves its last hidden stop when it is done
        start_late=int(data.shift[v, 0]) if fixed_start else None,
        reload_depots=reloads_at,
        initial_load=[]
        if initial_load is None
        else loads.scaled(initial_load) + [0] * int(loads.count_stops),
        max_reloads=max_reloads(data, v),
    )


class _Problem:
    """The PyVRP problem built from :class:`VrpData`, with the maps needed to read solutions."""

    def __init__(self, original: VrpData, all_optional: bool) -> None:
        self.folded = folded = fold(original)
        self.data = data = folded.data
        depot_nodes = sorted(
            {int(x) for x in data.vehicle_start}
            | {int(x) for x in data.vehicle_end}
            | {int(x) for v in range(data.n_vehicles) for x in data.vehicle_reloads(v)}
        )
        self.depot_index = {node: k for k, node in enumerate(depot_nodes)}
        self.reload_index = reload_depots(data, depot_nodes)
        self.depot_node = depot_node_of(self.reload_index, depot_nodes)
        profiles = _profiles(data)
        self.scale = divisor = _divide_costs(data, profiles)  # prizes are divided too, rounded down
        # Loads are judged on real arc costs, before the skills put some arcs out of reach.
        loads = _loads(data, profiles.distance[0])
        far_of = _far(profiles)
        _block_skills(data, profiles, far_of)
        _block_folded_starts(profiles, folded, far_of)
        order, locations = _locations(data, depot_nodes)
        at = {node: k for k, node in enumerate(order)}
        clients, groups, self.client_node = _clients(data, loads, at, divisor, all_optional, folded)
        self.type_vehicles = _vehicle_groups(data, profiles)
        # PyVRP's stub calls a matrix ``np.ndarray[int]`` (a shape type), which no array is.
        distance: list[Any] = [m[np.ix_(order, order)] for m in profiles.distance]
        duration: list[Any] = [
            np.asarray(m, dtype=np.int64)[np.ix_(order, order)] for m in profiles.duration
        ]
        self.problem = pyvrp.ProblemData(
            locations=locations,
            clients=clients,
            depots=[pyvrp.Depot(location=at[node]) for node in depot_nodes]
            + reload_copies(self.reload_index, depot_nodes, at),
            vehicle_types=[
                _vehicle_type(
                    data,
                    vehicles,
                    profiles,
                    loads,
                    self.depot_index,
                    divisor,
                    fixed_start=vehicles[0] in folded.head,
                    reload_index=self.reload_index,
                    initial_load=folded.initial_load.get(vehicles[0]),
                )
                for vehicles in self.type_vehicles
            ],
            distance_matrices=distance,
            duration_matrices=duration,
            groups=groups,
        )

    def plan(self, solution: pyvrp.Solution) -> Plan:
        """A solution as a plan to share: (vehicle type, visits) per route, where a visit is
        a client index, or ``-1 - depot`` for a reload at that depot."""
        return [
            (int(route.vehicle_type()), [visit_of(a) for a in route.schedule()[1:-1]])
            for route in solution.routes()
        ]

    def solution(self, plan: Plan) -> pyvrp.Solution:
        """The PyVRP solution of a shared plan (made on data built the same way)."""
        return pyvrp.Solution(
            self.problem,
            [
                pyvrp.Route(self.problem, [activity_of(x) for x in visits], vehicle_type)
                for vehicle_type, visits in plan
            ],
        )

    def read(self, solution: pyvrp.Solution) -> tuple[list[VehicleRoute], np.ndarray]:
        """Routes (with concrete vehicle indices) and dropped stops of a PyVRP solution."""
        free = [list(vs) for vs in self.type_vehicles]
        routes = []
        served: set[int] = set()
        for route in solution.routes():
            vehicle = free[route.vehicle_type()].pop(0)
            stops: list[int] = []
            reloads: list[tuple[int, int]] = []  # (stops before, depot node)
            for a in route.schedule()[1:-1]:
                if a.is_client():
                    stops.append(self.client_node[a.idx])
                elif stops:  # a reload before any stop would only waste time: dropped
                    reloads.append((len(stops), self.depot_node[int(a.idx)]))
            reloads = [(p, n) for p, n in reloads if p < len(stops)]  # none after the last stop
            if not stops:
                continue
            start = int(route.start_time())
            if vehicle in self.folded.head:  # the folded prefix comes first, from the shift start
                prefix = self.folded.prefix[vehicle]
                stops, start = prefix + stops, self.folded.start[vehicle]
                reloads = [(p + len(prefix), n) for p, n in reloads]
            served.update(stops)
            routes.append(
                VehicleRoute(
                    vehicle,
                    np.asarray(stops, dtype=np.int64),
                    start,
                    reloads=[ReloadVisit(p, n) for p, n in dict(reloads).items()],
                )
            )
        routes.sort(key=lambda r: r.vehicle)
        dropped = np.asarray(
            [s for s in range(self.data.n_stops) if s not in served], dtype=np.int64
        )
        return routes, dropped


def solve_pyvrp(
    data: VrpData,
    params: PyVrpParams | None = None,
    on_progress: ProgressCallback | None = None,
    exchange: Exchange | None = None,
) -> VrpSolution:
    """Solve ``data`` with PyVRP within the time limit (see the module docstring).

    With an ``exchange``, this search shares its best plans with others on the same data.
    """
    with warnings.catch_warnings():
        # An over-constrained day makes PyVRP's penalties hit their bound: that case is
        # handled below (every stop made optional), so the warning says nothing new.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return _solve(data, params or PyVrpParams(), on_progress, exchange)


def _solve(
    data: VrpData,
    params: PyVrpParams,
    on_progress: ProgressCallback | None,
    exchange: Exchange | None,
) -> VrpSolution:
    began = time.perf_counter()
    deadline = began + params.time_limit_s
    problem = _Problem(data, all_optional=False)
    give_up: float | None = began + params.time_limit_s * params.give_up_share
    callbacks = BestPlan()
    search = Search(problem.problem, params.seed, callbacks)
    sharing = (
        None
        if exchange is None
        else Sharing(
            exchange, problem.plan, params.stall_limit_s, callbacks, params.exchange_every_s
        )
    )
    result: pyvrp.Result | None = None
    initial: pyvrp.Solution | None = None
    first_feasible_s: float | None = None
    gave_up = False
    while True:
        stop = Stop(
            deadline, give_up, problem.scale, began, on_progress, params.max_iterations, sharing
        )
        callbacks.solution = None
        outcome = search.run(stop, initial)
        if first_feasible_s is None:
            first_feasible_s = stop.first_feasible_s
        if result is None or outcome.cost() < result.cost():
            result = outcome
        gave_up = stop.gave_up
        if stop.adopt is None:
            break
        initial, give_up = problem.solution(stop.adopt), None
    assert result is not None
    status = "feasible"
    if gave_up or not result.is_feasible():
        problem = _Problem(data, all_optional=True)
        remaining = max(deadline - time.perf_counter(), 0.05)
        stop = Stop(
            time.perf_counter() + remaining,
            None,
            problem.scale,
            began,
            on_progress,
            params.max_iterations,
        )
        result = pyvrp.solve(
            problem.problem, stop=stop, seed=params.seed, collect_stats=False, display=False
        )
        first_feasible_s = stop.first_feasible_s
        status = "feasible_with_drops"
    solve_s = time.perf_counter() - began
    if not result.is_feasible():
        return VrpSolution([], np.arange(data.n_stops), None, "infeasible", solve_s, None)
    routes, dropped = problem.read(result.best)
    return VrpSolution(
        routes,
        dropped,
        round(result.cost()) * problem.scale + problem.folded.offset,
        status,
        solve_s,
        first_feasible_s,
    )
