"""Array data of one cartonisation problem, its settings, and the packing a solver returns.

Skus ``k`` and carton types ``t`` are indices. Volumes, weights and costs are integers in
the caller's ticks (the engine rounds each unit's volume and weight up and each carton's
capacity down, so a packing that fits in ticks fits in real numbers too). No pydantic, no
files: engine/ builds these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: How a solve ended: ``optimal`` (proved) or ``feasible`` (stopped on its time limit).
PackingStatus = Literal["optimal", "feasible"]


@dataclass(frozen=True)
class PackingData:
    """The units of one shipment and the carton types they may go in.

    Attributes:
        item_volume: ``[K]`` volume of one unit of each sku.
        item_weight: ``[K]`` weight of one unit.
        item_quantity: ``[K]`` units to pack (at least 1 each).
        type_volume: ``[T]`` volume a carton of each type may hold (inner volume times the
            fill factor).
        type_weight: ``[T]`` weight of the units a carton may hold (its tare taken off).
        type_cost: ``[T]`` price of one carton.
        allowed: ``[K, T]`` whether one unit fits a carton on its own: in some axis-aligned
            orientation, and within its volume and weight.
    """

    item_volume: IntArray
    item_weight: IntArray
    item_quantity: IntArray
    type_volume: IntArray
    type_weight: IntArray
    type_cost: IntArray
    allowed: BoolArray

    def __post_init__(self) -> None:
        k, t = self.n_skus, self.n_types
        if self.item_weight.shape != (k,) or self.item_quantity.shape != (k,):
            raise ValueError("item arrays disagree on the number of skus")
        if self.type_weight.shape != (t,) or self.type_cost.shape != (t,):
            raise ValueError("type arrays disagree on the number of carton types")
        if self.allowed.shape != (k, t):
            raise ValueError("allowed must have shape (n_skus, n_types)")
        for name in ("item_volume", "item_weight", "type_volume", "type_weight", "type_cost"):
            if np.any(getattr(self, name) < 0):
                raise ValueError(f"{name} must be non-negative")
        if np.any(self.item_quantity < 1):
            raise ValueError("item quantities must be at least 1")
        if t == 0 or k == 0:
            raise ValueError("a packing problem needs at least one sku and one carton type")
        fits_alone = (self.item_volume[:, None] <= self.type_volume[None, :]) & (
            self.item_weight[:, None] <= self.type_weight[None, :]
        )
        if np.any(self.allowed & ~fits_alone):
            raise ValueError("allowed pairs whose unit alone exceeds the carton's capacity")
        lost = np.flatnonzero(~self.allowed.any(axis=1))
        if lost.size:
            raise ValueError(f"skus {lost.tolist()} fit no carton type")

    @property
    def n_skus(self) -> int:
        """Number of skus."""
        return int(self.item_volume.shape[0])

    @property
    def n_types(self) -> int:
        """Number of carton types."""
        return int(self.type_volume.shape[0])

    @property
    def n_units(self) -> int:
        """Number of units to pack."""
        return int(self.item_quantity.sum())

    def fit_count(self, sku: int, carton_type: int) -> int:
        """How many units of ``sku`` an empty carton of ``carton_type`` holds (0 if none)."""
        if not self.allowed[sku, carton_type]:
            return 0
        most = int(self.item_quantity[sku])
        volume, weight = int(self.item_volume[sku]), int(self.item_weight[sku])
        if volume > 0:
            most = min(most, int(self.type_volume[carton_type]) // volume)
        if weight > 0:
            most = min(most, int(self.type_weight[carton_type]) // weight)
        return most


@dataclass(frozen=True)
class PackingParams:
    """Settings of the CP-SAT search; rejects bad values."""

    time_limit_s: float = 2.0
    num_workers: int = 2
    random_seed: int = 0
    # Start the search from the first-fit-decreasing packing.
    use_hint: bool = True
    # A model of more count variables than this is not built: the heuristic's packing is
    # the answer (``feasible``, with the volume/weight bound).
    max_variables: int = 50_000

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ValueError(f"time_limit_s must be finite and > 0, got {self.time_limit_s}")
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, got {self.num_workers}")
        if self.max_variables < 0:
            raise ValueError(f"max_variables must be non-negative, got {self.max_variables}")
        if self.random_seed < 0:
            raise ValueError(f"random_seed must be non-negative, got {self.random_seed}")


@dataclass(frozen=True)
class PackingSolution:
    """The cartons used: ``carton_type[c]`` and ``contents[c, k]`` units of sku ``k``.

    ``cost`` and ``bound`` are in cost ticks: no packing costs less than ``bound``.
    """

    carton_type: IntArray
    contents: IntArray
    status: PackingStatus
    cost: int
    bound: int
    method: str
    solve_time_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def n_cartons(self) -> int:
        """Number of cartons used."""
        return int(self.carton_type.shape[0])


def packing_cost(data: PackingData, carton_type: IntArray) -> int:
    """Cost ticks of cartons of these types."""
    return int(data.type_cost[carton_type].sum())


def fits_mask(item_dims: FloatArray, box_dims: FloatArray) -> BoolArray:
    """``[K, T]``: whether an item of dimensions ``item_dims[k]`` fits the box ``box_dims[t]``
    in some axis-aligned orientation (sorted edges compared pairwise)."""
    items = np.sort(np.asarray(item_dims, dtype=np.float64), axis=1)
    boxes = np.sort(np.asarray(box_dims, dtype=np.float64), axis=1)
    mask: BoolArray = np.all(items[:, None, :] <= boxes[None, :, :], axis=2)
    return mask
