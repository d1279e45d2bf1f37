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
    by their greatest common divisor, which keeps them exact and small.
Variables
    PyVRP's giant-tour routes: a sequence of clients per vehicle.
Constraints
    Capacity per dimension; service start within the client's window; vehicle shift
    ``[tw_early, tw_late]``; ``shift_duration`` = max route duration; ``max_distance``;
    mandatory clients required, optional ones collect their drop penalty as prize.
Objective
    ``sum fixed + sum distance cost + unit_duration_cost * route duration + uncollected
    prizes``, the same as the OR-Tools backend's up to rounding of per-tick unit costs.
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
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, Protocol

import numpy as np
import pyvrp
from pyvrp import SolveParams
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import (
    IteratedLocalSearch,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
)
from pyvrp.PenaltyManager import PenaltyManager
from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours

from solvers.routing.data import IntArray, ProgressCallback, VehicleRoute, VrpData, VrpSolution


def unsupported(data: VrpData) -> list[str]:
    """The features of ``data`` this backend cannot honour (empty: it can solve it)."""
    reasons = []
    if any(data.vehicle_breaks(v) for v in range(data.n_vehicles)):
        reasons.append("breaks")
    if data.pairs is not None and len(data.pairs):
        reasons.append("shipments")
    if np.any((data.max_distance >= 0) & (data.duration_cost > 0)):
        reasons.append("max_distance with a cost per travel hour")
    return reasons


#: A plan in PyVRP's own terms: (vehicle type, client indices) per route.
Plan = list[tuple[int, list[int]]]


class Exchange(Protocol):
    """Where searches running side by side on the same data share their best plans."""

    def publish(self, cost: float, plan: Plan) -> None:
        """Offer this search's best feasible plan and its cost."""

    def best(self) -> tuple[float, Plan] | None:
        """The cheapest plan the other searches have offered so far, if any."""


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


class _BestPlan(IteratedLocalSearchCallbacks):
    """Keeps the ILS's latest best solution, so the stopping criterion can share it."""

    def __init__(self) -> None:
        self.solution: pyvrp.Solution | None = None

    def on_best(self, best: pyvrp.Solution) -> None:
        """Remember a new best (PyVRP only calls this with feasible solutions)."""
        self.solution = best


@dataclass
class _Sharing:
    """A search's link to an :class:`Exchange`: what it last offered, when it last looked."""

    exchange: Exchange
    plan_of: Callable[[pyvrp.Solution], Plan]
    stall_s: float
    callbacks: _BestPlan
    every_s: float  # how often it offers its best and looks at the others'
    offered: float = math.inf
    looked_at: float = -math.inf


class _Stop:
    """PyVRP stopping criterion: a deadline, an early exit while infeasible, progress relay,
    and (when sharing) an exit to adopt another search's better plan after a stall."""

    def __init__(
        self,
        deadline: float,
        give_up_at: float | None,
        scale: int,
        began: float,
        on_progress: ProgressCallback | None,
        max_iterations: int | None = None,
        sharing: _Sharing | None = None,
    ) -> None:
        self.deadline, self.give_up_at, self.scale = deadline, give_up_at, scale
        self.max_iterations, self.iterations = max_iterations, 0
        self.began, self.on_progress = began, on_progress
        self.best = math.inf
        self.first_feasible_s: float | None = None
        self.gave_up = False
        self.sharing = sharing
        self.improved_at = time.perf_counter()
        self.adopt: Plan | None = None

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        self.iterations += 1
        if math.isfinite(best_cost) and best_cost < self.best:
            self.best = best_cost
            self.improved_at = now
            if self.first_feasible_s is None:
                self.first_feasible_s = now - self.began
            if self.on_progress is not None:
                self.on_progress(now - self.began, int(best_cost) * self.scale)
        if self.give_up_at is not None and now >= self.give_up_at and not math.isfinite(self.best):
            self.gave_up = True
            return True
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            return True
        if now >= self.deadline:
            return True
        sharing = self.sharing
        if sharing is not None and now - sharing.looked_at >= sharing.every_s:
            sharing.looked_at = now
            return self._share(sharing, now)
        return False

    def _share(self, sharing: _Sharing, now: float) -> bool:
        """Offer this search's best; True (end the segment) to adopt a better one."""
        solution = sharing.callbacks.solution
        if solution is not None and self.best < sharing.offered:
            sharing.exchange.publish(self.best, sharing.plan_of(solution))
            sharing.offered = self.best
        if now - self.improved_at < sharing.stall_s:
            return False
        offer = sharing.exchange.best()
        if offer is not None and offer[0] < self.best:
            self.adopt = offer[1]
            return True
        return False


