"""The relaxation behind the hybrid backend for days with driver breaks.

PyVRP cannot model breaks, OR-Tools can but searches less well. The engine's hybrid
(``engine/routing/solve.py``) lets PyVRP plan :func:`relax_breaks`' problem, in which each
vehicle's shift end and maximum duration are shortened by its breaks' total duration so
that there is room to take them, fits the breaks into those routes itself, and keeps that
plan when it is feasible and cheaper than OR-Tools' own on the real problem.

(Handing PyVRP's routes to OR-Tools as a first solution was tried: OR-Tools' restore of an
assignment can stall for minutes once breaks must lie inside the route.)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from solvers.routing.data import VrpData
from solvers.routing.pyvrp import unsupported


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
