"""OpenAPI examples of the tracking endpoints (each one parses as its model, and the page is
rendered from its public example: a test checks both)."""

from __future__ import annotations

from typing import Any

from engine.tracking.page import render
from models.tracking import PublicTracking

_TOKEN = "Xq3v9Lk2RwYpT7bNcM4sH8dJfA1eGuZo"

#: An order out for delivery, two stops before it, the van seen five minutes ago.
ORDER_TRACKING: dict[str, Any] = {
    "order_id": "1001",
    "channel": "web",
    "status": "shipped",
    "tracking_url": f"/track/{_TOKEN}",
    "route_id": "7c1e9a34-2b5d-4f60-8e1a-3d9b2c4f5a61",
    "route_status": "dispatched",
    "stop_id": "1001@wh-1",
    "stop_status": "pending",
    "stops_before": 2,
    "eta_start_time": "2026-12-02T10:05:00Z",
    "planned_start_time": "2026-12-02T09:50:00Z",
    "window_start_time": "2026-12-02T09:00:00Z",
    "window_end_time": "2026-12-02T12:00:00Z",
    "at_risk": False,
    "vehicle_position": [-8.615, 41.152],
    "vehicle_position_at": "2026-12-02T09:20:00Z",
    "last_event_at": None,
    "proof": None,
    "failure_reason": None,
}

#: The same order, delivered.
ORDER_DELIVERED: dict[str, Any] = {
    **ORDER_TRACKING,
    "status": "delivered",
    "stop_status": "delivered",
    "stops_before": 0,
    "last_event_at": "2026-12-02T10:07:00Z",
    "proof": {"signature_name": "A. Costa", "photo_ref": "photos/1001.jpg", "note": None},
}

#: What its customer's page shows.
PUBLIC_TRACKING: dict[str, Any] = {
    "order_id": "1001",
    "status": "shipped",
    "stop_status": "pending",
    "stops_before": 2,
    "eta_start_time": "2026-12-02T10:05:00Z",
    "planned_start_time": "2026-12-02T09:50:00Z",
    "window_start_time": "2026-12-02T09:00:00Z",
    "window_end_time": "2026-12-02T12:00:00Z",
    "delivered_at": None,
    "received_by": None,
}

#: The page itself.
PAGE: str = render(PublicTracking.model_validate(PUBLIC_TRACKING))
