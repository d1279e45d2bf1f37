"""The solvers a VRP benchmark compares: routeplan itself and three peers, one function each.

Every runner takes an :class:`~benchmarks.instances.Instance`, a time limit and a seed, and
returns a :class:`SolverRun`: the routes as instance node numbers (depot 0, clients as in the
``.sol`` convention), the wall time of the whole call and the best cost over time. Costs are
in the instance's units (X: rounded distance; Solomon: distance truncated to 0.1).

Peers (``pyvrp``, ``ortools-plain``, ``vroom``) are imported inside their runner, so the project
works without the ``bench`` extra; :func:`available_solvers` says which can run here. A peer's
own cost is kept only as a claim: the benchmark re-checks every plan with the evaluator.

Peers see integer data: X distances as rounded; Solomon distances, times, windows and service
times multiplied by :data:`SOLOMON_SCALE` (exact under the one-decimal truncation).
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.instances import Instance, default_fleet, to_request
from models.routing import RoutingResult, StepType

#: Solomon values become integers when multiplied by this (one decimal).
SOLOMON_SCALE = 10
#: VROOM's search effort (1-5); the peers' figures in docs/peers.md use 5.
VROOM_EXPLORATION = 5

ROUTEPLAN = "routeplan"
PYVRP = "pyvrp"
ORTOOLS_PLAIN = "ortools-plain"
VROOM = "vroom"
#: Every solver the benchmark knows, in the order results are reported.
SOLVERS = (ROUTEPLAN, PYVRP, ORTOOLS_PLAIN, VROOM)
_MODULE = {ROUTEPLAN: "ortools", PYVRP: "pyvrp", ORTOOLS_PLAIN: "ortools", VROOM: "vroom"}
_EXTRA = {PYVRP: "pyvrp", ORTOOLS_PLAIN: "ortools", VROOM: "pyvroom (pip install .[bench])"}


@dataclass
class SolverRun:
    """One solver's answer on one instance.

    Attributes:
        routes: per used vehicle, the client node numbers in visiting order.
        seconds: wall time of the whole call (model building included).
        status: the solver's own word on how it ended.
        claimed_cost: the cost the solver reports, in instance units (not trusted).
        progress: ``(seconds, best cost)`` samples, best cost non-increasing.
        result: routeplan's own result (peers' results are rebuilt by the benchmark).
    """

    routes: list[list[int]]
    seconds: float
    status: str
    claimed_cost: float | None = None
    progress: list[tuple[float, float]] = field(default_factory=list)
    result: RoutingResult | None = None

    @property
    def found(self) -> bool:
        """Whether the solver returned a plan at all."""
        return bool(self.routes)


Runner = Callable[[Instance, float, int], SolverRun]


def available_solvers() -> dict[str, str | None]:
    """For each known solver, ``None`` if it can run here, else why not."""
    out: dict[str, str | None] = {}
    for name in SOLVERS:
        module = _MODULE[name]
        if importlib.util.find_spec(module) is None:
            out[name] = f"{name} needs the {_EXTRA.get(name, module)} package, not installed"
        else:
            out[name] = None
    return out


def _scale(instance: Instance) -> int:
    return SOLOMON_SCALE if instance.kind == "vrptw" else 1


def _int_matrix(instance: Instance) -> npt.NDArray[np.int64]:
    """The instance's distances (= travel times) as exact integers in peer units."""
    return np.rint(instance.distances * _scale(instance)).astype(np.int64)


def _depot(instance: Instance) -> int:
    data = instance.data
    return int(np.asarray(data["depot"]).ravel()[0]) if "depot" in data else 0


