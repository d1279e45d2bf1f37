"""OpenAPI examples of the webhook and event endpoints (each one parses as its model: a test
checks it)."""

from __future__ import annotations

from typing import Any

_AT = "2026-12-01T09:30:00Z"
_HOOK = "5b0e4a52-7f0c-4d63-9f0e-2f1f1c3b9a10"
_EVENT = "0f6e2d9c-3b7a-4e51-8c2d-6a4b1e9f7c35"

WEBHOOK_IN: dict[str, Any] = {
    "url": "https://shop.example.com/hooks/routeplan",
    "events": ["order.status_changed", "plan.committed"],
    "secret": "whsec-3f9c1d7e5b2a4c6e",
}
WEBHOOK_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "orders_and_plans": {"summary": "Order moves and plan commits", "value": WEBHOOK_IN},
    "everything": {
        "summary": "Every event",
        "value": {**WEBHOOK_IN, "events": ["*"]},
    },
}
WEBHOOK: dict[str, Any] = {
    "id": _HOOK,
    "url": WEBHOOK_IN["url"],
    "events": WEBHOOK_IN["events"],
    "created_at": _AT,
    "disabled_at": None,
    "created_by": "ops",
}
WEBHOOK_LIST: dict[str, Any] = {"webhooks": [WEBHOOK]}
DISABLED_WEBHOOK: dict[str, Any] = {**WEBHOOK, "disabled_at": "2026-12-02T08:00:00Z"}
DELIVERY_LIST: dict[str, Any] = {
    "webhook_id": _HOOK,
    "deliveries": [
        {
            "id": "9d3c2b1a-0f4e-4d5c-8b7a-6e5f4d3c2b1a",
            "webhook_id": _HOOK,
            "event_id": _EVENT,
            "event_type": "order.status_changed",
            "status": "delivered",
            "attempt": 2,
            "http_status": 200,
            "error": None,
            "next_attempt_at": None,
            "created_at": _AT,
            "delivered_at": "2026-12-01T09:30:02Z",
            "attempts": [
                {
                    "attempt": 1,
                    "at": "2026-12-01T09:30:00Z",
                    "http_status": 500,
                    "error": "the receiver answered HTTP 500",
                    "duration_ms": 41,
                },
                {
                    "attempt": 2,
                    "at": "2026-12-01T09:30:02Z",
                    "http_status": 200,
                    "error": None,
                    "duration_ms": 35,
                },
            ],
        }
    ],
}
EVENT: dict[str, Any] = {
    "id": _EVENT,
    "seq": 42,
    "type": "order.status_changed",
    "created_at": _AT,
    "data": {
        "order_id": "1001",
        "channel": "web",
        "from": "on_hold",
        "to": "ready",
        "cause": "payment",
        "reason": None,
    },
}
EVENT_PAGE: dict[str, Any] = {"events": [EVENT], "next_after": 42}
#: What the event stream sends for that event.
STREAM_EXAMPLE = (
    f"id: {_EVENT}\nevent: order.status_changed\n"
    'data: {"created_at":"2026-12-01T09:30:00Z","data":{"cause":"payment","channel":"web",'
    '"from":"on_hold","order_id":"1001","reason":null,"to":"ready"},'
    f'"id":"{_EVENT}","seq":42,"type":"order.status_changed"}}\n\n'
)
