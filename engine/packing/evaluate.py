"""The independent checker of a cartonisation: recomputes everything from the request.

It shares no code with the compile step or the solver: volumes, weights and orientations
are recomputed in floats from the request (every permutation of a unit's edges tried against
the carton's inner box), and a carton's volume and weight are compared with its capacity
within a relative 1e-9. Every shipment's units must all be packed, once; the reported
volumes, weights, counts and costs must match their recomputation. A violation's
``order_id`` is the shipment's id; its message names the carton.
"""

from __future__ import annotations

import itertools
from collections import Counter

from models.common import Id
from models.packing import (
    CartonType,
    PackedCarton,
    PackedShipment,
    PackEvaluation,
    PackProduct,
    PackRequest,
    PackResult,
)
from models.status import ViolationCode
from models.verdict import Violation

_REL = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _within(used: float, capacity: float) -> bool:
    return used <= capacity * (1 + _REL) + 1e-12


def _fits(product: PackProduct, carton: CartonType) -> bool:
    """Whether the product fits the inner box in one of its six orientations."""
    box = (carton.inner_length_mm, carton.inner_width_mm, carton.inner_height_mm)
    edges = (product.length_mm, product.width_mm, product.height_mm)
    return any(
        all(e <= b * (1 + _REL) for e, b in zip(turn, box, strict=True))
        for turn in itertools.permutations(edges)
    )


class _Checker:
    """Collects the violations of one result."""

    def __init__(self, request: PackRequest) -> None:
        self.request = request
        self.types = {c.id: c for c in request.carton_types}
        self.products = {p.sku: p for p in request.products}
        self.violations: list[Violation] = []

    def add(self, code: ViolationCode, message: str, shipment_id: Id | None = None) -> None:
        self.violations.append(Violation(code=code, message=message, order_id=shipment_id))

    def carton(self, shipment_id: Id, carton: PackedCarton) -> tuple[float, Counter[str]]:
        """Check one carton; its price (0 when its type is unknown) and its units."""
        units: Counter[str] = Counter()
        for item in carton.items:
            if item.quantity <= 0:
                self.add(
                    ViolationCode.PACKED_QUANTITY_MISMATCH,
                    f"carton {carton.carton_id}: {item.quantity} units of {item.sku!r}",
                    shipment_id,
                )
            units[item.sku] += item.quantity
        kind = self.types.get(carton.type_id)
        if kind is None:
            self.add(
                ViolationCode.UNKNOWN_CARTON_TYPE,
                f"carton {carton.carton_id}: no carton type {carton.type_id!r}",
                shipment_id,
            )
            return 0.0, units
        volume_mm3, weight_kg = 0.0, kind.tare_weight_kg
        for sku, n in units.items():
            product = self.products.get(sku)
            if product is None:
                continue  # the shipment's count reports it
            volume_mm3 += product.length_mm * product.width_mm * product.height_mm * n
            weight_kg += product.weight_kg * n
            if not _fits(product, kind):
                self.add(
                    ViolationCode.ITEM_DOES_NOT_FIT,
                    f"carton {carton.carton_id}: {sku!r} fits no orientation of type "
                    f"{kind.id!r}'s inner box",
                    shipment_id,
                )
        inner_mm3 = kind.inner_length_mm * kind.inner_width_mm * kind.inner_height_mm
        room_mm3 = inner_mm3 * self.request.options.fill_factor
        if not _within(volume_mm3, room_mm3):
            self.add(
                ViolationCode.CARTON_OVERFILL,
                f"carton {carton.carton_id}: units take {volume_mm3 / 1e6:g} l, more than "
                f"{room_mm3 / 1e6:g} l",
                shipment_id,
            )
        if not _within(weight_kg, kind.max_weight_kg):
            self.add(
                ViolationCode.CARTON_OVERWEIGHT,
                f"carton {carton.carton_id}: weighs {weight_kg:g} kg, more than "
                f"{kind.max_weight_kg:g} kg",
                shipment_id,
            )
        reported = (carton.volume_used_l, carton.weight_kg, carton.fill_share)
        actual = (volume_mm3 / 1e6, weight_kg, volume_mm3 / inner_mm3)
        if not all(_close(a, b) for a, b in zip(reported, actual, strict=True)):
            self.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"carton {carton.carton_id}: reports (volume_used_l, weight_kg, fill_share) "
                f"{reported}, recomputed {actual}",
                shipment_id,
            )
        return kind.cost, units

    def shipment(self, packed: PackedShipment, wanted: Counter[str]) -> float:
        """Check one shipment's cartons against its lines; its recomputed cost."""
        sid = packed.shipment_id
        cost, units = 0.0, Counter[str]()
        for carton in packed.cartons:
            price, inside = self.carton(sid, carton)
            cost += price
            units.update(inside)
        for sku in sorted(set(wanted) | set(units)):
            if wanted[sku] != units[sku]:
                self.add(
                    ViolationCode.PACKED_QUANTITY_MISMATCH,
                    f"shipment {sid!r}: {units[sku]} units of {sku!r} packed, "
                    f"{wanted[sku]} ordered",
                    sid,
                )
        ids = [c.carton_id for c in packed.cartons]
        if packed.cartons_count != len(ids) or len(set(ids)) != len(ids):
            self.add(
                ViolationCode.SUMMARY_MISMATCH,
                f"shipment {sid!r}: cartons_count {packed.cartons_count} for {len(ids)} "
                f"cartons ({len(set(ids))} distinct ids)",
                sid,
            )
        if not _close(packed.cost, cost):
            self.add(
                ViolationCode.COST_MISMATCH,
                f"shipment {sid!r}: cost {packed.cost:g}, recomputed {cost:g}",
                sid,
            )
        if packed.lower_bound_cost > cost + 1e-6 * max(1.0, cost):
            self.add(
                ViolationCode.COST_MISMATCH,
                f"shipment {sid!r}: lower_bound_cost {packed.lower_bound_cost:g} is above "
                f"the cost {cost:g}",
                sid,
            )
        return cost


