"""OpenAPI examples of ``POST /v1/cartons/pack`` (each parses as its model: a test checks it,
and that the result is the engine's answer to the request)."""

from __future__ import annotations

from typing import Any

PACK_REQUEST: dict[str, Any] = {
    "carton_types": [
        {
            "id": "box-s",
            "inner_length_mm": 300,
            "inner_width_mm": 200,
            "inner_height_mm": 150,
            "max_weight_kg": 10,
            "cost": 0.6,
            "tare_weight_kg": 0.2,
        },
        {
            "id": "box-m",
            "inner_length_mm": 400,
            "inner_width_mm": 300,
            "inner_height_mm": 250,
            "max_weight_kg": 20,
            "cost": 0.9,
            "tare_weight_kg": 0.35,
        },
    ],
    "products": [
        {"sku": "mug", "length_mm": 120, "width_mm": 90, "height_mm": 100, "weight_kg": 0.35},
        {"sku": "teapot", "length_mm": 220, "width_mm": 160, "height_mm": 180, "weight_kg": 1.1},
    ],
    "shipments": [
        {"id": "1001", "lines": [{"sku": "mug", "quantity": 6}]},
        {"id": "1002", "lines": [{"sku": "teapot", "quantity": 2}, {"sku": "mug", "quantity": 4}]},
    ],
    "options": {"time_limit_s": 2, "fill_factor": 0.85},
}
PACK_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "two_shipments": {
        "summary": "Mugs and teapots into two carton sizes, 85% of a carton's volume usable",
        "value": PACK_REQUEST,
    },
}


def _carton(
    carton_id: str, type_id: str, items: list[tuple[str, int]], volume_l: float, kg: float
) -> dict[str, Any]:
    return {
        "carton_id": carton_id,
        "type_id": type_id,
        "items": [{"sku": sku, "quantity": n} for sku, n in items],
        "volume_used_l": volume_l,
        "weight_kg": kg,
        "fill_share": volume_l / (9.0 if type_id == "box-s" else 30.0),
    }


PACK_RESULT: dict[str, Any] = {
    "shipments": [
        {
            "shipment_id": "1001",
            "cartons": [_carton("1001-1", "box-s", [("mug", 6)], 6.48, 2.3)],
            "cost": 0.6,
            "cartons_count": 1,
            "status": "optimal",
            "lower_bound_cost": 0.6,
        },
        {
            "shipment_id": "1002",
            "cartons": [_carton("1002-1", "box-m", [("teapot", 2), ("mug", 4)], 16.992, 3.95)],
            "cost": 0.9,
            "cartons_count": 1,
            "status": "optimal",
            "lower_bound_cost": 0.9,
        },
    ],
    "cost": 1.5,
    "cartons_count": 2,
    "status": "optimal",
    "lower_bound_cost": 1.5,
    "solve_time_s": 0.01,
    "evaluation": {"feasible": True, "violations": [], "cost": 1.5, "cartons_count": 2},
}
