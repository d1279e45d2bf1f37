"""Reloads (multi-trip) on PyVRP: reload depots, and route visits that include them.

PyVRP's vehicle types list their ``reload_depots``; a depot's ``service_duration`` is spent at
every visit but the route's end, start included. So a reload that takes time gets a copy of
its node as a depot of its own with that service, and the vehicles' start and end depots keep
none. A shared plan's visit is a client index, or ``-1 - depot`` for a reload there.
"""

from __future__ import annotations

import numpy as np
import pyvrp

from solvers.routing.data import VrpData

#: PyVRP's "any number of reloads".
UNLIMITED_RELOADS = int(np.iinfo(np.uint64).max)


def reload_service(data: VrpData, vehicle: int) -> int:
    """The time one reload of ``vehicle`` takes."""
    return int(data.reload_service[vehicle]) if data.reload_service is not None else 0


def max_reloads(data: VrpData, vehicle: int) -> int:
    """PyVRP's ``max_reloads`` of ``vehicle``."""
    most = data.max_reloads_of(vehicle)
    return most if most >= 0 else UNLIMITED_RELOADS


def reload_depots(data: VrpData, depot_nodes: list[int]) -> dict[tuple[int, int], int]:
    """PyVRP's depot index of each (node, reload time) some vehicle reloads at: the node's
    own depot when the reload takes no time, else a copy after ``depot_nodes``."""
    index: dict[tuple[int, int], int] = {}
    copies = len(depot_nodes)
    for v in range(data.n_vehicles):
        service = reload_service(data, v)
        for node in (int(x) for x in data.vehicle_reloads(v)):
            if (node, service) in index:
                continue
            if service == 0:
                index[node, 0] = depot_nodes.index(node)
            else:
                index[node, service] = copies
                copies += 1
    return index


def depot_node_of(index: dict[tuple[int, int], int], depot_nodes: list[int]) -> list[int]:
    """The node of every PyVRP depot (the plain ones, then the reload copies)."""
    nodes = list(depot_nodes) + [0] * (max(index.values(), default=-1) + 1 - len(depot_nodes))
    for (node, _), k in index.items():
        nodes[k] = node
    return nodes


def reload_copies(
    index: dict[tuple[int, int], int], depot_nodes: list[int], at: dict[int, int]
) -> list[pyvrp.Depot]:
    """The reload depots that copy a node with a service time, in depot-index order."""
    copies = sorted((k, node, service) for (node, service), k in index.items())
    return [
        pyvrp.Depot(location=at[node], service_duration=service)
        for k, node, service in copies
        if k >= len(depot_nodes)
    ]


def visit_of(activity: pyvrp.ScheduledActivity) -> int:
    """A route activity as a shared plan's visit (see :mod:`solvers.routing.pyvrp_reloads`)."""
    return int(activity.idx) if activity.is_client() else -1 - int(activity.idx)


def activity_of(visit: int) -> pyvrp.Activity:
    """A shared plan's visit as a PyVRP activity."""
    if visit >= 0:
        return pyvrp.Activity(pyvrp.ActivityType.CLIENT, visit)
    return pyvrp.Activity(pyvrp.ActivityType.DEPOT, -1 - visit)
