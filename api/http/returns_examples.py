"""OpenAPI examples of the returns endpoints (each one parses as its model: a test checks
it)."""

from __future__ import annotations

from typing import Any

_AT = "2026-12-03T10:15:00Z"

RETURN_IN: dict[str, Any] = {
    "order_id": "1001",
    "channel": "web",
    "lines": [{"line_id": "1", "quantity": 1}],
    "reason": "arrived chipped",
}
RETURN_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "one_mug": {"summary": "One of the two mugs of an order goes back", "value": RETURN_IN},
    "by_sku": {
        "summary": "The line named by its sku",
        "value": {**RETURN_IN, "lines": [{"sku": "mug", "quantity": 2}], "reason": "not needed"},
    },
}
RETURN_RECORD: dict[str, Any] = {
    "id": "ret_4f1c2a9b0d3e5f67",
    "order_id": "1001",
    "channel": "web",
    "status": "approved",
    "reason": "arrived chipped",
    "site_id": "wh-1",
    "received_site_id": None,
    "location": [-8.6, 41.16],
    "lines": [{"line_id": "1", "sku": "mug", "quantity": 1}],
    "pickup": {"plan_id": None, "route_id": None, "stop_id": None, "picked_up_at": None},
    "created_at": _AT,
    "updated_at": _AT,
    "created_by": "web-shop",
    "history": [
        {
            "at": _AT,
            "event": "status",
            "from_status": None,
            "to_status": "requested",
            "cause": "api",
            "actor": "web-shop",
            "note": "arrived chipped",
        },
        {
            "at": _AT,
            "event": "status",
            "from_status": "requested",
            "to_status": "approved",
            "cause": "api",
            "actor": "support",
            "note": None,
        },
    ],
}
RETURN_PAGE: dict[str, Any] = {"returns": [RETURN_RECORD], "next_cursor": None}
NOTE_EXAMPLES: dict[str, dict[str, Any]] = {
    "note": {"summary": "A note kept in the history", "value": {"note": "photo checked"}},
}
RECEIVE_EXAMPLES: dict[str, dict[str, Any]] = {
    "at_site": {
        "summary": "Received at a site (default: the return's own)",
        "value": {"site_id": "wh-1", "note": "box intact"},
    },
}
