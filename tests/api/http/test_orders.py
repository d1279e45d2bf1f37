"""The order book over HTTP: capture (idempotent), validation, reads, lists, history, keys,
payments and the lifecycle's refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape

ALICE, BOB, ROOT = "secret-alice-123456", "secret-bob-1234567", "secret-root-1234567"
KEYS = f"alice:plan:{ALICE},bob:read:{BOB},root:admin:{ROOT}"


def order(order_id: str | None = "o-1", **extra: Any) -> dict[str, Any]:
    """A small order body: one line of 2 kettles in Porto."""
    body: dict[str, Any] = {
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": "kettle", "quantity": 2}],
    }
    if order_id is not None:
        body["id"] = order_id
    body.update(extra)
    return body


def stocked(client: TestClient, headers: dict[str, str] | None = None) -> None:
    """Site ``wh-1`` with 10 kettles (an order of a sku no site has waits on hold)."""
    site = client.put("/v1/sites/wh-1", json={"location": [-8.6, 41.1]}, headers=headers)
    assert site.status_code in (200, 201), site.text
    receipt = {"site_id": "wh-1", "sku": "kettle", "quantity": 10, "kind": "receipt"}
    moved = client.post("/v1/stock/movements", json=receipt, headers=headers)
    assert moved.status_code == 201, moved.text


def listed_ids(client: TestClient, **params: Any) -> list[str]:
    """The ids of every order GET /v1/orders lists with ``params`` (one page of 500)."""
    response = client.get("/v1/orders", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["orders"]]


def test_capture_answers_201_with_the_location_of_the_stored_order(client: TestClient) -> None:
    stocked(client)
    response = client.post("/v1/orders", json=order(payment_status="authorised"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "o-1" and body["channel"] == "api"
    assert body["status"] == "ready"
    assert body["lines"] == [
        {"id": "1", "sku": "kettle", "quantity": 2, "reserved": 0, "shipped": 0}
    ]
    location = response.headers["Location"]
    assert location.startswith("/v1/orders/o-1")
    again = client.get(location)
    assert again.status_code == 200
    assert again.json()["id"] == "o-1" and again.json()["status"] == "ready"


def test_an_unpaid_order_waits_on_hold_for_its_payment(client: TestClient) -> None:
    stocked(client)
    response = client.post("/v1/orders", json=order())
    assert response.status_code == 201
    assert response.json()["status"] == "on_hold"
    assert response.json()["hold_reason"] == "payment_pending"


def test_a_paid_order_of_a_sku_no_site_has_waits_for_a_look(client: TestClient) -> None:
    response = client.post("/v1/orders", json=order(payment_status="captured"))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "on_hold"
    assert body["hold_reason"] == "validation"
    assert "kettle" in body["status_detail"]


def test_a_replay_with_the_same_key_and_body_answers_the_stored_order(client: TestClient) -> None:
    headers = {"Idempotency-Key": "capture-1"}
    first = client.post("/v1/orders", json=order(None), headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/v1/orders", json=order(None), headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert listed_ids(client) == [first.json()["id"]]


def test_the_same_key_with_another_body_is_a_409(client: TestClient) -> None:
    headers = {"Idempotency-Key": "capture-1"}
    assert client.post("/v1/orders", json=order(), headers=headers).status_code == 201
    other = order(lines=[{"id": "1", "sku": "kettle", "quantity": 3}])
    response = client.post("/v1/orders", json=other, headers=headers)
    assert response.status_code == 409
    assert_error_shape(response.json(), "idempotency_conflict")
    assert "capture-1" in response.json()["message"]
    stored = client.get("/v1/orders/o-1").json()
    assert stored["lines"][0]["quantity"] == 2
    assert listed_ids(client) == ["o-1"]


def test_an_id_the_channel_has_is_a_409_without_a_key(client: TestClient) -> None:
    assert client.post("/v1/orders", json=order()).status_code == 201
    response = client.post("/v1/orders", json=order())
    assert response.status_code == 409
    assert_error_shape(response.json(), "order_exists")
    assert "o-1" in response.json()["message"]
    # another channel may use the same id
    web = client.post("/v1/orders", json=order(channel="web"))
    assert web.status_code == 201, web.text
    assert sorted(listed_ids(client)) == ["o-1", "o-1"]


def _with_line(**line: Any) -> dict[str, Any]:
    return order(lines=[{"id": "1", "sku": "kettle", "quantity": 2, **line}])


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        (_with_line(quantity=-1), "lines[0].quantity", "-1"),
        (_with_line(quantity=0), "lines[0].quantity", "0"),
        (_with_line(quantity="2"), "lines[0].quantity", "2"),
        (order(lines=[]), "lines", "[]"),
        (
            order(
                lines=[
                    {"id": "1", "sku": "kettle", "quantity": 1},
                    {"id": "1", "sku": "toaster", "quantity": 1},
                ]
            ),
            "lines",
            "'1'",
        ),
        (order(location=[200, 41.15]), "location[0]", "200"),
        (order(colour="red"), "colour", "red"),
        (order("my order"), "id", "my order"),
        (order("a/b"), "id", "a/b"),
    ],
    ids=[
        "negative-quantity",
        "zero-quantity",
        "string-quantity",
        "no-lines",
        "duplicate-line-ids",
        "longitude-200",
        "unknown-field",
        "id-with-space",
        "id-with-slash",
    ],
)
def test_bad_orders_are_422_naming_the_field_and_value(
    client: TestClient, body: dict[str, Any], field: str, value: str
) -> None:
    response = client.post("/v1/orders", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert_error_shape(payload, "invalid_input")
    named = [d for d in payload["details"] if d["field"] == field]
    assert named, payload
    assert any(value in (str(d["value"]) + d["message"]) for d in named), payload
    assert listed_ids(client) == []


def test_an_unknown_order_is_a_404(client: TestClient) -> None:
    for path in ("/v1/orders/nope", "/v1/orders/nope/history"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert_error_shape(response.json(), "not_found")
        assert "nope" in response.json()["message"]
    response = client.post("/v1/orders/nope/cancel")
    assert response.status_code == 404


def test_lists_filter_by_status_channel_and_site(client: TestClient) -> None:
    stocked(client)
    paid = {"payment_status": "authorised"}
    assert client.post("/v1/orders", json=order("a", **paid)).status_code == 201
    assert client.post("/v1/orders", json=order("b")).status_code == 201
    assert client.post("/v1/orders", json=order("c", channel="web", **paid)).status_code == 201
    assert client.post("/v1/orders", json=order("d", channel="web")).status_code == 201
    want = {
        "order_id": "c",
        "channel": "web",
        "line_id": "1",
        "site_id": "wh-1",
        "sku": "kettle",
        "quantity": 1,
    }
    assert client.post("/v1/reservations", json=want).status_code == 201

    assert listed_ids(client) == ["a", "b", "c", "d"]
    assert listed_ids(client, status="ready") == ["a", "c"]
    assert listed_ids(client, status="on_hold") == ["b", "d"]
    assert listed_ids(client, channel="web") == ["c", "d"]
    assert listed_ids(client, channel="web", status="ready") == ["c"]
    assert listed_ids(client, site_id="wh-1") == ["c"]
    assert listed_ids(client, site_id="wh-2") == []
    assert listed_ids(client, status="cancelled") == []
    assert client.get("/v1/orders", params={"status": "lost"}).status_code == 422


def test_cursor_paging_sees_every_order_once(client: TestClient) -> None:
    ids = [f"o-{i}" for i in range(7)]
    for order_id in ids:
        assert client.post("/v1/orders", json=order(order_id)).status_code == 201
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = client.get("/v1/orders", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["orders"]) <= 3
        seen.extend(o["id"] for o in page["orders"])
        if page["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": page["next_cursor"]}
        assert pages < 10, "paging does not end"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert seen == ids  # oldest first
    bad = client.get("/v1/orders", params={"cursor": "abc"})
    assert bad.status_code == 422
    assert bad.json()["details"][0]["field"] == "cursor"


def test_history_lists_transitions_with_cause_and_the_key_name(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False, api_keys=KEYS)
    alice = {"X-API-Key": ALICE}
    stocked(client, {"X-API-Key": ROOT})
    assert client.post("/v1/orders", json=order(), headers=alice).status_code == 201
    paid = client.post("/v1/orders/o-1/payment", json={"status": "authorised"}, headers=alice)
    assert paid.status_code == 200, paid.text
    root = {"Authorization": f"Bearer {ROOT}"}
    cancelled = client.post("/v1/orders/o-1/cancel", json={"reason": "changed mind"}, headers=root)
    assert cancelled.status_code == 200, cancelled.text

    history = client.get("/v1/orders/o-1/history", headers={"X-API-Key": BOB})
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["order_id"] == "o-1" and body["channel"] == "api"
    moves = [
        (t["from_status"], t["to_status"], t["cause"], t["actor"]) for t in body["transitions"]
    ]
    assert moves == [
        (None, "received", "capture", "alice"),
        ("received", "on_hold", "capture", "alice"),
        ("on_hold", "ready", "payment", "alice"),
        ("ready", "cancelled", "api", "root"),
    ]
    assert body["transitions"][-1]["reason"] == "changed mind"
    stamps = [t["at"] for t in body["transitions"]]
    assert stamps == sorted(stamps)
    assert client.get("/v1/orders/o-1", headers=alice).json()["created_by"] == "alice"


def test_roles_grant_the_book_endpoints(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False, api_keys=KEYS)
    alice, bob, root = ({"X-API-Key": s} for s in (ALICE, BOB, ROOT))
    site = {"location": [-8.6, 41.1]}
    receipt = {"site_id": "wh-1", "sku": "kettle", "quantity": 5, "kind": "receipt"}

    assert client.post("/v1/orders", json=order()).status_code == 401
    refused = client.post("/v1/orders", json=order(), headers=bob)
    assert refused.status_code == 403
    assert_error_shape(refused.json(), "forbidden")
    assert client.get("/v1/orders", headers=bob).status_code == 200

    assert client.put("/v1/sites/wh-1", json=site, headers=alice).status_code == 403
    assert client.put("/v1/sites/wh-1", json=site, headers=bob).status_code == 403
    assert client.put("/v1/sites/wh-1", json=site, headers=root).status_code == 201
    assert client.post("/v1/stock/movements", json=receipt, headers=alice).status_code == 403
    moved = client.post("/v1/stock/movements", json=receipt, headers=root)
    assert moved.status_code == 201, moved.text
    assert moved.json()["actor"] == "root"

    assert client.post("/v1/orders", json=order(), headers=alice).status_code == 201
    assert client.post("/v1/orders", json=order("o-2"), headers=root).status_code == 201
    assert client.get("/v1/stock", headers=bob).json()["levels"][0]["on_hand"] == 5
    assert client.post("/v1/orders/o-1/cancel", headers=bob).status_code == 403
    assert client.post("/v1/orders/o-1/cancel", headers=alice).status_code == 200


def test_a_payment_moves_an_order_on_hold_to_ready(client: TestClient) -> None:
    stocked(client)
    assert client.post("/v1/orders", json=order()).json()["status"] == "on_hold"
    response = client.post(
        "/v1/orders/o-1/payment", json={"status": "authorised", "reference": "pay-77"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["payment_status"] == "authorised"
    assert body["payment_reference"] == "pay-77"
    assert body["hold_reason"] is None
    assert client.get("/v1/orders/o-1").json()["status"] == "ready"
    # a payment cannot move back to pending; refunded is final
    bad = client.post("/v1/orders/o-1/payment", json={"status": "pending"})
    assert bad.status_code == 422
    declined = client.post("/v1/orders/o-1/payment", json={"status": "declined"})
    assert declined.status_code == 200
    assert declined.json()["status"] == "on_hold"
    assert declined.json()["hold_reason"] == "payment_declined"


def test_cancelling_twice_is_a_409_naming_the_states(client: TestClient) -> None:
    assert client.post("/v1/orders", json=order()).status_code == 201
    first = client.post("/v1/orders/o-1/cancel")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "cancelled"
    second = client.post("/v1/orders/o-1/cancel")
    assert second.status_code == 409
    body = second.json()
    assert_error_shape(body, "invalid_transition")
    assert "cancelled" in body["message"]
    assert body["details"][0]["value"] == "cancelled"


@pytest.mark.parametrize(("current", "requested"), [("on_hold", "shipped"), ("ready", "packed")])
def test_an_illegal_move_is_a_409_naming_both_states(
    client: TestClient, current: str, requested: str
) -> None:
    stocked(client)
    paid = {"payment_status": "authorised"} if current == "ready" else {}
    assert client.post("/v1/orders", json=order(**paid)).json()["status"] == current
    response = client.post("/v1/orders/o-1/status", json={"status": requested})
    assert response.status_code == 409
    body = response.json()
    assert_error_shape(body, "invalid_transition")
    assert current in body["message"] and requested in body["message"]
    assert client.get("/v1/orders/o-1").json()["status"] == current


def test_allocated_cannot_be_asked_for_directly(client: TestClient) -> None:
    stocked(client)
    assert client.post("/v1/orders", json=order(payment_status="authorised")).status_code == 201
    for status in ("allocated", "backordered"):
        response = client.post("/v1/orders/o-1/status", json={"status": status})
        assert response.status_code == 422, status
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["details"][0]["field"] == "status"
        assert status in body["message"]
    assert client.get("/v1/orders/o-1").json()["status"] == "ready"


def test_a_release_from_hold_needs_a_paid_order(client: TestClient) -> None:
    assert client.post("/v1/orders", json=order()).status_code == 201
    response = client.post("/v1/orders/o-1/status", json={"status": "ready"})
    assert response.status_code == 409
    assert_error_shape(response.json(), "invalid_transition")
    assert "pending" in response.json()["message"]
    held = client.post(
        "/v1/orders/o-1/status", json={"status": "on_hold", "reason": "address check"}
    )
    assert held.status_code == 200
    assert held.json()["hold_reason"] == "manual"


def test_the_stored_order_keeps_what_was_captured(client: TestClient) -> None:
    body = order(
        address="Rua 1, Porto",
        priority=3,
        promised_date="2026-11-28",
        delivery_windows=[{"start": "2026-11-28T09:00:00", "end": "2026-11-28T12:00:00Z"}],
        service_s=120,
        ship_complete=True,
    )
    response = client.post("/v1/orders", json=copy.deepcopy(body))
    assert response.status_code == 201, response.text
    stored = client.get("/v1/orders/o-1").json()
    assert stored["address"] == "Rua 1, Porto"
    assert stored["priority"] == 3
    assert stored["promised_date"] == "2026-11-28"
    assert stored["service_s"] == 120
    assert stored["ship_complete"] is True
    assert stored["location"] == [-8.61, 41.15]
    window = stored["delivery_windows"][0]
    assert window["start"].startswith("2026-11-28T09:00:00")
    assert window["end"].startswith("2026-11-28T12:00:00")
