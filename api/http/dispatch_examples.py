"""OpenAPI examples of the dispatch endpoints (each one parses as its model: a test checks
it)."""

from __future__ import annotations

from typing import Any

_ROUTE = "7c1e9a34-2b5d-4f60-8e1a-3d9b2c4f5a61"
_PLAN = "c2a7e0d4-91b3-4c5e-a6f8-0d2e4b6a8c10"
_DAY = "2026-12-02T00:00:00Z"


def _stop(position: int, stop_id: str, order_id: str | None, **times: Any) -> dict[str, Any]:
    return {
        "position": position,
        "stop_id": stop_id,
        "kind": "job" if order_id else "end",
        "order_id": order_id,
        "channel": "web" if order_id else None,
        "status": "pending",
        "window_start_s": 32400.0 if order_id else None,
        "window_end_s": 39600.0 if order_id else None,
        "service_s": 300.0 if order_id else 0.0,
        "travel_s": 900.0,
        "planned_arrival_s": 32100.0,
        "planned_start_s": 32400.0,
        "eta_arrival_s": 32100.0,
        "eta_start_s": 32400.0,
        "planned_arrival_time": "2026-12-02T08:55:00Z",
        "eta_arrival_time": "2026-12-02T08:55:00Z",
        "eta_start_time": "2026-12-02T09:00:00Z",
        "at_risk": False,
        "last_event_at": None,
        "proof": None,
        "reason": None,
        **times,
    }


ROUTE: dict[str, Any] = {
    "route_id": _ROUTE,
    "plan_id": _PLAN,
    "site_id": "wh-1",
    "vehicle_id": "van-1",
    "status": "dispatched",
    "day_start": _DAY,
    "dispatched_at": "2026-12-02T08:30:00Z",
    "position": [-8.615, 41.152],
    "position_at": "2026-12-02T09:20:00Z",
    "stops": [
        _stop(
            1,
            "o-1@wh-1",
            "o-1",
            status="delivered",
            eta_arrival_s=32700.0,
            eta_start_s=32700.0,
            eta_arrival_time="2026-12-02T09:05:00Z",
            eta_start_time="2026-12-02T09:05:00Z",
            last_event_at="2026-12-02T09:10:00Z",
            proof={"signature_name": "A. Costa", "photo_ref": None, "note": None},
        ),
        _stop(
            2,
            "end",
            None,
            planned_arrival_s=34200.0,
            planned_start_s=34200.0,
            eta_arrival_s=34500.0,
            eta_start_s=34500.0,
            planned_arrival_time="2026-12-02T09:30:00Z",
            eta_arrival_time="2026-12-02T09:35:00Z",
            eta_start_time="2026-12-02T09:35:00Z",
        ),
    ],
}
EVENT_IN: dict[str, Any] = {
    "type": "delivered",
    "stop_id": "o-1@wh-1",
    "at": "2026-12-02T09:10:00+00:00",
    "position": [-8.61, 41.15],
    "proof": {"signature_name": "A. Costa"},
}
EVENT_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "delivered": {"summary": "Delivered, signed for", "value": EVENT_IN},
    "arrived": {
        "summary": "Arrived at a stop",
        "value": {"type": "arrived", "stop_id": "o-1@wh-1", "at": "2026-12-02T09:05:00+00:00"},
    },
    "failed": {
        "summary": "Nobody home",
        "value": {
            "type": "failed",
            "stop_id": "o-1@wh-1",
            "at": "2026-12-02T09:10:00+00:00",
            "reason": "nobody home",
        },
    },
}
EVENT_RESULT: dict[str, Any] = {"applied": True, "route": ROUTE}
POSITION_IN: dict[str, Any] = {"at": "2026-12-02T09:20:00+00:00", "position": [-8.615, 41.152]}
POSITION_IN_EXAMPLES: dict[str, dict[str, Any]] = {
    "on_the_way": {"summary": "The van between two stops", "value": POSITION_IN}
}
POSITION_RESULT: dict[str, Any] = {"vehicle_id": "van-1", "routes": [ROUTE]}
