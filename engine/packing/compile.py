"""Request checks and the integer arrays of each shipment's cartonisation.

Scaling (written once, here): volumes in mm³, weights in mg (1e-6 kg), costs in 1/1000 of the
request's currency. A unit's volume and weight are rounded up and a carton's capacities
rounded down (a value within a relative 1e-12 of a whole tick is that tick), so a packing
that fits in ticks fits in real numbers; prices are rounded down, which keeps the solver's
bound a bound on the real cost (and makes the search's costs exact to 0.001).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.errors import InvalidInputError, detail, detail_line
from models.packing import CartonType, PackProduct, PackRequest, PackShipment
from solvers.packing.data import PackingData, fits_mask

VOLUME_PER_MM3 = 1
WEIGHT_PER_KG = 1_000_000
COST_PER_UNIT = 1000
#: The most units of one shipment (keeps the model's sums far inside 64-bit integers).
MAX_UNITS_PER_SHIPMENT = 100_000


def _ticks(value: float, scale: float, up: bool) -> int:
    """``value * scale`` as whole ticks, rounded up or down (a value within a relative 1e-12
    of a whole tick, float noise, is that tick)."""
    scaled = value * scale
    nearest = round(scaled)
    if abs(scaled - nearest) <= 1e-12 * max(1.0, abs(scaled)):
        return int(nearest)
    return math.ceil(scaled) if up else math.floor(scaled)


def _box(product: PackProduct) -> str:
    return f"{product.length_mm:g} x {product.width_mm:g} x {product.height_mm:g} mm"


def inner_volume_mm3(carton: CartonType) -> float:
    """A carton type's inner volume."""
    return carton.inner_length_mm * carton.inner_width_mm * carton.inner_height_mm


def _why_no_carton(product: PackProduct, request: PackRequest) -> str:
    """Why a product fits no carton type: the furthest check its best type passes."""
    dims = sorted((product.length_mm, product.width_mm, product.height_mm))
    fill = request.options.fill_factor
    boxes = [
        c
        for c in request.carton_types
        if all(
            a <= b
            for a, b in zip(
                dims, sorted((c.inner_length_mm, c.inner_width_mm, c.inner_height_mm)), strict=True
            )
        )
    ]
    if not boxes:
        return f"{_box(product)} fits the inner box of no carton type in any orientation"
    strong = [c for c in boxes if product.weight_kg <= c.max_weight_kg - c.tare_weight_kg]
    if not strong:
        most = max(c.max_weight_kg - c.tare_weight_kg for c in boxes)
        return (
            f"weighs {product.weight_kg:g} kg; the carton types it fits hold at most "
            f"{most:g} kg (tare taken off)"
        )
    most_l = max(inner_volume_mm3(c) * fill for c in strong) / 1e6
    volume_l = product.length_mm * product.width_mm * product.height_mm / 1e6
    return (
        f"takes {volume_l:g} l; the carton types it fits hold at most {most_l:g} l at "
        f"fill_factor {fill:g}"
    )


