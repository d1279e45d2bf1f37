"""OpenAPI examples of the pick-and-pack endpoints (each one parses as its model: a test
checks it)."""

from __future__ import annotations

from typing import Any

from api.http.packing_examples import PACK_REQUEST

_PLAN = "c2a7e0d4-91b3-4c5e-a6f8-0d2e4b6a8c10"
_ROUTE = "7c1e9a34-2b5d-4f60-8e1a-3d9b2c4f5a61"
_AT = "2026-12-02T07:10:00Z"

PRODUCT_IN: dict[str, Any] = {
    "length_mm": 220,
    "width_mm": 160,
    "height_mm": 180,
    "weight_kg": 1.1,
}
PRODUCT_IN_EXAMPLES = {"kettle": {"summary": "A boxed kettle", "value": PRODUCT_IN}}
PRODUCT: dict[str, Any] = {"sku": "kettle", **PRODUCT_IN, "updated_at": _AT}
PRODUCTS: dict[str, Any] = {"products": [PRODUCT]}

#: The boxes of ``POST /v1/cartons/pack``'s example, as a site stocks them.
CARTON_TYPES: list[dict[str, Any]] = PACK_REQUEST["carton_types"]
CARTON_TYPES_EXAMPLES = {
    "two_boxes": {"summary": "A small and a medium box", "value": CARTON_TYPES}
}
SITE_CARTONS: dict[str, Any] = {"site_id": "wh-1", "carton_types": CARTON_TYPES}

BINS_IN_EXAMPLES = {
    "by_sku": {"summary": "sku -> bin location", "value": {"kettle": "A-2", "toaster": "A-10"}},
    "list": {
        "summary": "a list of bins",
        "value": [
            {"sku": "kettle", "bin_location": "A-2"},
            {"sku": "toaster", "bin_location": "A-10"},
        ],
    },
}
SITE_BINS: dict[str, Any] = {
    "site_id": "wh-1",
    "bins": [
        {"sku": "kettle", "bin_location": "A-2"},
        {"sku": "toaster", "bin_location": "A-10"},
    ],
}


def _line(order_id: str, line_id: str, sku: str, units: int, bin_location: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "channel": "web",
        "line_id": line_id,
        "sku": sku,
        "units": units,
        "bin_location": bin_location,
    }


PICK_LIST: dict[str, Any] = {
    "plan_id": _PLAN,
    "site_id": "wh-1",
    "units": 5,
    "groups": [
        {
            "kind": "van",
            "vehicle_id": "van-1",
            "route_id": _ROUTE,
            "stops": [
                {
                    "shipment_id": "o-2@wh-1",
                    "order_id": "o-2",
                    "channel": "web",
                    "order_status": "allocated",
                    "mode": "van",
                    "position": 2,
                    "lines": [
                        _line("o-2", "1", "kettle", 1, "A-2"),
                        _line("o-2", "2", "toaster", 1, "A-10"),
                    ],
                },
                {
                    "shipment_id": "o-1@wh-1",
                    "order_id": "o-1",
                    "channel": "web",
                    "order_status": "allocated",
                    "mode": "van",
                    "position": 1,
                    "lines": [_line("o-1", "1", "kettle", 2, "A-2")],
                },
            ],
            "totals": [{"sku": "kettle", "units": 3}, {"sku": "toaster", "units": 1}],
        },
        {
            "kind": "carrier",
            "vehicle_id": None,
            "route_id": None,
            "stops": [
                {
                    "shipment_id": "o-3@wh-1",
                    "order_id": "o-3",
                    "channel": "web",
                    "order_status": "allocated",
                    "mode": "carrier",
                    "position": None,
                    "lines": [_line("o-3", "1", "toaster", 1, "A-10")],
                }
            ],
            "totals": [{"sku": "toaster", "units": 1}],
        },
    ],
}

PACK_IN: dict[str, Any] = {"shipment_ids": ["o-1@wh-1"], "time_limit_s": 2, "fill_factor": 0.9}
PACK_IN_EXAMPLES = {
    "all": {"summary": "Every shipment of the site", "value": {}},
    "one": {"summary": "One shipment, 90% fill", "value": PACK_IN},
}
_CARTON: dict[str, Any] = {
    "carton_index": 1,
    "type_id": "box-m",
    "items": [{"sku": "kettle", "quantity": 2}],
    "weight_kg": 2.55,
    "volume_l": 12.672,
    "fill_share": 0.4224,
    "cost": 0.9,
    "tracking_code": "RP4K7Q2M9X3VTA",
}
PACK_OUTCOME: dict[str, Any] = {
    "plan_id": _PLAN,
    "site_id": "wh-1",
    "shipments": [
        {
            "shipment_id": "o-1@wh-1",
            "order_id": "o-1",
            "channel": "web",
            "status": "optimal",
            "cartons": [_CARTON],
            "cartons_count": 1,
            "carton_cost": 0.9,
            "shipment_cost": 4.1,
            "total_cost": 5.0,
        }
    ],
    "carton_cost": 0.9,
    "cartons_count": 1,
}
SHIPMENT_MARK: dict[str, Any] = {
    "plan_id": _PLAN,
    "shipment_id": "o-1@wh-1",
    "order_id": "o-1",
    "channel": "web",
    "order_status": "packed",
    "picked_at": "2026-12-02T07:20:00Z",
    "packed_at": "2026-12-02T07:31:00Z",
    "cartons_count": 1,
}
#: What a label's response is: a PDF, or a PNG (binary; shown here by its first bytes).
LABEL_CONTENT: dict[str, Any] = {
    "content": {
        "application/pdf": {
            "schema": {"type": "string", "format": "binary"},
            "example": "%PDF-1.4 ... (one 100 x 150 mm page per carton)",
        },
        "image/png": {
            "schema": {"type": "string", "format": "binary"},
            "example": "\\x89PNG ... (799 x 1199 pixels, 203 dpi)",
        },
    },
    "description": "the labels",
}