def _shift_end_never_binds(data: VrpData, vehicle: int) -> bool:
    """Whether no route of ``vehicle`` can reach its shift end (an open shift's horizon).

    Such a bound is better left out: PyVRP then skips the time-warp bookkeeping of the
    shift on every move it evaluates, which makes its search several per cent faster.
    A route that visits every stop once, each after waiting for its latest window, ends
    before ``max(shift start, last window end) + all service + (stops + 1) * longest leg``.
    """
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
        key = (keeps_distance, costs, speed, data.compatible[:, v].tobytes())
        if key not in keys:
            if keeps_distance:
                matrix, unit = data.distance, round(costs[0])
            else:
                matrix, unit = data.arc_cost(v), 1
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


def _block_skills(data: VrpData, profiles: _Profiles) -> None:
    """Make the stops a profile may not serve unreachable (any visit would arrive after
    every shift ends, so it is never part of a feasible plan); matrices are copied first."""
    unreachable_t = 2 * int(data.shift[:, 1].max()) + 1
    for k, stops in enumerate(profiles.blocked):
        if len(stops) == 0:
            continue
        far = int(max(profiles.distance[k].max(initial=0), 1)) * UNREACHABLE_DISTANCE_FACTOR
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


def _loads(data: VrpData, arc_cost: IntArray) -> _Loads:
    """Loads on PyVRP's scale, and the max-stops dimension when a vehicle has a limit.

    PyVRP has one penalty for excess load in any dimension, so each client weighs the median
    demand there (a weight of 1 next to demands in the thousands is too cheap to break).
    """
    demand, pickup, capacity = _load_scale(data, arc_cost)
    positive = demand[: data.n_stops][demand[: data.n_stops] > 0]
    stop_weight = int(np.median(positive)) if positive.size else 1
    return _Loads(demand, pickup, capacity, bool(np.any(data.max_stops >= 0)), stop_weight)


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
    data: VrpData, loads: _Loads, at: dict[int, int], divisor: int, all_optional: bool
) -> tuple[list[pyvrp.Client], list[pyvrp.ClientGroup], list[int]]:
    """One client per (stop, time window), a group of mutually exclusive clients for a stop
    with several windows, and the stop of each client."""
    client_node: list[int] = []
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    extra = int(loads.count_stops)
    for stop in range(data.n_stops):
        required = not all_optional and bool(data.mandatory[stop])
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
    )


