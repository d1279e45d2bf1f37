"""Hybrid backend for days with driver breaks: PyVRP plans, OR-Tools fits the breaks.

Formulation: the same problem as :mod:`solvers.vrp_ortools`. The search has two phases:

1. PyVRP solves a relaxation without breaks, in which each vehicle's shift end and maximum
   duration are shortened by its breaks' total duration, so there is room to take them
   (up to three short attempts, until OR-Tools accepts the routes);
2. OR-Tools starts from those routes, when its model (breaks included) accepts them, and
   runs guided local search on the real problem for the rest of the time. When it rejects
   them (a route has no room for a break), it builds its own first solution instead.

PyVRP's search is much stronger than OR-Tools' (on the sample day, 18% cheaper plans), and
OR-Tools is the one of the two that models breaks.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from solvers.vrp_data import ProgressCallback, VrpData, VrpSolution
from solvers.vrp_ortools import OrToolsModel, OrToolsParams, solve_ortools
from solvers.vrp_pyvrp import PyVrpParams, solve_pyvrp, unsupported

#: PyVRP gets up to this many attempts (seeds) at routes that leave room for the breaks,
#: each with this share of the time limit; short searches leave more slack, so they fit more
#: often (5 of 6 seeds at 1.5 s on the sample day).
ATTEMPTS = 3
ATTEMPT_SHARE = 0.15


def relax_breaks(data: VrpData) -> VrpData:
    """The problem without breaks, each shift end and max duration shortened by their total."""
    total = np.asarray(
        [sum(b.duration for b in data.vehicle_breaks(v)) for v in range(data.n_vehicles)],
        dtype=np.int64,
    )
    shift = data.shift.copy()
    shift[:, 1] = np.maximum(shift[:, 1] - total, shift[:, 0])
    max_duration = np.where(
        data.max_duration >= 0, np.maximum(data.max_duration - total, 0), -1
    ).astype(np.int64)
    return dataclasses.replace(data, breaks=[], shift=shift, max_duration=max_duration)


def hybrid_supported(data: VrpData) -> bool:
    """Whether the relaxation is one PyVRP can solve (breaks are the only obstacle)."""
    return not unsupported(relax_breaks(data))


def solve_hybrid(
    data: VrpData,
    time_limit_s: float,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
) -> VrpSolution:
    """PyVRP on the relaxation, then OR-Tools from its routes (see the module docstring)."""
    began = time.perf_counter()
    relaxed = relax_breaks(data)
    model = OrToolsModel(data)
    initial = None
    first_s = None
    for attempt in range(ATTEMPTS):
        first = solve_pyvrp(
            relaxed, PyVrpParams(time_limit_s=time_limit_s * ATTEMPT_SHARE, seed=seed + attempt)
        )
        if not first.found:
            break
        routes: list[list[int]] = [[] for _ in range(data.n_vehicles)]
        for route in first.routes:
            routes[route.vehicle] = [int(node) for node in route.stops]
        initial = model.initial_assignment(routes)
        if initial is not None:
            first_s = time.perf_counter() - began
            break
    remaining = max(time_limit_s - (time.perf_counter() - began), 0.1)
    second = solve_ortools(
        data, OrToolsParams(time_limit_s=remaining), on_progress, model=model, initial=initial
    )
    how = "from PyVRP's routes" if initial is not None else "PyVRP's routes had no room for breaks"
    return dataclasses.replace(
        second,
        status=f"hybrid, {how} ({second.status})",
        solve_s=time.perf_counter() - began,
        first_solution_s=first_s if first_s is not None else second.first_solution_s,
    )
