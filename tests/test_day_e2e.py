"""A whole day through a real ``routeplan serve`` and a real webhook receiver on 127.0.0.1.

Capture orders, pay, plan, commit; pick, pack (cartons and labels), dispatch; deliver the
first stop of each route, fail one; three urgent orders come in and the day is re-planned;
the re-plan keeps every route's past exactly, serves the new orders, and the ETAs of later
stops follow the events that come after. The receiver checks every signature with its own
HMAC and sees every event of the outbox exactly once; on PostgreSQL it is down until the
re-plan is committed, and the events still arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.http.test_webhooks import SECRET, Receiver
from tests.postgres import fresh_postgres_url
from tests.servers import RealServer, free_port

DAY = dt.date(2026, 12, 2)
DAY_START = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
SITE = [-8.61, 41.15]
VANS = [
    {"id": "van-1", "site_id": "wh-1", "capacity": {"weight_kg": 10}, "shift": [28800, 64800]},
    {"id": "van-2", "site_id": "wh-1", "capacity": {"weight_kg": 10}, "shift": [28800, 64800]},
    {
        "id": "spare",
        "site_id": "wh-1",
        "capacity": {"weight_kg": 10},
        "shift": [28800, 64800],
        "fixed_cost": 10_000.0,
    },
]
FAST_WEBHOOKS = {
    "ROUTEPLAN_WEBHOOK_POLL_S": "0.05",
    "ROUTEPLAN_WEBHOOK_BACKOFF_BASE_S": "0.05",
    "ROUTEPLAN_WEBHOOK_BACKOFF_MAX_S": "0.5",
    "ROUTEPLAN_WEBHOOK_MAX_ATTEMPTS": "1000",
}
WAIT_S = 60.0


def _clock(seconds: float) -> str:
    return (DAY_START + dt.timedelta(seconds=seconds)).isoformat()


def _place(k: int) -> list[float]:
    side = 1 if k % 2 else -1
    return [round(SITE[0] + side * 0.01 * (1 + k // 2), 5), round(SITE[1] + 0.004 * (k % 3), 5)]


def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return (
        answer.json()
        if answer.headers.get("content-type", "").startswith("application/json")
        else None
    )


def _capture(http: httpx.Client, order_id: str, k: int) -> None:
    window = {"start": _clock(9 * 3600), "end": _clock(17 * 3600)}
    body = {
        "id": order_id,
        "channel": "web",
        "location": _place(k),
        "lines": [{"id": "l1", "sku": "kettle", "quantity": 1}],
        "payment_status": "authorised",
        "delivery_windows": [window],
    }
    assert _ok(http.post("/v1/orders", json=body), 201)["status"] == "ready"


def _event(
    http: httpx.Client, route_id: str, kind: str, stop_id: str, t: float, **extra: Any
) -> Any:
    body = {"type": kind, "stop_id": stop_id, "at": _clock(t), **extra}
    return _ok(http.post(f"/v1/routes/{route_id}/events", json=body))


def _visits(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in route["stops"] if s["kind"] in ("job", "delivery", "pickup")]


def _outbox(http: httpx.Client) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _ok(http.get("/v1/events", params={"after": after, "limit": 500}))
        events += page["events"]
        if not page["events"]:
            return events
        after = page["next_after"]


@pytest.fixture(params=["sqlite", "postgresql"])
def day_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[RealServer, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'book.db'}"
        server = RealServer(url, tmp_path / "server.log", FAST_WEBHOOKS)
        server.start()
        try:
            yield server, request.param
        finally:
            server.kill_all()
        return
    with fresh_postgres_url() as url:
        server = RealServer(url, tmp_path / "server.log", FAST_WEBHOOKS)
        server.start()
        try:
            yield server, request.param
        finally:
            server.kill_all()


def _plan_and_pack(http: httpx.Client) -> dict[str, Any]:
    """Plan the day from the book, commit it, pick and pack every shipment, dispatch."""
    body = {
        "from_book": {"date": DAY.isoformat(), "site_ids": ["wh-1"]},
        "fleet": VANS,
        "products": [{"sku": "kettle", "weight_kg": 2.0, "volume_l": 6}],
        "allocation_options": {"time_limit_s": 1.0},
        "options": {"routing_time_limit_s": 1.0, "parallel": False},
    }
    draft = _ok(http.post("/v1/plans", json=body))
    _ok(http.post(f"/v1/plans/{draft['id']}/commit"))
    plan = _ok(http.get(f"/v1/plans/{draft['id']}"))
    picklist = _ok(http.get(f"/v1/plans/{plan['id']}/sites/wh-1/picklist"))
    assert picklist
    packed = _ok(http.post(f"/v1/plans/{plan['id']}/sites/wh-1/pack", json={}))
    shipments = [s["shipment_id"] for s in packed["shipments"]]
    assert len(shipments) == len(plan["shipments"])
    for shipment in shipments:
        _ok(http.post(f"/v1/plans/{plan['id']}/shipments/{shipment}/picked"))
        _ok(http.post(f"/v1/plans/{plan['id']}/shipments/{shipment}/packed"))
    label = http.get(
        f"/v1/plans/{plan['id']}/shipments/{shipments[0]}/labels", params={"format": "pdf"}
    )
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    for ref in plan["routes"]:
        _ok(http.post(f"/v1/routes/{ref['route_id']}/dispatch"))
    return plan


def test_a_whole_day_with_a_replan(day_server: tuple[RealServer, str]) -> None:
    server, backend = day_server
    down = backend == "postgresql"  # the receiver is down until the re-plan is committed
    receiver = Receiver(port=free_port(), listen=not down)
    http = httpx.Client(base_url=server.url, timeout=60)
    try:
        hook = {"url": receiver.url, "events": ["*"], "secret": SECRET}
        _ok(http.post("/v1/webhooks", json=hook), 201)
        _ok(http.put("/v1/sites/wh-1", json={"location": SITE}), 201)
        receipt = {"site_id": "wh-1", "sku": "kettle", "quantity": 40, "kind": "receipt"}
        _ok(http.post("/v1/stock/movements", json=receipt), 201)
        size = {"length_mm": 220, "width_mm": 160, "height_mm": 180, "weight_kg": 2.0}
        _ok(http.put("/v1/products/kettle", json=size), 201)
        box = {
            "id": "box",
            "inner_length_mm": 400,
            "inner_width_mm": 300,
            "inner_height_mm": 200,
            "max_weight_kg": 15,
            "cost": 0.5,
        }
        assert http.put("/v1/sites/wh-1/cartons", json=[box]).status_code in (200, 201)
        for k in range(8):
            _capture(http, f"o-{k}", k)
        plan = _plan_and_pack(http)
        routes = {
            r["vehicle_id"]: _ok(http.get(f"/v1/routes/{r['route_id']}")) for r in plan["routes"]
        }
        assert set(routes) == {"van-1", "van-2"}
        clock = 36_000.0
        for route in routes.values():  # the first stop of each route is delivered
            first = _visits(route)[0]["stop_id"]
            _event(http, route["route_id"], "arrived", first, clock)
            proof = {"signature_name": "A. Costa"}
            _event(http, route["route_id"], "delivered", first, clock + 120, proof=proof)
            clock += 300
        van_2 = routes["van-2"]
        failed = _visits(van_2)[1]["stop_id"]
        _event(http, van_2["route_id"], "arrived", failed, clock)
        _event(http, van_2["route_id"], "failed", failed, clock + 60, reason="nobody home")
        before = {vid: _ok(http.get(f"/v1/routes/{r['route_id']}")) for vid, r in routes.items()}
        for k in range(8, 11):  # three urgent orders
            _capture(http, f"o-{k}", k)
        ask = {
            "add_orders": ["o-8", "o-9", "o-10"],
            "at": _clock(clock + 300),
            "options": {"reassign_penalty": 1.0, "routing_time_limit_s": 1.0},
        }
        draft = _ok(http.post(f"/v1/plans/{plan['id']}/replan", json=ask))
        assert draft["replan"]["check"]["feasible"], draft["replan"]["check"]
        served = {
            str(s["id"])
            for site in draft["sites"]
            for r in site["routing"]["routes"]
            for s in r["steps"]
        }
        assert {"o-8@wh-1", "o-9@wh-1", "o-10@wh-1"} <= served
        _ok(http.post(f"/v1/plans/{draft['id']}/commit"))
        after = {vid: _ok(http.get(f"/v1/routes/{r['route_id']}")) for vid, r in routes.items()}
        for vid, route in after.items():  # every route's past is exactly as it was
            done = [s for s in _visits(before[vid]) if s["status"] != "pending"]
            kept = _visits(route)[: len(done)]
            for was, now in zip(done, kept, strict=True):
                for key in ("stop_id", "status", "proof", "reason", "last_event_at"):
                    assert was[key] == now[key], (vid, key)
        # the ETAs of later stops follow the next event, by the stored travel and service
        van_1 = after["van-1"]
        pending = [s for s in _visits(van_1) if s["status"] == "pending"]
        assert len(pending) >= 2, van_1["stops"]
        late = pending[0]["eta_start_s"] + 1500
        _event(http, van_1["route_id"], "arrived", pending[0]["stop_id"], late)
        moved = _event(http, van_1["route_id"], "delivered", pending[0]["stop_id"], late + 60)[
            "route"
        ]
        nxt = next(s for s in moved["stops"] if s["stop_id"] == pending[1]["stop_id"])
        arrival = late + 60 + nxt["travel_s"]
        assert nxt["eta_arrival_s"] == pytest.approx(arrival)
        assert nxt["eta_start_s"] == pytest.approx(max(arrival, nxt["window_start_s"] or 0))
        tracking = _ok(http.get(f"/v1/orders/{_visits(before['van-1'])[0]['order_id']}/tracking"))
        assert tracking["proof"]["signature_name"] == "A. Costa"
        public = httpx.get(server.url + tracking["tracking_url"] + ".json")
        assert public.status_code == 200
        if down:
            receiver.listen()  # on the port the webhook was given
        expected = {e["id"] for e in _outbox(http)}
        receiver.wait_for(expected)
        got = receiver.accepted_ids()
        assert receiver.bad_signatures == 0
        assert sorted(got) == sorted(expected)  # every event, once
        types = {e["type"] for e in receiver.accepted}
        assert {
            "order.created",
            "order.status_changed",
            "plan.committed",
            "route.dispatched",
            "stop.arrived",
            "stop.delivered",
            "stop.failed",
            "eta.changed",
        } <= types
    finally:
        http.close()
        receiver.close()