def _running_best(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Keep the samples that improve on every earlier one."""
    out: list[tuple[float, float]] = []
    for seconds, cost in samples:
        if not out or cost < out[-1][1] - 1e-9:
            out.append((seconds, cost))
    return out


def run_routeplan(instance: Instance, time_limit_s: float, seed: int) -> SolverRun:
    """Our own solver through :func:`engine.routing.solve.solve_routes`."""
    from engine.routing.solve import solve_routes

    samples: list[tuple[float, float]] = []
    began = time.perf_counter()
    request = to_request(instance, time_limit_s=time_limit_s, seed=seed)
    result = solve_routes(request, on_progress=lambda s, cost: samples.append((s, cost)))
    seconds = time.perf_counter() - began
    routes = [
        [int(str(step.id)) for step in route.steps if step.type == StepType.STOP]
        for route in result.routes
    ]
    routes = [r for r in routes if r]
    if result.routes:
        samples.append((seconds, result.summary.cost))
    return SolverRun(
        routes=routes,
        seconds=seconds,
        status=result.stats.status,
        claimed_cost=result.summary.cost if result.routes else None,
        progress=_running_best(samples),
        result=result,
    )


def run_pyvrp(instance: Instance, time_limit_s: float, seed: int) -> SolverRun:
    """PyVRP's default ``solve`` with a runtime limit, on the instance's integer data."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    began = time.perf_counter()
    data = instance.data
    scale = _scale(instance)
    matrix = _int_matrix(instance)
    depot = _depot(instance)
    demand = np.asarray(data["demand"], dtype=np.int64)
    windows = data.get("time_window")
    service = data.get("service_time")
    coords = np.asarray(data.get("node_coord", np.zeros((matrix.shape[0], 2))), dtype=float)
    # PyVRP's depots come first; node 0 is the depot in every instance we read
    order = [depot, *(i for i in range(matrix.shape[0]) if i != depot)]
    matrix = matrix[np.ix_(order, order)]
    locations = [pyvrp.Location(float(coords[i][0]), float(coords[i][1])) for i in order]

    def window(node: int) -> dict[str, Any]:
        if windows is None:
            return {}
        lo, hi = windows[node]
        return {"tw_early": round(lo * scale), "tw_late": round(hi * scale)}

    clients = [
        pyvrp.Client(
            location=k,
            delivery=[int(demand[node])],
            service_duration=0 if service is None else round(float(service[node]) * scale),
            **window(node),
        )
        for k, node in enumerate(order)
        if node != depot
    ]
    problem = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[pyvrp.Depot(0, **window(depot))],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=default_fleet(instance),
                capacity=[int(data["capacity"])],
                **window(depot),
            )
        ],
        distance_matrices=[matrix],  # type: ignore[list-item]  # pyvrp's stub: ndarray[int]
        duration_matrices=[matrix],  # type: ignore[list-item]
    )
    built_s = time.perf_counter() - began
    with warnings.catch_warnings():
        # PyVRP warns when its penalties saturate; the evaluator judges the plan anyway
        warnings.simplefilter("ignore", pyvrp.exceptions.PenaltyBoundWarning)
        result = pyvrp.solve(problem, stop=MaxRuntime(max(time_limit_s - built_s, 0.01)), seed=seed)
    seconds = time.perf_counter() - began
    client_location = [c.location for c in problem.clients()]
    routes = [
        [order[client_location[a.idx]] for a in route if a.is_client()]
        for route in result.best.routes()
    ]
    routes = [r for r in routes if r]
    elapsed = built_s
    samples = []
    for step_s, datum in zip(result.stats.runtimes, result.stats.data, strict=True):
        elapsed += step_s
        if datum.best_feas:
            samples.append((elapsed, datum.best_cost / scale))
    claimed = result.cost() / scale if result.is_feasible() else None
    if claimed is not None:
        samples.append((seconds, claimed))
    return SolverRun(
        routes=routes,
        seconds=seconds,
        status="feasible" if result.is_feasible() else "infeasible",
        claimed_cost=claimed,
        progress=_running_best(samples),
    )


