"""OR-Tools routing backend: every constraint of :class:`VrpData`.

Formulation (OR-Tools routing library, one path per vehicle from its start to its end node):

Data
    N nodes (stops, depots, one free node), V vehicles, D quantity dimensions; travel distance
    ``d[i,j]``, travel time ``t_p[i,j]`` per speed profile p, service ``s[i]``, demand
    ``q[i,k]``, capacity ``Q[v,k]``, windows ``W[i]``, shift ``[a_v, b_v]``, limits
    ``max_duration[v]``, ``max_distance[v]``, ``max_stops[v]``, costs ``F[v]``, ``c_d[v]``,
    ``c_t[v]``, allowed pairs ``A[i,v]``, penalties ``P[i]``, breaks ``B[v]``.
Variables
    ``next[i]`` (successor), ``vehicle[i]``, ``active[i]``; cumuls per dimension:
    ``T[i]`` = service start (time), ``L_k[i]`` = load, ``X[i]`` = distance, ``S[i]`` = stops;
    one interval per break.
Constraints
    * load: with deliveries only, ``L_k[j] = L_k[i] + q[j,k]`` from 0, ``L_k <= Q[v,k]``; with
      pickups, ``L_k[j] = L_k[i] + p[j,k] - q[j,k] - u[j,k]`` within ``[0, Q[v,k]]``, starting
      at everything the route delivers (a second dimension sums ``q`` to the end);
    * shipments: pickup and delivery nodes on the same vehicle, pickup first, both or neither;
    * time: ``T[j] >= T[i] + s[i] + t_p(v)[i,j]`` (slack = waiting), ``T[i]`` in the union of
      ``W[i]`` (gaps removed from the cumul's domain), ``a_v <= T[start_v], T[end_v] <= b_v``,
      ``T[end_v] - T[start_v] <= max_duration[v]``;
    * breaks: performed iff the vehicle is used, between the route's start and end; each
      starts in its windows, overlaps no service, and its duration fits in the slack between
      two visits (OR-Tools' break constraint);
    * distance: ``X[end_v] <= max_distance[v]``; stops: ``S[end_v] <= max_stops[v]``;
    * ``vehicle[i]`` in ``{v : A[i,v]}``; each stop is a disjunction of size one (visit, or pay
      ``P[i]``);
    * balance (when asked): ``M_v`` = route v's span, stops or distance (a dimension from 0);
    * locked prefixes ``a_0 .. a_k`` of vehicle v: ``next[start_v] = a_0``,
      ``next[a_i] = a_(i+1)``, ``vehicle[a_i] = v`` (see :mod:`solvers.routing.locks`).
Objective
    ``sum_v F[v]*used_v + sum_arcs (c_d[v] d[i,j] + c_t[v] t_p(v)[i,j])
    + sum_v c_s[v] (T[end_v] - T[start_v]) + sum_dropped P[i] + sum_i C[i, vehicle[i]]``,
    with ``C`` the assignment costs (a reassign penalty), summed by an ``assign`` dimension,
    plus ``b * max_v M_v`` with balance (OR-Tools' global span cost: a min-max term).
Not modelled
    Reloads (multi-trip): :func:`unsupported` names them, and the PyVRP backend plans them.
Search
    A first-solution strategy (parallel cheapest insertion by default: it builds plans where
    path-cheapest-arc fails with breaks or tight windows), then guided local search until the
    time or solution limit.
    With a solution limit and no time limit hit, the search is deterministic.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from solvers.routing.data import BreakVisit, ProgressCallback, VehicleRoute, VrpData, VrpSolution

_STATUS = {
    v.number: v.name.removeprefix("ROUTING_").lower()
    for v in routing_enums_pb2.RoutingSearchStatus.DESCRIPTOR.enum_types[0].values
}


@dataclass(frozen=True)
class OrToolsParams:
    """Search settings for the OR-Tools backend."""

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit must be >= 1, got {self.solution_limit}")
        if not hasattr(routing_enums_pb2.FirstSolutionStrategy, self.first_solution):
            raise ValueError(f"unknown first_solution strategy {self.first_solution!r}")
        if not hasattr(routing_enums_pb2.LocalSearchMetaheuristic, self.metaheuristic):
            raise ValueError(f"unknown metaheuristic {self.metaheuristic!r}")


class OrToolsModel:
    """The routing model built from :class:`VrpData`, with handles needed to read a solution."""

    def __init__(self, data: VrpData) -> None:
        self.data = data
        self.manager = pywrapcp.RoutingIndexManager(
            data.n_nodes,
            data.n_vehicles,
            [int(x) for x in data.vehicle_start],
            [int(x) for x in data.vehicle_end],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.break_intervals: list[list[pywrapcp.IntervalVar]] = []
        self._costs()
        self._capacities()
        self._time()
        self._distance_and_stops()
        self._stops()
        self._links()
        self._balance()

    def _matrix(self, values: np.ndarray) -> int:
        return int(self.routing.RegisterTransitMatrix(values.astype(np.int64).tolist()))

    def _costs(self) -> None:
        data, routing = self.data, self.routing
        classes: dict[bytes, int] = {}
        for v in range(data.n_vehicles):
            cost = data.arc_cost(v)
            key = cost.tobytes()
            if key not in classes:
                classes[key] = self._matrix(cost)
            routing.SetArcCostEvaluatorOfVehicle(classes[key], v)
            routing.SetFixedCostOfVehicle(int(data.fixed_cost[v]), v)

    def _capacities(self) -> None:
        data, routing = self.data, self.routing
        for k in range(data.demand.shape[1]):
            if not data.has_pickups:
                # deliveries only: the load is highest at the start, so the sum is the test
                callback = routing.RegisterUnaryTransitVector(data.demand[:, k].tolist())
                routing.AddDimensionWithVehicleCapacity(
                    callback, 0, data.capacity[:, k].tolist(), True, f"load_{k}"
                )
                continue
            assert data.pickup is not None and data.unload is not None
            change = data.pickup[:, k] - data.demand[:, k] - data.unload[:, k]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(change.tolist()),
                0,
                data.capacity[:, k].tolist(),
                False,
                f"load_{k}",
            )
            total = int(data.demand[:, k].sum()) + 1
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(data.demand[:, k].tolist()),
                0,
                [total] * data.n_vehicles,
                True,
                f"delivered_{k}",
            )
            load = routing.GetDimensionOrDie(f"load_{k}")
            delivered = routing.GetDimensionOrDie(f"delivered_{k}")
            for v in range(data.n_vehicles):
                # on board at the start: everything the route delivers from the depot
                routing.solver().Add(
                    load.CumulVar(routing.Start(v)) == delivered.CumulVar(routing.End(v))
                )

    def horizon(self) -> int:
        """An upper bound on any time value: no route can need longer than this."""
        data = self.data
        ends = [int(data.shift[:, 1].max())]
        ends += [int(w[-1, 1]) for w in data.time_windows if len(w)]
        longest_travel = max(int(d.max()) for d in data.durations)
        breaks = sum(b.duration for bs in data.breaks for b in bs)
        bound = int(data.service.sum()) + (data.n_nodes + 1) * longest_travel + breaks
        return max(max(ends), bound)

    def _time(self) -> None:
        data, routing, manager = self.data, self.routing, self.manager
        horizon = self.horizon()
        profiles = [self._matrix(data.service[:, None] + d) for d in data.durations]
        callbacks = [profiles[int(p)] for p in data.vehicle_profile]
        routing.AddDimensionWithVehicleTransitAndCapacity(
            callbacks, horizon, [horizon] * data.n_vehicles, False, "time"
        )
        time_dim = routing.GetDimensionOrDie("time")
        for stop, windows in enumerate(data.time_windows):
            if len(windows) == 0:
                continue
            cumul = time_dim.CumulVar(manager.NodeToIndex(stop))
            cumul.SetRange(int(windows[0, 0]), int(windows[-1, 1]))
            for (_, end), (start, _) in itertools.pairwise(windows):
                cumul.RemoveInterval(int(end) + 1, int(start) - 1)
        solver = routing.solver()
        visit_transits = [
            int(data.service[manager.IndexToNode(i)]) if i < routing.Size() else 0
            for i in range(routing.Size())
        ]
        for v in range(data.n_vehicles):
            start, end = routing.Start(v), routing.End(v)
            lo, hi = int(data.shift[v, 0]), int(data.shift[v, 1])
            time_dim.CumulVar(start).SetRange(lo, hi)
            time_dim.CumulVar(end).SetRange(lo, hi)
            if data.span_cost[v] > 0:
                time_dim.SetSpanCostCoefficientForVehicle(round(data.span_cost[v]), v)
            if data.max_duration[v] >= 0:
                time_dim.SetSpanUpperBoundForVehicle(int(data.max_duration[v]), v)
            intervals = []
            for b, brk in enumerate(data.vehicle_breaks(v)):
                interval = solver.FixedDurationIntervalVar(
                    int(brk.windows[0, 0]),
                    int(brk.windows[-1, 1]),
                    brk.duration,
                    True,
                    f"break_{v}_{b}",
                )
                # a break is taken exactly when the vehicle is used, inside its route
                solver.Add(interval.PerformedExpr() == routing.ActiveVehicleVar(v))
                solver.Add(interval.SafeStartExpr(horizon) >= time_dim.CumulVar(start))
                solver.Add(interval.SafeEndExpr(0) <= time_dim.CumulVar(end))
                for (_, gap_lo), (gap_hi, _) in zip(brk.windows[:-1], brk.windows[1:], strict=True):
                    solver.Add(
                        solver.Max(
                            interval.SafeStartExpr(0) <= int(gap_lo),
                            interval.SafeStartExpr(0) >= int(gap_hi),
                        )
                        == 1
                    )
                intervals.append(interval)
            if intervals:
                time_dim.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)
            self.break_intervals.append(intervals)
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(end))
            routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(start))

    def _distance_and_stops(self) -> None:
        data, routing = self.data, self.routing
        if np.any(data.max_distance >= 0):
            limit = int(data.distance.sum(axis=1).max()) + 1
            caps = [int(x) if x >= 0 else limit for x in data.max_distance]
            routing.AddDimensionWithVehicleCapacity(
                self._matrix(data.distance), 0, caps, True, "distance"
            )
        if np.any(data.max_stops >= 0):
            ones = [1 if node < data.n_stops else 0 for node in range(data.n_nodes)]
            caps = [int(x) if x >= 0 else data.n_stops for x in data.max_stops]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(ones), 0, caps, True, "stops"
            )

    def _stops(self) -> None:
        data, routing, manager = self.data, self.routing, self.manager
        for stop in range(data.n_stops):
            index = manager.NodeToIndex(stop)
            allowed = np.flatnonzero(data.allowed[stop])
            if len(allowed) < data.n_vehicles:
                # -1 keeps "not visited" possible, as the disjunction needs
                routing.VehicleVar(index).SetValues([-1, *(int(v) for v in allowed)])
            routing.AddDisjunction([index], int(data.penalty[stop]))
        solver, time_dim = routing.solver(), routing.GetDimensionOrDie("time")
        assert data.pairs is not None
        for pickup, delivery in data.pairs:
            first, second = manager.NodeToIndex(int(pickup)), manager.NodeToIndex(int(delivery))
            routing.AddPickupAndDelivery(first, second)
            solver.Add(routing.ActiveVar(first) == routing.ActiveVar(second))
            solver.Add(routing.VehicleVar(first) == routing.VehicleVar(second))
            solver.Add(time_dim.CumulVar(first) <= time_dim.CumulVar(second))

    def _links(self) -> None:
        """Locked prefixes as fixed successors on their vehicle; assignment costs as a
        dimension whose transit out of a stop is its cost on the route's vehicle."""
        data, routing, manager = self.data, self.routing, self.manager
        solver = routing.solver()
        for v in range(data.n_vehicles):
            previous = routing.Start(v)
            for node in data.vehicle_locked(v):
                index = manager.NodeToIndex(int(node))
                solver.Add(routing.NextVar(previous) == index)
                routing.VehicleVar(index).SetValue(v)
                previous = index
        if data.assign_cost is None:
            return
        callbacks = []
        for v in range(data.n_vehicles):
            cost = np.zeros(data.n_nodes, dtype=np.int64)
            cost[: data.n_stops] = data.assign_cost[:, v]
            callbacks.append(routing.RegisterUnaryTransitVector(cost.tolist()))
        total = int(data.assign_cost.max(axis=1).sum()) + 1
        routing.AddDimensionWithVehicleTransitAndCapacity(
            callbacks, 0, [total] * data.n_vehicles, True, "assign"
        )
        routing.GetDimensionOrDie("assign").SetSpanCostCoefficientForAllVehicles(1)

    def _balance(self) -> None:
        """Workload balance: a dimension whose end cumul is each route's metric (from 0), and
        a global span cost on it, ``coefficient * max_v metric_v``."""
        data, routing = self.data, self.routing
        if data.balance_metric is None or data.balance_cost <= 0:
            return
        if data.balance_metric == "stops":
            ones = [1 if node < data.n_stops else 0 for node in range(data.n_nodes)]
            routing.AddDimension(
                routing.RegisterUnaryTransitVector(ones), 0, data.n_stops, True, "balance"
            )
        elif data.balance_metric == "distance":
            limit = int(data.distance.sum(axis=1).max()) + 1
            routing.AddDimension(self._matrix(data.distance), 0, limit, True, "balance")
        else:  # the route's span, waiting included: at least the time dimension's
            horizon = self.horizon()
            zero = routing.RegisterUnaryTransitVector([0] * data.n_nodes)
            routing.AddDimension(zero, horizon, horizon, True, "balance")
            time_dim = routing.GetDimensionOrDie("time")
            span = routing.GetDimensionOrDie("balance")
            for v in range(data.n_vehicles):
                routing.solver().Add(
                    span.CumulVar(routing.End(v))
                    >= time_dim.CumulVar(routing.End(v)) - time_dim.CumulVar(routing.Start(v))
                )
        routing.GetDimensionOrDie("balance").SetGlobalSpanCostCoefficient(
            max(1, round(data.balance_cost))
        )

    def read(self, assignment: pywrapcp.Assignment) -> tuple[list[VehicleRoute], np.ndarray]:
        """Routes and dropped stops of a solution."""
        data, routing, manager = self.data, self.routing, self.manager
        time_dim = routing.GetDimensionOrDie("time")
        container = assignment.IntervalVarContainer()
        break_start = {}
        for i in range(container.Size()):
            element = container.Element(i)
            if element.PerformedValue() == 1:
                break_start[element.Var().Name()] = element.StartValue()
        routes: list[VehicleRoute] = []
        served: set[int] = set()
        for v in range(data.n_vehicles):
            index = routing.Start(v)
            start = assignment.Value(time_dim.CumulVar(index))
            stops: list[int] = []
            finish: list[int] = []
            index = assignment.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                stops.append(node)
                finish.append(assignment.Value(time_dim.CumulVar(index)) + int(data.service[node]))
                index = assignment.Value(routing.NextVar(index))
            if not stops:
                continue
            served.update(stops)
            breaks = []
            for b, interval in enumerate(self.break_intervals[v]):
                if interval.Name() not in break_start:
                    continue
                begin = int(break_start[interval.Name()])
                position = int(np.searchsorted(np.asarray(finish), begin, side="right"))
                breaks.append(BreakVisit(b, position, int(begin)))
            breaks.sort(key=lambda x: (x.position, x.start))
            routes.append(VehicleRoute(v, np.asarray(stops, dtype=np.int64), int(start), breaks))
        dropped = np.asarray([s for s in range(data.n_stops) if s not in served], dtype=np.int64)
        return routes, dropped


