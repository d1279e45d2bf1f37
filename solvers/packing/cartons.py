"""Cartonisation of one shipment as a CP-SAT bin-packing model (``pack_bins``).

Data (:class:`~solvers.packing.data.PackingData`, integers): skus ``k`` with unit volume
``v_k``, weight ``w_k`` and quantity ``q_k``; carton types ``t`` with volume capacity ``V_t``
(inner volume times the fill factor), weight capacity ``W_t`` (most gross weight less the
tare) and price ``c_t``; ``allowed[k, t]`` when one unit of ``k`` fits a carton of type
``t`` on its own (some axis-aligned orientation of its edges within the inner box, and
within ``V_t`` and ``W_t``).

Capacity model: volume and weight. Volume packing is a relaxation of true 3-D packing: the
model never places units in space, so a carton whose units' volumes add up to its inner
volume may not hold them physically. The orientation check only proves that each unit fits
the box on its own; a fill factor below 1 keeps room for the geometry.

Slots: type ``t`` gets ``U_t`` slots ``(t, j)``, ``j < U_t``, with ``U_t`` the smallest of
(a) the units allowed in ``t`` (a cheapest packing has no empty carton), (b) the cartons
first-fit-decreasing needs to pack every unit allowed in ``t`` into type ``t`` alone (a
cheapest packing with more cartons of type ``t`` could repack their contents into fewer of
them) and (c) ``floor(C_heur / c_t)`` for ``c_t > 0`` (``C_heur`` the heuristic packing's
cost), raised to the heuristic's own count of type ``t`` so its packing fits.

Variables: ``y[t, j]`` in {0, 1}, slot used; ``x[t, j, k]`` integer in
``[0, min(q_k, fit_count(k, t))]``, units of sku ``k`` in the slot, only where
``allowed[k, t]``. Units of one sku are interchangeable, so a count per (slot, sku) stands
for the units (not a boolean per unit).

Constraints:

* every unit packed: ``sum_{t, j} x[t, j, k] = q_k`` for every ``k``;
* volume: ``sum_k v_k x[t, j, k] <= V_t y[t, j]``; weight: ``sum_k w_k x[t, j, k] <=
  W_t y[t, j]``; and ``x[t, j, k] <= ub y[t, j]`` (for units of no volume or weight);
* symmetry breaking, within a type: slots used in order, ``y[t, j] >= y[t, j + 1]``, and
  loaded in decreasing volume, ``load[t, j] >= load[t, j + 1]``;
* redundant: ``sum_{t, j} V_t y[t, j] >= sum_k q_k v_k`` (and the same for weight).

Objective: ``minimise M * sum c_t y[t, j] + sum y[t, j]``, with ``M = (number of slots) + 1``:
the cost first, then the number of cartons (``M = 1`` and the count term dropped when the
products would pass 2**53).

Bound: the larger of CP-SAT's bound (``floor(bound / M)`` in cost) and a volume/weight
bound: every unit of ``k`` costs at least ``v_k min_{t allowed} c_t / V_t`` (and the same
by weight), and some carton holds the largest ``min_{t allowed} c_t``. The search starts from
the first-fit-decreasing packing (``solvers/packing/heuristic.py``), which is also the
answer when CP-SAT finds nothing in time or the model would have more than
``params.max_variables`` count variables; a heuristic packing that meets the bound (and the
carton count bound: total volume, or weight, over the largest carton's) is optimal without a
search. ``optimal`` means no packing costs less (and, when CP-SAT proves it, none of the
same cost has fewer cartons).
"""

from __future__ import annotations

import math
import time

import numpy as np
from ortools.sat.python import cp_model

from models.errors import SolverError
from solvers.packing.data import (
    IntArray,
    PackingData,
    PackingParams,
    PackingSolution,
    PackingStatus,
    packing_cost,
)
from solvers.packing.heuristic import best_heuristic, single_type_count

#: The search gets at least this long, whatever building the model took of the time limit.
_MIN_SEARCH_S = 0.05
#: Slot bounds are tightened by first-fit-decreasing only for models the cheap bounds keep
#: within this many times ``max_variables`` count variables.
FFD_BOUND_FACTOR = 10
#: The largest objective coefficient product kept exact (a float holds every integer below).
_MAX_EXACT = 2**53