def evaluate_packing(request: PackRequest, result: PackResult) -> PackEvaluation:
    """The verdict on ``result`` as a packing of ``request``."""
    check = _Checker(request)
    wanted: dict[Id, Counter[str]] = {}
    for shipment in request.shipments:
        lines: Counter[str] = Counter()
        for line in shipment.lines:
            lines[line.sku] += line.quantity
        wanted[shipment.id] = lines
    seen: set[Id] = set()
    cost, cartons = 0.0, 0
    for packed in result.shipments:
        sid = packed.shipment_id
        if sid not in wanted or sid in seen:
            why = "is packed twice" if sid in seen else "is not in the request"
            check.add(ViolationCode.PACKED_QUANTITY_MISMATCH, f"shipment {sid!r} {why}", sid)
            continue
        seen.add(sid)
        cost += check.shipment(packed, wanted[sid])
        cartons += len(packed.cartons)
    for sid in wanted:
        if sid not in seen:
            check.add(
                ViolationCode.PACKED_QUANTITY_MISMATCH, f"shipment {sid!r} is not packed", sid
            )
    if not _close(result.cost, cost) or result.lower_bound_cost > cost + 1e-6 * max(1.0, cost):
        check.add(
            ViolationCode.COST_MISMATCH,
            f"cost {result.cost:g} (lower bound {result.lower_bound_cost:g}), recomputed {cost:g}",
        )
    if result.cartons_count != cartons:
        check.add(
            ViolationCode.SUMMARY_MISMATCH,
            f"cartons_count {result.cartons_count}, recomputed {cartons}",
        )
    return PackEvaluation(
        feasible=not check.violations,
        violations=check.violations,
        cost=cost,
        cartons_count=cartons,
    )
