"""Read CVRPLIB (``.vrp``) and Solomon (``.txt``) instances with ``vrplib`` into requests.

Each set keeps the convention its best-known costs assume:

* X (CVRP): Euclidean distances rounded to the nearest integer; cost = total distance.
* Solomon (VRPTW): distance = travel time = ``floor(10 * euclid) / 10``; cost = total
  distance; at most the file's fleet (25); service times and windows as in the file.

Distances become metres and times seconds one to one, and each vehicle costs 1 per metre
(``cost_per_km = 1000``), so a plan's cost is the instance's objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import vrplib

from models.routing import RoutingRequest


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: its data, its distance convention and its best-known cost."""

    name: str
    kind: str
    path: Path
    data: dict[str, Any]
    distances: npt.NDArray[np.float64]
    bks: float | None

    @property
    def n_customers(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return int(self.distances.shape[0]) - 1

    @property
    def min_vehicles(self) -> int:
        """Vehicles needed by capacity alone."""
        return math.ceil(float(np.sum(self.data["demand"])) / float(self.data["capacity"]))


def load_bks(folder: Path) -> dict[str, float]:
    """Best-known costs from ``bks.csv`` in ``folder`` or its parent (``instance, bks``)."""
    for candidate in (folder / "bks.csv", folder.parent / "bks.csv"):
        if candidate.is_file():
            table = pd.read_csv(candidate)
            return dict(zip(table["instance"], table["bks"].astype(float), strict=True))
    return {}


def read_instance(path: Path, bks: dict[str, float] | None = None) -> Instance:
    """Read one instance file; ``.txt`` is Solomon, anything else VRPLIB."""
    name = path.stem
    if path.suffix == ".txt":
        data = vrplib.read_instance(str(path), instance_format="solomon")
        distances = np.floor(10 * np.asarray(data["edge_weight"], dtype=np.float64)) / 10
        kind = "vrptw"
    else:
        data = vrplib.read_instance(str(path))
        distances = np.rint(np.asarray(data["edge_weight"], dtype=np.float64))
        kind = "cvrp"
    return Instance(name, kind, path, data, distances, (bks or {}).get(name))


def find_instances(folder: Path, only: list[str] | None = None) -> list[Path]:
    """Instance files in ``folder`` (``.vrp`` and ``.txt``), by size then name."""
    files = sorted(p for p in folder.iterdir() if p.suffix in (".vrp", ".txt"))
    if only:
        wanted = set(only)
        files = [p for p in files if p.stem in wanted]
    return sorted(files, key=lambda p: (_size_hint(p), p.stem))


def _size_hint(path: Path) -> int:
    parts = path.stem.split("-")
    if len(parts) > 1 and parts[1].startswith("n") and parts[1][1:].isdigit():
        return int(parts[1][1:])
    return 0


def default_fleet(instance: Instance) -> int:
    """Fleet size for a request: the file's own for VRPTW, generous for CVRP."""
    if instance.kind == "vrptw":
        return int(instance.data["vehicles"])
    k = instance.min_vehicles
    return min(instance.n_customers, max(2 * k, k + 10))


def to_request(
    instance: Instance, time_limit_s: float = 10.0, seed: int = 0, vehicles: int | None = None
) -> RoutingRequest:
    """A routing request that reproduces the instance and its cost convention."""
    data = instance.data
    depot = int(np.asarray(data["depot"]).ravel()[0]) if "depot" in data else 0
    demand = np.asarray(data["demand"], dtype=np.float64)
    capacity = float(data["capacity"])
    n_nodes = instance.distances.shape[0]
    windows = data.get("time_window")
    service = data.get("service_time")
    coords = data.get("node_coord")
    stops = []
    for node in range(n_nodes):
        if node == depot:
            continue
        stop: dict[str, Any] = {
            "id": node,
            "location_index": node,
            "demand": {"load": float(demand[node])},
        }
        if coords is not None:
            stop["location"] = [float(coords[node][0]), float(coords[node][1])]
        if windows is not None:
            stop["time_windows"] = [[float(windows[node][0]), float(windows[node][1])]]
        if service is not None:
            stop["service_s"] = float(service[node])
        stops.append(stop)
    fleet = vehicles or default_fleet(instance)
    vehicle: dict[str, Any] = {
        "start_index": depot,
        "end_index": depot,
        "capacity": {"load": capacity},
        "cost_per_km": 1000.0,
    }
    if windows is not None:
        vehicle["shift"] = [float(windows[depot][0]), float(windows[depot][1])]
    if coords is not None:  # for display, and for PyVRP's geometric heuristics
        vehicle["start"] = vehicle["end"] = [float(coords[depot][0]), float(coords[depot][1])]
    matrix = instance.distances.tolist()
    return RoutingRequest.model_validate(
        {
            "stops": stops,
            "vehicles": [{"id": k + 1, **vehicle} for k in range(fleet)],
            "matrix": {"provider": "explicit", "durations_s": matrix, "distances_m": matrix},
            "options": {"time_limit_s": time_limit_s, "seed": seed},
        }
    )


def cost_decimals(instance: Instance) -> int:
    """Decimals of the instance's costs: 0 for X (rounded), 1 for Solomon (truncated)."""
    return 1 if instance.kind == "vrptw" else 0


def format_cost(cost: float, decimals: int) -> str:
    """A cost as written in ``.sol`` files: ``27591`` for X, ``827.3`` for Solomon."""
    return f"{round(cost, decimals):.{decimals}f}"


def write_solution(path: Path, routes: list[list[int]], cost: float, decimals: int = 0) -> Path:
    """Write a VRPLIB ``.sol``: ``Route #k: c1 c2 ...`` per non-empty route, then ``Cost X``.

    Clients keep the numbers of the instance's own ``.sol`` files (depot 0 not written).
    """
    lines = [
        f"Route #{k}: " + " ".join(str(c) for c in route)
        for k, route in enumerate((r for r in routes if r), start=1)
    ]
    lines.append(f"Cost {format_cost(cost, decimals)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_solution(path: Path) -> tuple[list[list[int]], float]:
    """The routes and the stated cost of a VRPLIB ``.sol`` file."""
    solution = vrplib.read_solution(str(path))
    routes = [[int(c) for c in route] for route in solution["routes"]]
    return routes, float(solution["cost"])