def volume_weight_bound(data: PackingData) -> int:
    """Cost ticks no packing goes below: by volume, by weight, or the dearest single unit."""
    cost = data.type_cost.astype(np.float64)
    bounds = [0.0]
    for need, capacity in (
        (data.item_volume, data.type_volume),
        (data.item_weight, data.type_weight),
    ):
        rate = np.where(capacity > 0, cost / np.maximum(capacity, 1), np.inf)
        per_unit = np.where(data.allowed, rate[None, :], np.inf).min(axis=1)
        spend = np.where(need > 0, need * data.item_quantity * per_unit, 0.0)
        bounds.append(float(spend.sum()))
    alone = np.where(data.allowed, cost[None, :], np.inf).min(axis=1)
    bounds.append(float(alone.max()))
    return max(0, math.ceil(max(bounds) * (1 - 1e-12) - 1e-9))


def count_bound(data: PackingData) -> int:
    """Cartons no packing goes below: the units' volume (or weight) over the largest
    carton's."""
    most = 1
    for need, capacity in (
        (data.item_volume, data.type_volume),
        (data.item_weight, data.type_weight),
    ):
        total, largest = int(need @ data.item_quantity), int(capacity.max())
        if total > 0 and largest > 0:
            most = max(most, -(-total // largest))
    return most


def slot_bounds(
    data: PackingData, hint_types: IntArray, hint_cost: int, max_variables: int
) -> IntArray:
    """``U_t``: slots of each carton type (see the module's docstring).

    First the cheap bound (units allowed in ``t``, ``floor(C_heur / c_t)``); the
    first-fit-decreasing count of (a) only where it may be tighter, and only when the cheap
    bounds leave a model of at most ``FFD_BOUND_FACTOR * max_variables`` count variables.
    """
    units = data.item_quantity @ data.allowed
    hint_count = np.bincount(hint_types, minlength=data.n_types)
    cost = data.type_cost
    by_cost = np.where(cost > 0, hint_cost // np.maximum(cost, 1), units)
    bounds: IntArray = np.maximum(np.minimum(units, by_cost), hint_count).astype(np.int64)
    if int(bounds @ data.allowed.sum(axis=0)) > FFD_BOUND_FACTOR * max_variables:
        return bounds
    for t in np.flatnonzero(bounds > hint_count):
        bounds[t] = max(min(int(bounds[t]), single_type_count(data, int(t))), int(hint_count[t]))
    return bounds


def pack_bins(data: PackingData, params: PackingParams | None = None) -> PackingSolution:
    """The cheapest packing (then the fewest cartons) of the shipment, or the best found in
    ``params.time_limit_s``, with a lower bound on its cost."""
    params = params or PackingParams()
    started = time.perf_counter()
    hint_types, hint_contents = best_heuristic(data)
    hint_cost = packing_cost(data, hint_types)
    bound = volume_weight_bound(data)
    stats: dict[str, float] = {"heuristic_cost": float(hint_cost), "slots": 0.0}
    if hint_cost <= bound and hint_types.shape[0] <= count_bound(data):
        return PackingSolution(
            hint_types,
            hint_contents,
            "optimal",
            hint_cost,
            hint_cost,
            "first_fit_decreasing",
            time.perf_counter() - started,
            stats,
        )
    slots = slot_bounds(data, hint_types, hint_cost, params.max_variables)
    stats["slots"] = float(slots.sum())
    n_variables = int(slots @ data.allowed.sum(axis=0))
    stats["variables"] = float(n_variables)
    if n_variables > params.max_variables:
        return PackingSolution(
            hint_types,
            hint_contents,
            "feasible",
            hint_cost,
            bound,
            "first_fit_decreasing",
            time.perf_counter() - started,
            stats,
        )
    model = _Model(data, slots)
    if params.use_hint:
        model.hint(hint_types, hint_contents)
    solver = cp_model.CpSolver()
    left_s = params.time_limit_s - (time.perf_counter() - started)
    solver.parameters.max_time_in_seconds = max(left_s, _MIN_SEARCH_S)
    solver.parameters.num_workers = params.num_workers
    solver.parameters.random_seed = params.random_seed
    code = solver.solve(model.model)
    elapsed = time.perf_counter() - started
    if code == cp_model.INFEASIBLE or code == cp_model.MODEL_INVALID:
        raise SolverError(f"the carton model is {solver.status_name(code).lower()}")
    if code == cp_model.UNKNOWN:  # nothing found in time: the heuristic's packing
        stats["cp_sat_bound"] = float("nan")
        return PackingSolution(
            hint_types,
            hint_contents,
            "feasible",
            hint_cost,
            bound,
            "first_fit_decreasing",
            elapsed,
            stats,
        )
    types, contents = model.read(solver)
    cost = packing_cost(data, types)
    cp_bound = math.floor(solver.best_objective_bound + 1e-6) // model.weight
    stats["cp_sat_bound"] = float(cp_bound)
    stats["branches"] = float(solver.num_branches)
    if code == cp_model.OPTIMAL:
        return PackingSolution(types, contents, "optimal", cost, cost, "cp_sat", elapsed, stats)
    best_bound = min(max(bound, cp_bound), cost)
    status: PackingStatus = "optimal" if best_bound >= cost else "feasible"
    return PackingSolution(types, contents, status, cost, best_bound, "cp_sat", elapsed, stats)


class _Model:
    """The CP-SAT model of the docstring over the slots ``slots[t]`` of each type."""

    def __init__(self, data: PackingData, slots: IntArray) -> None:
        self.data = data
        self.model = cp_model.CpModel()
        m = self.model
        self.slot_type = [t for t in range(data.n_types) for _ in range(int(slots[t]))]
        n_slots = len(self.slot_type)
        most_cost = int(data.type_cost.max())
        self.weight = (
            n_slots + 1 if most_cost * n_slots * (n_slots + 1) + n_slots < _MAX_EXACT else 1
        )
        self.used = [m.new_bool_var(f"y{s}") for s in range(n_slots)]
        self.count: list[dict[int, cp_model.IntVar]] = []
        per_sku: list[list[cp_model.IntVar]] = [[] for _ in range(data.n_skus)]
        loads: list[cp_model.LinearExprT] = []
        for s, t in enumerate(self.slot_type):
            row: dict[int, cp_model.IntVar] = {}
            for k in (int(i) for i in np.flatnonzero(data.allowed[:, t])):
                ub = data.fit_count(k, t)
                x = m.new_int_var(0, ub, f"x{s}_{k}")
                m.add(x <= ub * self.used[s])
                row[k] = x
                per_sku[k].append(x)
            volume = sum(int(data.item_volume[k]) * x for k, x in row.items())
            weight = sum(int(data.item_weight[k]) * x for k, x in row.items())
            m.add(volume <= int(data.type_volume[t]) * self.used[s])
            m.add(weight <= int(data.type_weight[t]) * self.used[s])
            if s > 0 and self.slot_type[s - 1] == t:
                m.add(self.used[s - 1] >= self.used[s])
                m.add(loads[s - 1] >= volume)
            loads.append(volume)
            self.count.append(row)
        for k in range(data.n_skus):
            m.add(sum(per_sku[k]) == int(data.item_quantity[k]))
        for need, capacity in (
            (data.item_volume, data.type_volume),
            (data.item_weight, data.type_weight),
        ):
            total = int(need @ data.item_quantity)
            m.add(
                sum(int(capacity[t]) * self.used[s] for s, t in enumerate(self.slot_type)) >= total
            )
        cost = sum(int(data.type_cost[t]) * self.used[s] for s, t in enumerate(self.slot_type))
        count = sum(self.used) if self.weight > 1 else 0
        m.minimize(self.weight * cost + count)

    def hint(self, types: IntArray, contents: IntArray) -> None:
        """Hint the packing ``(types, contents)``: its cartons in the first slots of each type,
        loads decreasing (as the symmetry breaking wants)."""
        first = {t: self.slot_type.index(t) for t in set(self.slot_type)}
        volume = contents @ self.data.item_volume
        order = np.lexsort((-volume, types))
        placed: dict[int, IntArray] = {}
        taken = {t: 0 for t in first}
        for c in order:
            t = int(types[c])
            placed[first[t] + taken[t]] = contents[c]
            taken[t] += 1
        for s, row in enumerate(self.count):
            load = placed.get(s)
            self.model.add_hint(self.used[s], load is not None)
            for k, x in row.items():
                self.model.add_hint(x, 0 if load is None else int(load[k]))

    def read(self, solver: cp_model.CpSolver) -> tuple[IntArray, IntArray]:
        """The used slots as ``(carton_type[C], contents[C, K])``."""
        types: list[int] = []
        rows: list[list[int]] = []
        for s, row in enumerate(self.count):
            if not solver.boolean_value(self.used[s]):
                continue
            contents = [0] * self.data.n_skus
            for k, x in row.items():
                contents[k] = int(solver.value(x))
            if sum(contents) == 0 and int(self.data.type_cost[self.slot_type[s]]) == 0:
                continue  # an empty free carton (the count term was dropped)
            types.append(self.slot_type[s])
            rows.append(contents)
        return (
            np.asarray(types, dtype=np.int64),
            np.asarray(rows, dtype=np.int64).reshape(len(types), self.data.n_skus),
        )
