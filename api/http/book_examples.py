"""OpenAPI examples of the order book's endpoints (each one parses as its model: a test
checks it)."""

from __future__ import annotations

from typing import Any

_AT = "2026-12-01T09:30:00Z"

ORDER_IN: dict[str, Any] = {
    "id": "1001",
    "channel": "web",
    "location": [-8.60, 41.16],
    "address": "Rua das Flores 12, Porto",
    "lines": [{"id": "1", "sku": "mug", "quantity": 2}],
    "promised_date": "2026-12-03",
    "delivery_windows": [{"start": "2026-12-02T09:00:00Z", "end": "2026-12-02T13:00:00Z"}],
    "payment_status": "pending",
}
ORDER_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "web_order": {"summary": "A web order waiting for its payment", "value": ORDER_IN},
}
ORDER_RECORD: dict[str, Any] = {
    "id": "1001",
    "channel": "web",
    "status": "on_hold",
    "hold_reason": "payment_pending",
    "status_detail": None,
    "warnings": [],
    "location": [-8.6, 41.16],
    "address": "Rua das Flores 12, Porto",
    "lines": [{"id": "1", "sku": "mug", "quantity": 2, "reserved": 0, "shipped": 0}],
    "placed_at": None,
    "promised_date": "2026-12-03",
    "priority": 1,
    "delivery_windows": [{"start": "2026-12-02T09:00:00Z", "end": "2026-12-02T13:00:00Z"}],
    "service_s": None,
    "ship_complete": False,
    "max_shipments": None,
    "payment_status": "pending",
    "payment_reference": None,
    "payment_gateway": "manual",
    "plan_id": None,
    "site_ids": [],
    "created_at": _AT,
    "updated_at": _AT,
    "created_by": "web-shop",
}
ORDER_PAGE: dict[str, Any] = {"orders": [ORDER_RECORD], "next_cursor": "1"}
HISTORY: dict[str, Any] = {
    "order_id": "1001",
    "channel": "web",
    "transitions": [
        {
            "at": _AT,
            "from_status": None,
            "to_status": "received",
            "cause": "capture",
            "actor": "web-shop",
            "reason": None,
        },
        {
            "at": _AT,
            "from_status": "received",
            "to_status": "on_hold",
            "cause": "capture",
            "actor": "web-shop",
            "reason": "payment_pending",
        },
    ],
}
PAYMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "authorised": {
        "summary": "The gateway authorised the payment",
        "value": {"status": "authorised", "reference": "psp-778"},
    },
}
STATUS_EXAMPLES: dict[str, dict[str, Any]] = {
    "picking": {"summary": "Picking started", "value": {"status": "picking"}},
}
IMPORT_REPORT: dict[str, Any] = {
    "mode": "per_row",
    "orders_read": 3,
    "orders_stored": 2,
    "orders_replayed": 0,
    "orders_refused": 1,
    "errors": [
        {
            "row": 4,
            "column": "quantity",
            "value": "-1",
            "message": "must be at least 1",
            "order_id": "1003",
        }
    ],
    "order_ids": ["1001", "1002"],
}
SITE_IN: dict[str, Any] = {
    "kind": "warehouse",
    "location": [-8.61, 41.15],
    "capacity_orders": 500,
    "opening_hours": [[28800, 64800]],
}
SITE_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "warehouse": {"summary": "A warehouse open 08:00-18:00", "value": SITE_IN},
}
SITE_RECORD: dict[str, Any] = {
    "id": "porto-w1",
    "kind": "warehouse",
    "location": [-8.61, 41.15],
    "capacity_orders": 500,
    "capacity_units": None,
    "handling_cost_per_unit": None,
    "opening_hours": [{"start_s": 28800, "end_s": 64800}],
    "online": True,
    "channels": [],
    "created_at": _AT,
    "updated_at": _AT,
}
MOVEMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "receipt": {
        "summary": "Ten mugs received",
        "value": {"site_id": "porto-w1", "sku": "mug", "quantity": 10, "kind": "receipt"},
    },
    "count": {
        "summary": "A stock count found 9",
        "value": {"site_id": "porto-w1", "sku": "mug", "quantity": 9, "kind": "count"},
    },
}
MOVEMENT: dict[str, Any] = {
    "id": 1,
    "site_id": "porto-w1",
    "sku": "mug",
    "kind": "receipt",
    "quantity": 10,
    "delta": 10,
    "on_hand_after": 10,
    "reference": "po-55",
    "order_id": None,
    "at": _AT,
    "actor": "wms",
}
LEVEL: dict[str, Any] = {
    "site_id": "porto-w1",
    "sku": "mug",
    "on_hand": 10,
    "reserved": 2,
    "safety_stock": 1,
    "available": 7,
}
STOCK_PAGE: dict[str, Any] = {"levels": [LEVEL]}
SAFETY_EXAMPLES: dict[str, dict[str, Any]] = {
    "one": {"summary": "Keep one back", "value": {"safety_stock": 1}},
}
RESERVATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "two_mugs": {
        "summary": "Hold two mugs for line 1 of order 1001",
        "value": {
            "order_id": "1001",
            "line_id": "1",
            "site_id": "porto-w1",
            "sku": "mug",
            "quantity": 2,
        },
    },
}
RESERVATION: dict[str, Any] = {
    "id": "5b0d8c1e-8a51-4d43-9d8e-3f0f3b8f3a10",
    "order_id": "1001",
    "channel": "web",
    "line_id": "1",
    "site_id": "porto-w1",
    "sku": "mug",
    "quantity": 2,
    "status": "active",
    "plan_id": None,
    "created_at": _AT,
    "ended_at": None,
    "created_by": "planner",
}
BOOK_PLAN_REQUEST: dict[str, Any] = {
    "from_book": {"date": "2026-12-02", "site_ids": ["porto-w1"]},
    "fleet": [{"id": "van-1", "site_id": "porto-w1", "capacity": {"weight_kg": 600}}],
    "options": {"routing_time_limit_s": 2},
}
COMMIT_RESULT: dict[str, Any] = {
    "plan_id": "0b6f2c1e-3c0b-4b7e-9a55-1f1d2b3c4d5e",
    "status": "committed",
    "reservations": 1,
    "units_reserved": 2,
    "orders": [{"order_id": "1001", "channel": "web", "status": "allocated", "detail": None}],
}


#: A re-plan at 11:00: three urgent orders added, one cancelled.
REPLAN_EXAMPLES = {
    "urgent_orders": {
        "summary": "Three urgent orders at 11:00, one cancelled",
        "value": {
            "add_orders": ["U-1", "U-2", {"order_id": "U-3", "channel": "api"}],
            "cancel_orders": ["A-1002"],
            "at": "2026-12-02T11:00:00+00:00",
            "options": {"reassign_penalty": 2.0, "routing_time_limit_s": 2.0},
        },
    }
}
PLAN_PAGE: dict[str, Any] = {
    "plans": [
        {
            "id": "6f1c2a9e-0d4b-4c1e-9a57-3b2f8e1d7c40",
            "status": "committed",
            "source": "book",
            "plan_date": "2026-12-02",
            "created_at": _AT,
            "committed_at": "2026-12-01T09:31:00Z",
            "kpis": {
                "cost": 22.5,
                "carrier_cost": 10.03,
                "routing_cost": 10.87,
                "distance_m": 8478.6,
                "vehicles_used": 1,
                "orders": 3,
                "orders_complete": 3,
                "shipments": 3,
                "shipments_by_van": 2,
                "shipments_by_carrier": 1,
                "splits": 0,
                "on_time_share": 1.0,
            },
        }
    ],
    "next_cursor": None,
}