def unsupported(data: VrpData) -> list[str]:
    """The features of ``data`` this backend cannot honour (empty: it can solve it)."""
    return ["reloads"] if data.has_reloads else []


def solve_ortools(
    data: VrpData,
    params: OrToolsParams | None = None,
    on_progress: ProgressCallback | None = None,
) -> VrpSolution:
    """Solve ``data`` with OR-Tools routing within the time (or solution) limit; it cannot
    reload (:func:`unsupported`): a problem with reloads is a ``ValueError``."""
    if unsupported(data):
        raise ValueError(f"the OR-Tools backend cannot honour {', '.join(unsupported(data))}")
    params = params or OrToolsParams()
    began = time.perf_counter()
    model = OrToolsModel(data)
    routing = model.routing
    first: list[float] = []

    def on_solution() -> None:
        elapsed = time.perf_counter() - began
        if not first:
            first.append(elapsed)
        if on_progress is not None:
            on_progress(elapsed, int(routing.CostVar().Value()))

    routing.AddAtSolutionCallback(on_solution)
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic
    )
    remaining = max(params.time_limit_s - (time.perf_counter() - began), 0.01)
    search.time_limit.FromMilliseconds(int(remaining * 1000))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    assignment = routing.SolveWithParameters(search)
    status = _STATUS.get(int(routing.status()), str(routing.status()))
    solve_s = time.perf_counter() - began
    if assignment is None:
        return VrpSolution([], np.arange(data.n_stops), None, status, solve_s, None)
    routes, dropped = model.read(assignment)
    return VrpSolution(
        routes,
        dropped,
        int(assignment.ObjectiveValue()),
        status,
        solve_s,
        first[0] if first else None,
    )
