"""Dispatch over HTTP: capture, pay, plan with a van (judged by both evaluators), commit,
pick and pack, dispatch, arrive and deliver one stop, fail another; the live ETAs of the
later stops worked out here from the route's stored travel and service times; the orders'
states and the events of the outbox; the endpoints' checks and roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http import dispatch_examples as ex
from models.dispatch import EventResult, PositionIn, PositionResult, RouteEventIn, RouteRecord
from tests.api.conftest import MakeClient
from tests.api.http.test_book_plans import (
    book_plan,
    capture_and_pay,
    check_plan,
    expected_request,
    stock_up,
)
from tests.api.payloads import assert_error_shape

ORDER_IDS = ["o-1", "o-2", "o-3"]
DAY = "2026-11-27T"


def _clock(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{DAY}{hours:02d}:{minutes:02d}:{secs:02d}+00:00"


def _committed_route(client: TestClient) -> dict[str, Any]:
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ORDER_IDS)
    plan = book_plan(client)
    check_plan(expected_request({"kettle": 10, "toaster": 5}, ORDER_IDS), plan)
    assert client.post(f"/v1/plans/{plan['id']}/commit").status_code == 200
    stored = client.get(f"/v1/plans/{plan['id']}").json()
    (ref,) = stored["routes"]
    assert (ref["site_id"], ref["vehicle_id"]) == ("wh-1", "van-1")
    return ref


def _pack(client: TestClient, order_ids: list[str]) -> None:
    for order_id in order_ids:
        for status in ("picking", "packed"):
            moved = client.post(f"/v1/orders/{order_id}/status", json={"status": status})
            assert moved.status_code == 200, moved.text


def _post(client: TestClient, route_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/routes/{route_id}/events", json=body)


def test_dispatch_walk(client: TestClient) -> None:
    ref = _committed_route(client)
    route_id = ref["route_id"]
    _pack(client, ["o-1", "o-2"])
    refused = client.post(f"/v1/routes/{route_id}/dispatch")
    assert refused.status_code == 409
    assert_error_shape(refused.json(), "invalid_transition")
    assert "o-3" in refused.json()["message"]
    _pack(client, ["o-3"])
    out = client.post(f"/v1/routes/{route_id}/dispatch")
    assert out.status_code == 200, out.text
    assert {client.get(f"/v1/orders/{o}").json()["status"] for o in ORDER_IDS} == {"shipped"}

    route = client.get(f"/v1/routes/{route_id}").json()
    assert route["status"] == "dispatched"
    first, second, third = route["stops"][:3]
    day_start = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    shown = dt.datetime.fromisoformat(first["eta_start_time"])
    assert shown == day_start + dt.timedelta(seconds=first["eta_start_s"])
    late = int(first["planned_arrival_s"]) + 1200  # whole seconds: the clock says no less
    arrived = _post(
        client, route_id, {"type": "arrived", "stop_id": first["stop_id"], "at": _clock(late)}
    )
    assert arrived.status_code == 200 and arrived.json()["applied"]
    left = late + 400
    delivered = _post(
        client,
        route_id,
        {
            "type": "delivered",
            "stop_id": first["stop_id"],
            "at": _clock(left),
            "proof": {"signature_name": "A. Costa"},
        },
    )
    assert delivered.status_code == 200, delivered.text
    stops = delivered.json()["route"]["stops"]
    # by hand: the next stops follow the departure at `left` with the stored travel times
    depart = left
    for k, stop in ((1, second), (2, third)):
        arrival = depart + stop["travel_s"]
        start = max(arrival, stop["window_start_s"] or arrival)
        assert stops[k]["eta_arrival_s"] == pytest.approx(arrival)
        assert stops[k]["eta_start_s"] == pytest.approx(start)
        depart = start + stop["service_s"]
    assert client.get(f"/v1/orders/{first['order_id']}").json()["status"] == "delivered"
    twice = _post(
        client,
        route_id,
        {"type": "delivered", "stop_id": first["stop_id"], "at": _clock(left + 10)},
    )
    assert twice.status_code == 409
    stale = _post(
        client, route_id, {"type": "arrived", "stop_id": first["stop_id"], "at": _clock(late - 60)}
    )
    assert stale.status_code == 200 and stale.json()["applied"] is False
    assert stale.json()["route"]["stops"][0]["status"] == "delivered"

    failed = _post(
        client,
        route_id,
        {
            "type": "failed",
            "stop_id": second["stop_id"],
            "at": _clock(left + 2000),
            "reason": "nobody home",
        },
    )
    assert failed.status_code == 200, failed.text
    after = failed.json()["route"]["stops"]
    assert after[1]["status"] == "failed" and after[1]["reason"] == "nobody home"
    assert after[2]["eta_arrival_s"] == pytest.approx(left + 2000 + third["travel_s"])
    # the default policy plans it again
    assert client.get(f"/v1/orders/{second['order_id']}").json()["status"] == "ready"

    events = client.get("/v1/events", params={"limit": 500}).json()["events"]
    kinds = [e["type"] for e in events]
    for kind in (
        "route.dispatched",
        "stop.arrived",
        "stop.delivered",
        "stop.failed",
        "eta.changed",
    ):
        assert kind in kinds, kind
    (fail,) = [e["data"] for e in events if e["type"] == "stop.failed"]
    assert fail["order_id"] == second["order_id"] and fail["reason"] == "nobody home"


def test_event_checks(client: TestClient) -> None:
    ref = _committed_route(client)
    route_id = ref["route_id"]
    stop_id = client.get(f"/v1/routes/{route_id}").json()["stops"][0]["stop_id"]
    body = {"type": "arrived", "stop_id": stop_id, "at": _clock(36000)}
    not_out = _post(client, route_id, body)
    assert not_out.status_code == 409
    _pack(client, ORDER_IDS)
    assert client.post(f"/v1/routes/{route_id}/dispatch").status_code == 200
    unknown = _post(client, route_id, {**body, "stop_id": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["details"][0]["field"] == "stop_id"
    naive = _post(client, route_id, {**body, "at": "2026-11-27T10:00:00"})
    assert naive.status_code == 422
    assert client.get("/v1/routes/missing").status_code == 404
    for position in (["nan", 41.0], [200.0, 41.0], [-8.6, 95.0]):
        bad = client.post(
            "/v1/vehicles/van-1/position", json={"at": _clock(36000), "position": position}
        )
        assert bad.status_code == 422, position
    nan = client.post(
        "/v1/vehicles/van-1/position",
        content=b'{"at": "2026-11-27T10:00:00+00:00", "position": [NaN, 41.0]}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 422
    moved = client.post(
        "/v1/vehicles/van-1/position", json={"at": _clock(36000), "position": [-8.615, 41.152]}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["routes"][0]["position"] == [-8.615, 41.152]


def test_roles(make_client: MakeClient) -> None:
    client = make_client(api_keys="r:read:rrrrrrrrrrrrrrrr,p:plan:pppppppppppppppp")
    read = {"Authorization": "Bearer rrrrrrrrrrrrrrrr"}
    plan = {"Authorization": "Bearer pppppppppppppppp"}
    assert client.get("/v1/routes/x", headers=read).status_code == 404
    assert client.post("/v1/routes/x/dispatch", headers=read).status_code == 403
    assert client.post("/v1/routes/x/dispatch", headers=plan).status_code == 404
    body = {"at": _clock(36000), "position": [-8.6, 41.1]}
    assert client.post("/v1/vehicles/v/position", json=body, headers=read).status_code == 403
    assert client.post("/v1/vehicles/v/position", json=body, headers=plan).status_code == 404


def test_the_examples_parse_as_their_models() -> None:
    RouteRecord.model_validate(ex.ROUTE)
    EventResult.model_validate(ex.EVENT_RESULT)
    PositionResult.model_validate(ex.POSITION_RESULT)
    RouteEventIn.model_validate(ex.EVENT_IN)
    for example in ex.EVENT_IN_EXAMPLES.values():
        RouteEventIn.model_validate(example["value"])
    for example in ex.POSITION_IN_EXAMPLES.values():
        PositionIn.model_validate(example["value"])
