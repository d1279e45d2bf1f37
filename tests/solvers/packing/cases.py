"""Small cartonisation requests written out by hand, and a brute-force optimum."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from models.packing import PackRequest


def carton(
    id: str, dims: tuple[float, float, float], cost: float, max_kg: float = 100, tare_kg: float = 0
) -> dict[str, Any]:
    """A carton type of inner box ``dims`` (mm)."""
    return {
        "id": id,
        "inner_length_mm": dims[0],
        "inner_width_mm": dims[1],
        "inner_height_mm": dims[2],
        "max_weight_kg": max_kg,
        "cost": cost,
        "tare_weight_kg": tare_kg,
    }


def product(sku: str, dims: tuple[float, float, float], kg: float = 0.0) -> dict[str, Any]:
    """A product of outer box ``dims`` (mm)."""
    return {
        "sku": sku,
        "length_mm": dims[0],
        "width_mm": dims[1],
        "height_mm": dims[2],
        "weight_kg": kg,
    }


def request(
    cartons: list[dict[str, Any]],
    products: list[dict[str, Any]],
    lines: dict[str, int],
    fill_factor: float = 1.0,
    time_limit_s: float = 2.0,
) -> PackRequest:
    """One shipment ``s1`` of ``lines`` (sku -> units)."""
    return PackRequest.model_validate(
        {
            "carton_types": cartons,
            "products": products,
            "shipments": [
                {"id": "s1", "lines": [{"sku": k, "quantity": n} for k, n in lines.items()]}
            ],
            "options": {"time_limit_s": time_limit_s, "fill_factor": fill_factor},
        }
    )


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every set partition of ``items``."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]
        yield [[first], *part]


def brute_force_optimum(req: PackRequest) -> tuple[float, int]:
    """(cost, cartons) of the cheapest, then fewest-carton, packing of shipment 0, by
    enumerating every partition of its units and giving each block its cheapest carton."""
    products = {p.sku: p for p in req.products}
    units = [products[line.sku] for line in req.shipments[0].lines for _ in range(line.quantity)]
    fill = req.options.fill_factor

    def block_cost(block: list[int]) -> float | None:
        volume = sum(units[i].length_mm * units[i].width_mm * units[i].height_mm for i in block)
        weight = sum(units[i].weight_kg for i in block)
        best: float | None = None
        for c in req.carton_types:
            box = (c.inner_length_mm, c.inner_width_mm, c.inner_height_mm)
            fits = all(
                any(
                    all(e <= b for e, b in zip(turn, box, strict=True))
                    for turn in itertools.permutations(
                        (units[i].length_mm, units[i].width_mm, units[i].height_mm)
                    )
                )
                for i in block
            )
            room = c.inner_length_mm * c.inner_width_mm * c.inner_height_mm * fill
            if (
                fits
                and volume <= room + 1e-6
                and weight + c.tare_weight_kg <= c.max_weight_kg + 1e-9
            ):
                best = c.cost if best is None else min(best, c.cost)
        return best

    cache: dict[tuple[int, ...], float | None] = {}
    best_key = (float("inf"), 0)
    for part in _partitions(list(range(len(units)))):
        total = 0.0
        for block in part:
            key = tuple(sorted(block))
            if key not in cache:
                cache[key] = block_cost(block)
            cost = cache[key]
            if cost is None:
                break
            total += cost
        else:
            best_key = min(best_key, (round(total, 9), len(part)))
    return best_key