def check_request(request: PackRequest) -> None:
    """Request-level checks; raises :class:`InvalidInputError` naming every bad field."""
    problems: list[dict[str, Any]] = []
    seen: set[object] = set()
    for i, carton in enumerate(request.carton_types):
        if carton.id in seen:
            problems.append(detail(f"carton_types[{i}].id", carton.id, "is a duplicate id"))
        seen.add(carton.id)
        if carton.tare_weight_kg > carton.max_weight_kg:
            why = f"is more than the carton's max_weight_kg {carton.max_weight_kg:g}"
            problems.append(detail(f"carton_types[{i}].tare_weight_kg", carton.tare_weight_kg, why))
    products: dict[str, PackProduct] = {}
    for i, product in enumerate(request.products):
        if product.sku in products:
            problems.append(detail(f"products[{i}].sku", product.sku, "is a duplicate sku"))
        products.setdefault(product.sku, product)
    used: dict[str, None] = {}
    shipment_ids: set[object] = set()
    for i, shipment in enumerate(request.shipments):
        if shipment.id in shipment_ids:
            problems.append(detail(f"shipments[{i}].id", shipment.id, "is a duplicate id"))
        shipment_ids.add(shipment.id)
        units = sum(line.quantity for line in shipment.lines)
        if units > MAX_UNITS_PER_SHIPMENT:
            why = f"units; a shipment has at most {MAX_UNITS_PER_SHIPMENT:,}"
            problems.append(detail(f"shipments[{i}].lines", units, why))
        for j, line in enumerate(shipment.lines):
            if line.sku not in products:
                field = f"shipments[{i}].lines[{j}].sku"
                problems.append(detail(field, line.sku, "is not among the products"))
            used[line.sku] = None
    if not problems:
        for sku in used:
            product = products[sku]
            if not _allowed(request, [product]).any():
                why = _why_no_carton(product, request)
                value = f"{_box(product)}, {product.weight_kg:g} kg"
                problems.append(detail(f"products[sku={sku}]", value, why))
    if problems:
        message = detail_line(problems[0])
        if len(problems) > 1:
            message = f"{len(problems)} problems; the first: {message}"
        raise InvalidInputError(message, problems)


def _allowed(request: PackRequest, products: list[PackProduct]) -> np.ndarray[Any, Any]:
    """``[K, T]``: a unit fits the carton on its own (orientation, volume and weight)."""
    item_dims = np.array([[p.length_mm, p.width_mm, p.height_mm] for p in products])
    box_dims = np.array(
        [[c.inner_length_mm, c.inner_width_mm, c.inner_height_mm] for c in request.carton_types]
    )
    volume = np.array([_ticks(float(np.prod(d)), VOLUME_PER_MM3, True) for d in item_dims])
    weight = np.array([_ticks(p.weight_kg, WEIGHT_PER_KG, True) for p in products])
    caps = carton_capacities(request)
    return (
        fits_mask(item_dims, box_dims) & (volume[:, None] <= caps[0]) & (weight[:, None] <= caps[1])
    )


def carton_capacities(request: PackRequest) -> tuple[np.ndarray[Any, Any], ...]:
    """Volume ticks, weight ticks and price ticks of every carton type."""
    fill = request.options.fill_factor
    cartons = request.carton_types
    volume = [_ticks(inner_volume_mm3(c) * fill, VOLUME_PER_MM3, False) for c in cartons]
    weight = [
        max(_ticks(c.max_weight_kg - c.tare_weight_kg, WEIGHT_PER_KG, False), 0) for c in cartons
    ]
    cost = [_ticks(c.cost, COST_PER_UNIT, False) for c in cartons]
    return (
        np.array(volume, dtype=np.int64),
        np.array(weight, dtype=np.int64),
        np.array(cost, dtype=np.int64),
    )


@dataclass(frozen=True)
class CompiledShipment:
    """One shipment's arrays, and the skus behind their rows."""

    shipment: PackShipment
    skus: list[str]
    data: PackingData


def compile_shipment(request: PackRequest, shipment: PackShipment) -> CompiledShipment:
    """The shipment's units (lines of one sku added up, in order of first line) as arrays."""
    quantity: dict[str, int] = {}
    for line in shipment.lines:
        quantity[line.sku] = quantity.get(line.sku, 0) + line.quantity
    by_sku = {p.sku: p for p in request.products}
    products = [by_sku[sku] for sku in quantity]
    volume, weight, cost = carton_capacities(request)
    data = PackingData(
        item_volume=np.array(
            [
                _ticks(p.length_mm * p.width_mm * p.height_mm, VOLUME_PER_MM3, True)
                for p in products
            ],
            dtype=np.int64,
        ),
        item_weight=np.array(
            [_ticks(p.weight_kg, WEIGHT_PER_KG, True) for p in products], dtype=np.int64
        ),
        item_quantity=np.array(list(quantity.values()), dtype=np.int64),
        type_volume=volume,
        type_weight=weight,
        type_cost=cost,
        allowed=_allowed(request, products),
    )
    return CompiledShipment(shipment, list(quantity), data)
