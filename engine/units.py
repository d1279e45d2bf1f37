"""Scaling between user units and the integer units that solvers work in, written once.

Solvers see integers only:

* time in ticks of 1/``TIME_SCALE`` s (0.1 s), so Solomon's one-decimal times are exact;
* distance in ticks of 1/``DISTANCE_SCALE`` m (0.1 m);
* quantities in 1/``QUANTITY_SCALE`` of the user's unit (0.001);
* cost in 1/``COST_SCALE`` of the user's currency (fine enough that a cost per working hour
  is a near-exact integer per time tick).

Travel matrices are rounded to the tick once, by :func:`to_time_ticks` /
:func:`to_distance_ticks`, before both the solve and the evaluation, so both see the same numbers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TIME_SCALE = 10
DISTANCE_SCALE = 10
QUANTITY_SCALE = 1000
COST_SCALE = 1_000_000


def to_time_ticks(seconds: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Seconds to integer time ticks, rounded to the nearest tick."""
    return np.rint(np.asarray(seconds, dtype=np.float64) * TIME_SCALE).astype(np.int64)


def to_distance_ticks(metres: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Metres to integer distance ticks, rounded to the nearest tick."""
    return np.rint(np.asarray(metres, dtype=np.float64) * DISTANCE_SCALE).astype(np.int64)


def to_quantity_ticks(amount: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Quantities to integer ticks, rounded to the nearest tick."""
    return np.rint(np.asarray(amount, dtype=np.float64) * QUANTITY_SCALE).astype(np.int64)


def time_ticks_to_s(ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Integer time ticks back to seconds."""
    return np.asarray(ticks, dtype=np.float64) / TIME_SCALE


def distance_ticks_to_m(ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Integer distance ticks back to metres."""
    return np.asarray(ticks, dtype=np.float64) / DISTANCE_SCALE


def travel_time_ticks(
    base_ticks: npt.NDArray[np.int64], speed_factor: float
) -> npt.NDArray[np.int64]:
    """A vehicle's travel-time matrix: the base matrix divided by its speed factor, in ticks."""
    if speed_factor == 1.0:
        return base_ticks
    return np.rint(base_ticks / speed_factor).astype(np.int64)
