"""First-fit-decreasing packings: the CP-SAT model's hint, fallback and slot bounds.

Skus are taken in decreasing order of size (the larger of their volume and weight shares of
the largest carton); each sku's units go first into the cartons already open (in the order
they were opened, as many as fit, allowed pairs only), then into new cartons whose type a
rule picks (cheapest per unit placed; cheapest per capacity; or one type first, for the
few types cheapest per capacity). Each packing is then tightened: every carton gets the
cheapest type that holds its contents. The cheapest packing of the rules wins.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from solvers.packing.data import IntArray, PackingData, packing_cost

#: Rules "this type first" are tried for at most this many types (the cheapest per capacity).
PREFERRED_TYPES = 8
#: Picks the type of a new carton for ``sku`` given the units of it still to place.
TypeRule = Callable[[PackingData, int, int], int]


def _order(data: PackingData) -> list[int]:
    """Skus from the largest to the smallest unit."""
    v = data.item_volume / max(int(data.type_volume.max()), 1)
    w = data.item_weight / max(int(data.type_weight.max()), 1)
    size = np.maximum(v, w)
    return [int(k) for k in np.argsort(-size, kind="stable")]


def _first_fit(
    data: PackingData, sku: int, left: int, open_types: IntArray, room: IntArray
) -> IntArray:
    """Units of ``sku`` that go into each open carton, first fit in opening order.

    ``room`` is ``[n, 2]``: the volume and weight left in each open carton.
    """
    n = open_types.shape[0]
    fits = np.full(n, left, dtype=np.int64)
    for dim, need in enumerate((int(data.item_volume[sku]), int(data.item_weight[sku]))):
        if need > 0:
            fits = np.minimum(fits, room[:, dim] // need)
    fits = np.where(data.allowed[sku, open_types], np.maximum(fits, 0), 0)
    before = np.cumsum(fits) - fits
    taken: IntArray = np.minimum(fits, np.maximum(left - before, 0))
    return taken


def first_fit_decreasing(data: PackingData, rule: TypeRule) -> tuple[IntArray, IntArray]:
    """A packing: ``(carton_type[C], contents[C, K])``, new cartons' types picked by ``rule``."""
    most = data.n_units  # every carton holds a unit at least
    types = np.zeros(most, dtype=np.int64)
    contents = np.zeros((most, data.n_skus), dtype=np.int64)
    room = np.zeros((most, 2), dtype=np.int64)
    opened = 0
    for sku in _order(data):
        left = int(data.item_quantity[sku])
        need = np.array([data.item_volume[sku], data.item_weight[sku]], dtype=np.int64)
        if opened:
            taken = _first_fit(data, sku, left, types[:opened], room[:opened])
            contents[:opened, sku] += taken
            room[:opened] -= taken[:, None] * need[None, :]
            left -= int(taken.sum())
        while left > 0:
            t = rule(data, sku, left)
            n = min(left, data.fit_count(sku, t))
            types[opened] = t
            contents[opened, sku] = n
            room[opened] = (int(data.type_volume[t]), int(data.type_weight[t]))
            room[opened] -= n * need
            opened += 1
            left -= n
    return types[:opened].copy(), contents[:opened].copy()


def tighten(data: PackingData, carton_type: IntArray, contents: IntArray) -> IntArray:
    """Each carton's cheapest type (fewest ticks) that holds its contents."""
    better = carton_type.copy()
    for c in range(carton_type.shape[0]):
        row = contents[c]
        used = row > 0
        volume = int(row @ data.item_volume)
        weight = int(row @ data.item_weight)
        ok = (
            data.allowed[used].all(axis=0)
            & (data.type_volume >= volume)
            & (data.type_weight >= weight)
        )
        candidates = np.flatnonzero(ok)
        if candidates.size:
            better[c] = int(candidates[np.argmin(data.type_cost[candidates])])
    return better


def _cheapest_per_unit(data: PackingData, sku: int, left: int) -> int:
    """The type of the lowest price per unit of ``sku`` it takes now (ties: the cheaper)."""
    best, best_key = -1, (float("inf"), float("inf"))
    for t in np.flatnonzero(data.allowed[sku]):
        n = min(left, data.fit_count(sku, int(t)))
        key = (float(data.type_cost[t]) / n, float(data.type_cost[t]))
        if key < best_key:
            best, best_key = int(t), key
    return best


def _cheapest_per_capacity(data: PackingData, sku: int, left: int) -> int:
    """The type of the lowest price per share of volume and weight (ties: the bigger)."""
    allowed = np.flatnonzero(data.allowed[sku])
    share = np.maximum(
        data.type_volume[allowed] / max(int(data.type_volume.max()), 1),
        data.type_weight[allowed] / max(int(data.type_weight.max()), 1),
    )
    key = data.type_cost[allowed] / np.maximum(share, 1e-12)
    return int(allowed[np.lexsort((-share, key))[0]])


def _prefer(t: int) -> TypeRule:
    """Type ``t`` where the sku fits it, else the cheapest per unit."""

    def rule(data: PackingData, sku: int, left: int) -> int:
        return t if data.allowed[sku, t] else _cheapest_per_unit(data, sku, left)

    return rule


def best_heuristic(data: PackingData) -> tuple[IntArray, IntArray]:
    """The cheapest (then fewest cartons) tightened first-fit-decreasing packing."""
    rules: list[TypeRule] = [_cheapest_per_unit, _cheapest_per_capacity]
    share = np.maximum(
        data.type_volume / max(int(data.type_volume.max()), 1),
        data.type_weight / max(int(data.type_weight.max()), 1),
    )
    value = data.type_cost / np.maximum(share, 1e-12)
    rules += [_prefer(int(t)) for t in np.argsort(value, kind="stable")[:PREFERRED_TYPES]]
    best: tuple[IntArray, IntArray] | None = None
    best_key = (0, 0)
    for rule in rules:
        types, contents = first_fit_decreasing(data, rule)
        types = tighten(data, types, contents)
        key = (packing_cost(data, types), int(types.shape[0]))
        if best is None or key < best_key:
            best, best_key = (types, contents), key
    assert best is not None
    return best


def single_type_count(data: PackingData, t: int) -> int:
    """Cartons first-fit-decreasing needs to pack every unit that fits type ``t`` into
    cartons of type ``t`` alone: no cheapest packing uses more cartons of that type."""
    keep = data.allowed[:, t]
    if not keep.any():
        return 0
    sub = PackingData(
        item_volume=data.item_volume[keep],
        item_weight=data.item_weight[keep],
        item_quantity=data.item_quantity[keep],
        type_volume=data.type_volume[t : t + 1],
        type_weight=data.type_weight[t : t + 1],
        type_cost=data.type_cost[t : t + 1],
        allowed=np.ones((int(keep.sum()), 1), dtype=np.bool_),
    )
    types, _ = first_fit_decreasing(sub, lambda _d, _k, _n: 0)
    return int(types.shape[0])