class _Problem:
    """The PyVRP problem built from :class:`VrpData`, with the maps needed to read solutions."""

    def __init__(self, data: VrpData, all_optional: bool) -> None:
        self.data = data
        depot_nodes = sorted(
            {int(x) for x in data.vehicle_start} | {int(x) for x in data.vehicle_end}
        )
        self.depot_index = {node: k for k, node in enumerate(depot_nodes)}
        profiles = _profiles(data)
        self.scale = divisor = _divide_costs(data, profiles)  # prizes are divided too, rounded down
        # Loads are judged on real arc costs, before the skills put some arcs out of reach.
        loads = _loads(data, profiles.distance[0])
        _block_skills(data, profiles)
        order, locations = _locations(data, depot_nodes)
        at = {node: k for k, node in enumerate(order)}
        clients, groups, self.client_node = _clients(data, loads, at, divisor, all_optional)
        self.type_vehicles = _vehicle_groups(data, profiles)
        # PyVRP's stub calls a matrix ``np.ndarray[int]`` (a shape type), which no array is.
        distance: list[Any] = [m[np.ix_(order, order)] for m in profiles.distance]
        duration: list[Any] = [
            np.asarray(m, dtype=np.int64)[np.ix_(order, order)] for m in profiles.duration
        ]
        self.problem = pyvrp.ProblemData(
            locations=locations,
            clients=clients,
            depots=[pyvrp.Depot(location=at[node]) for node in depot_nodes],
            vehicle_types=[
                _vehicle_type(data, vehicles, profiles, loads, self.depot_index, divisor)
                for vehicles in self.type_vehicles
            ],
            distance_matrices=distance,
            duration_matrices=duration,
            groups=groups,
        )

    def plan(self, solution: pyvrp.Solution) -> Plan:
        """A solution as a plan to share: (vehicle type, client indices) per route."""
        return [
            (int(route.vehicle_type()), [int(a.idx) for a in route.schedule() if a.is_client()])
            for route in solution.routes()
        ]

    def solution(self, plan: Plan) -> pyvrp.Solution:
        """The PyVRP solution of a shared plan (made on data built the same way)."""
        return pyvrp.Solution(
            self.problem,
            [pyvrp.Route(self.problem, visits, vehicle_type) for vehicle_type, visits in plan],
        )

    def read(self, solution: pyvrp.Solution) -> tuple[list[VehicleRoute], np.ndarray]:
        """Routes (with concrete vehicle indices) and dropped stops of a PyVRP solution."""
        free = [list(vs) for vs in self.type_vehicles]
        routes = []
        served: set[int] = set()
        for route in solution.routes():
            vehicle = free[route.vehicle_type()].pop(0)
            stops = [self.client_node[a.idx] for a in route.schedule() if a.is_client()]
            if not stops:
                continue
            served.update(stops)
            routes.append(
                VehicleRoute(vehicle, np.asarray(stops, dtype=np.int64), int(route.start_time()))
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


class _Search:
    """PyVRP's ``solve`` (0.14) taken apart, so that a restart from an adopted plan keeps the
    search's random stream, local search and, above all, its adapted penalties (a fresh
    ``solve`` starts them again at the midpoint of their range, far too high, and takes tens
    of thousands of iterations to bring them down). Until the first restart it makes the
    same calls in the same order as ``pyvrp.solve``, so it is PyVRP's own search.
    """

    def __init__(self, data: pyvrp.ProblemData, seed: int, callbacks: _BestPlan) -> None:
        defaults = SolveParams()
        self.data = data
        self.rng = pyvrp.RandomNumberGenerator(seed=seed)
        neighbours = compute_neighbours(data, defaults.neighbourhood)
        perturbation = PerturbationManager(defaults.perturbation)
        self.local_search = LocalSearch(data, self.rng, neighbours, perturbation)
        for operator in defaults.operators:
            if operator.supports(data):
                self.local_search.add_operator(operator(data))
        penalties = defaults.penalty.midpoint_penalties(data)
        self.penalties = PenaltyManager(penalties, defaults.penalty)
        self.params = IteratedLocalSearchParams(callbacks=callbacks)

    def run(self, stop: _Stop, initial: pyvrp.Solution | None) -> pyvrp.Result:
        """Iterated local search from ``initial`` (else a random start) until ``stop``."""
        if initial is None:
            random = pyvrp.Solution.make_random(self.data, self.rng)
            initial = self.local_search(
                random, self.penalties.max_cost_evaluator(), exhaustive=True
            )
        search = IteratedLocalSearch(
            self.data, self.penalties, self.local_search, initial, self.params
        )
        return search.run(stop, collect_stats=False, display=False)


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
    callbacks = _BestPlan()
    search = _Search(problem.problem, params.seed, callbacks)
    sharing = (
        None
        if exchange is None
        else _Sharing(
            exchange, problem.plan, params.stall_limit_s, callbacks, params.exchange_every_s
        )
    )
    result: pyvrp.Result | None = None
    initial: pyvrp.Solution | None = None
    first_feasible_s: float | None = None
    gave_up = False
    while True:
        stop = _Stop(
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
        stop = _Stop(
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
        round(result.cost()) * problem.scale,
        status,
        solve_s,
        first_feasible_s,
    )