def run_ortools_plain(instance: Instance, time_limit_s: float, seed: int) -> SolverRun:
    """OR-Tools as its samples set it up: path cheapest arc, then guided local search.

    Formulation (the routing library's CVRP / VRPTW samples):
        one path per vehicle from the depot back to it; ``next[i]`` successor variables;
        load: ``L[j] = L[i] + q[j]``, ``0 <= L <= Q``; time (VRPTW): ``T[j] >= T[i] + s[i] +
        t[i,j]`` with waiting as slack, ``T[i]`` in the client's window, route start and end in
        the depot's window; every client visited (no disjunctions: that is "plain").
    Objective: total distance. ``seed`` is unused (the search is deterministic).
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    began = time.perf_counter()
    data = instance.data
    scale = _scale(instance)
    matrix = _int_matrix(instance)
    n_nodes = matrix.shape[0]
    depot = _depot(instance)
    fleet = default_fleet(instance)
    manager = pywrapcp.RoutingIndexManager(n_nodes, fleet, depot)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(matrix.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    demand = routing.RegisterUnaryTransitVector([int(q) for q in data["demand"]])
    routing.AddDimensionWithVehicleCapacity(
        demand, 0, [int(data["capacity"])] * fleet, True, "capacity"
    )
    windows = data.get("time_window")
    if windows is not None:
        service = np.rint(np.asarray(data["service_time"], dtype=float) * scale).astype(np.int64)
        ticks = np.rint(np.asarray(windows, dtype=float) * scale).astype(np.int64)
        horizon = int(ticks[depot][1])
        travel = routing.RegisterTransitMatrix((service[:, None] + matrix).tolist())
        routing.AddDimension(travel, horizon, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")
        for node in range(n_nodes):
            if node != depot:
                lo, hi = ticks[node]
                time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(lo), int(hi))
        for v in range(fleet):
            for index in (routing.Start(v), routing.End(v)):
                time_dim.CumulVar(index).SetRange(int(ticks[depot][0]), int(ticks[depot][1]))
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))

    samples: list[tuple[float, float]] = []
    routing.AddAtSolutionCallback(
        lambda: samples.append((time.perf_counter() - began, routing.CostVar().Value() / scale))
    )
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining_s = max(time_limit_s - (time.perf_counter() - began), 0.01)
    search.time_limit.FromMilliseconds(int(remaining_s * 1000))
    assignment = routing.SolveWithParameters(search)
    seconds = time.perf_counter() - began
    code = int(routing.status())
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(code).removeprefix("ROUTING_").lower()
    if assignment is None:
        return SolverRun(routes=[], seconds=seconds, status=status)
    routes = []
    for v in range(fleet):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    claimed = assignment.ObjectiveValue() / scale
    samples.append((seconds, claimed))
    return SolverRun(
        routes=routes,
        seconds=seconds,
        status=status,
        claimed_cost=claimed,
        progress=_running_best(samples),
    )


def run_vroom(instance: Instance, time_limit_s: float, seed: int) -> SolverRun:
    """VROOM through pyvroom at exploration level 5 on one thread, with a timeout.

    VROOM often ends before the timeout; its actual seconds are reported. ``seed`` is unused.
    """
    import vroom

    began = time.perf_counter()
    data = instance.data
    scale = _scale(instance)
    matrix = _int_matrix(instance)
    depot = _depot(instance)
    windows = data.get("time_window")
    service = data.get("service_time")
    problem = vroom.Input()
    problem.set_durations_matrix("car", matrix)
    vehicle_window: dict[str, Any] = {}
    if windows is not None:
        lo, hi = windows[depot]
        vehicle_window["time_window"] = vroom.TimeWindow(round(lo * scale), round(hi * scale))
    problem.add_vehicle(
        [
            vroom.Vehicle(
                k + 1, start=depot, end=depot, capacity=[int(data["capacity"])], **vehicle_window
            )
            for k in range(default_fleet(instance))
        ]
    )
    jobs = []
    for node in range(matrix.shape[0]):
        if node == depot:
            continue
        extra: dict[str, Any] = {}
        if windows is not None:
            lo, hi = windows[node]
            extra["time_windows"] = [vroom.TimeWindow(round(lo * scale), round(hi * scale))]
        if service is not None:
            extra["default_service"] = round(float(service[node]) * scale)
        jobs.append(vroom.Job(node, location=node, delivery=[int(data["demand"][node])], **extra))
    problem.add_job(jobs)
    solution = problem.solve(
        exploration_level=VROOM_EXPLORATION,
        nb_threads=1,
        timeout=timedelta(seconds=time_limit_s),
    )
    seconds = time.perf_counter() - began
    frame = solution.routes
    routes = []
    if len(frame):
        for _, rows in frame.groupby("vehicle_id", sort=True):
            route = [int(x) for x in rows.loc[rows["type"] == "job", "id"]]
            if route:
                routes.append(route)
    claimed = float(solution.summary.cost) / scale if routes else None
    unassigned = int(solution.summary.unassigned)
    return SolverRun(
        routes=routes,
        seconds=seconds,
        status="complete" if unassigned == 0 else f"{unassigned} unassigned",
        claimed_cost=claimed,
        progress=[] if claimed is None else [(seconds, claimed)],
    )


RUNNERS: dict[str, Runner] = {
    ROUTEPLAN: run_routeplan,
    PYVRP: run_pyvrp,
    ORTOOLS_PLAIN: run_ortools_plain,
    VROOM: run_vroom,
}
