"""Array data of the allocation problem, shared by the MIP and the greedy baselines.

Everything is an index into numpy arrays: sites ``s``, skus ``k``, orders ``o`` and lines ``l``.
The lines of order ``o`` are ``line_start[o]:line_start[o + 1]``. Costs are floats in the
caller's currency; quantities are integer units. No pydantic, no files: engine/ builds these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AllocationData:
    """One allocation problem over ``n_orders`` orders and ``n_sites`` sites.

    ``available[s, k]`` is on hand minus safety stock (never negative). An order may ship from
    site ``s`` only where ``eligible[o, s]`` (site online, channel allowed, hard SLA met). A
    shipment of order ``o`` from ``s`` costs ``shipment_cost[o, s]`` once plus
    ``unit_cost[o, s]`` per unit; ``split_penalty`` is charged per shipment beyond the first.
    A unit of line ``l`` left unfulfilled costs ``line_penalty[l]``.
    """

    site_capacity_orders: IntArray
    site_capacity_units: IntArray
    available: IntArray
    line_start: IntArray
    line_sku: IntArray
    line_quantity: IntArray
    line_penalty: FloatArray
    order_rank: IntArray
    order_max_shipments: IntArray
    order_ship_complete: BoolArray
    eligible: BoolArray
    shipment_cost: FloatArray
    unit_cost: FloatArray
    distance_km: FloatArray
    split_penalty: float = 0.0

    def __post_init__(self) -> None:
        n_sites, n_orders = self.n_sites, self.n_orders
        if self.available.shape[0] != n_sites or self.site_capacity_units.shape != (n_sites,):
            raise ValueError("site arrays disagree on the number of sites")
        if self.line_start.shape != (n_orders + 1,) or self.line_start[0] != 0:
            raise ValueError("line_start must have n_orders + 1 entries starting at 0")
        if int(self.line_start[-1]) != self.n_lines:
            raise ValueError("line_start[-1] must equal the number of lines")
        for name in ("eligible", "shipment_cost", "unit_cost", "distance_km"):
            if getattr(self, name).shape != (n_orders, n_sites):
                raise ValueError(f"{name} must have shape (n_orders, n_sites)")
        if np.any(self.line_quantity <= 0):
            raise ValueError("line quantities must be positive")
        if np.any(self.available < 0):
            raise ValueError("available stock must be non-negative")
        if np.any(self.order_max_shipments < 1):
            raise ValueError("max shipments must be at least 1")
        if self.split_penalty < 0:
            raise ValueError("split_penalty must be non-negative")

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return int(self.site_capacity_orders.shape[0])

    @property
    def n_orders(self) -> int:
        """Number of orders."""
        return int(self.order_rank.shape[0])

    @property
    def n_lines(self) -> int:
        """Number of order lines."""
        return int(self.line_sku.shape[0])

    @property
    def n_skus(self) -> int:
        """Number of skus (columns of ``available``)."""
        return int(self.available.shape[1])

    @property
    def line_order(self) -> IntArray:
        """The order of each line."""
        return np.repeat(np.arange(self.n_orders), np.diff(self.line_start))


@dataclass(frozen=True)
class AllocationSolution:
    """Which site ships how many units of which line, as parallel arrays, plus solve facts."""

    line: IntArray
    site: IntArray
    quantity: IntArray
    method: str
    status: str = "feasible"
    objective: float = float("nan")
    bound: float = float("nan")
    solve_time_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(objective - bound) / |objective|`` (0 when both are 0)."""
        if not (np.isfinite(self.objective) and np.isfinite(self.bound)):
            return float("nan")
        diff = max(self.objective - self.bound, 0.0)
        return 0.0 if diff <= 1e-9 else diff / max(abs(self.objective), 1e-9)

    def line_shipped(self, n_lines: int) -> IntArray:
        """Units shipped per line."""
        return np.bincount(self.line, weights=self.quantity, minlength=n_lines).astype(np.int64)


def plan_cost(data: AllocationData, plan: AllocationSolution) -> float:
    """Objective of ``plan``: shipments, units, splits and unfulfilled penalties (all lines)."""
    keep = plan.quantity > 0
    line, site, qty = plan.line[keep], plan.site[keep], plan.quantity[keep]
    order = data.line_order[line]
    pairs = np.unique(order * data.n_sites + site)
    p_order, p_site = pairs // data.n_sites, pairs % data.n_sites
    shipments = float(data.shipment_cost[p_order, p_site].sum())
    units = float((data.unit_cost[order, site] * qty).sum())
    n_ship = np.bincount(p_order, minlength=data.n_orders)
    splits = float(np.maximum(n_ship - 1, 0).sum()) * data.split_penalty
    short = data.line_quantity - plan.line_shipped(data.n_lines)
    penalty = float((short * data.line_penalty).sum())
    return shipments + units + splits + penalty


def empty_plan(method: str, status: str = "feasible") -> AllocationSolution:
    """A plan that ships nothing."""
    none = np.zeros(0, dtype=np.int64)
    return AllocationSolution(none, none.copy(), none.copy(), method=method, status=status)
