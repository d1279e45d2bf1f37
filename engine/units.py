"""Scaling between user units and the integer units that solvers work in, written once.

Solvers see integers only:

* time in ticks of 1/``TIME_SCALE`` s (0.1 s), so Solomon's one-decimal times are exact;
* distance in ticks of 1/``DISTANCE_SCALE`` m (0.1 m);
* quantities in 1/``QUANTITY_SCALE`` of the user's unit (0.001);
* cost in 1/``COST_SCALE`` of the user's currency (fine enough that a cost per working hour
  is a near-exact integer per time tick).

Travel matrices are rounded to the tick once, by :func:`to_time_ticks` /
:func:`to_distance_ticks`, before both the solve and the evaluation, so both see the same numbers.

Nothing is cast blindly: a value that is not finite, or whose ticks exceed :data:`MAX_TICKS`
(below it a float holds every integer exactly), raises
:class:`~models.errors.InvalidInputError` naming its field, never a wrong integer. The
contract's bounds (``models/common.py``) keep every single value below it; sums that the
solvers make (route costs, drop penalties) are checked against :data:`MAX_OBJECTIVE` by the
compile step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from models.errors import InvalidInputError

TIME_SCALE = 10
DISTANCE_SCALE = 10
QUANTITY_SCALE = 1000
COST_SCALE = 1_000_000

#: The largest magnitude of one scaled value (a time, distance, quantity, arc cost...).
MAX_TICKS = 2**53
#: The largest total the solvers may add up (every route's cost and every drop penalty):
#: int64 with headroom.
MAX_OBJECTIVE = 2**62

#: Where a scaled value came from: a field path (array indices are appended as ``[i][j]``),
#: or a function of the index of the offending element that gives the path.
FieldName = str | Callable[[tuple[int, ...]], str]


def field_at(field: FieldName, index: tuple[int, ...]) -> str:
    """The path of the element at ``index`` of the values given for ``field``."""
    if callable(field):
        return field(index)
    return field + "".join(f"[{i}]" for i in index)


def check_ticks(
    ticks: npt.ArrayLike, field: FieldName, why: str, limit: float = MAX_TICKS, scale: float = 1.0
) -> None:
    """Raise :class:`InvalidInputError` naming the first element of ``ticks`` that is not
    finite or exceeds ``limit`` in magnitude; ``scale`` turns ticks back into the user's
    value for the message."""
    values = np.asarray(ticks, dtype=np.float64)
    bad = ~np.isfinite(values) | (np.abs(values) > limit)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if values.ndim else ()
    value = float(values[index]) / scale
    raise InvalidInputError.for_field(field_at(field, index), value, why)


def scaled(
    values: npt.ArrayLike, scale: float, field: FieldName, unit: str
) -> npt.NDArray[np.int64]:
    """``values * scale`` rounded to integers; beyond :data:`MAX_TICKS`, an error naming it."""
    ticks = np.asarray(values, dtype=np.float64) * scale
    largest = f"{MAX_TICKS / scale:.4g}"
    check_ticks(
        ticks,
        field,
        f"is beyond the largest {unit} the solvers can hold exactly ({largest} {unit})",
        scale=scale,
    )
    return np.rint(ticks).astype(np.int64)


def to_time_ticks(seconds: npt.ArrayLike, field: FieldName = "time") -> npt.NDArray[np.int64]:
    """Seconds to integer time ticks, rounded to the nearest tick."""
    return scaled(seconds, TIME_SCALE, field, "s")


def to_distance_ticks(
    metres: npt.ArrayLike, field: FieldName = "distance"
) -> npt.NDArray[np.int64]:
    """Metres to integer distance ticks, rounded to the nearest tick."""
    return scaled(metres, DISTANCE_SCALE, field, "m")


def to_quantity_ticks(
    amount: npt.ArrayLike, field: FieldName = "quantity"
) -> npt.NDArray[np.int64]:
    """Quantities to integer ticks, rounded to the nearest tick."""
    return scaled(amount, QUANTITY_SCALE, field, "units")


def to_cost_ticks(money: npt.ArrayLike, field: FieldName = "cost") -> npt.NDArray[np.int64]:
    """Money to integer cost ticks, rounded to the nearest tick."""
    return scaled(money, COST_SCALE, field, "currency units")


def time_ticks_to_s(ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Integer time ticks back to seconds."""
    return np.asarray(ticks, dtype=np.float64) / TIME_SCALE


def distance_ticks_to_m(ticks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Integer distance ticks back to metres."""
    return np.asarray(ticks, dtype=np.float64) / DISTANCE_SCALE


def travel_time_ticks(
    base_ticks: npt.NDArray[np.int64], speed_factor: float, field: FieldName = "speed_factor"
) -> npt.NDArray[np.int64]:
    """A vehicle's travel-time matrix: the base matrix divided by its speed factor, in ticks."""
    if speed_factor == 1.0:
        return base_ticks
    return scaled(base_ticks / speed_factor, 1.0, field, "time ticks")
