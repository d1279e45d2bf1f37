"""Sites, the stock ledger and reservations over HTTP: every level checked against numbers
written out by hand."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.payloads import assert_error_shape

SITE = {"location": [-8.63, 41.18], "capacity_orders": 40, "handling_cost_per_unit": 0.4}


def move(client: TestClient, kind: str, quantity: int, sku: str = "kettle") -> Any:
    """POST one movement at site ``wh-1``; the response."""
    body = {"site_id": "wh-1", "sku": sku, "quantity": quantity, "kind": kind}
    return client.post("/v1/stock/movements", json=body)


def level(client: TestClient, sku: str = "kettle") -> dict[str, Any]:
    """The stock level of ``sku`` at ``wh-1`` as GET /v1/stock lists it."""
    response = client.get("/v1/stock", params={"site_id": "wh-1", "sku": sku})
    assert response.status_code == 200, response.text
    (found,) = response.json()["levels"]
    return {k: found[k] for k in ("on_hand", "reserved", "safety_stock", "available")}


def setup_site(client: TestClient, kettles: int = 10) -> None:
    assert client.put("/v1/sites/wh-1", json=SITE).status_code == 201
    assert move(client, "receipt", kettles).status_code == 201


def ready_order(client: TestClient, order_id: str = "o-1", quantity: int = 5) -> None:
    body = {
        "id": order_id,
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": "kettle", "quantity": quantity}],
        "payment_status": "authorised",
    }
    response = client.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "ready", response.json()


def reservation(order_id: str = "o-1", quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_id": "1",
        "site_id": "wh-1",
        "sku": "kettle",
        "quantity": quantity,
        **extra,
    }


def test_a_site_is_created_then_replaced(client: TestClient) -> None:
    created = client.put("/v1/sites/wh-1", json=SITE)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "wh-1"
    assert created.json()["capacity_orders"] == 40
    replaced = client.put("/v1/sites/wh-1", json={**SITE, "capacity_orders": 12})
    assert replaced.status_code == 200, replaced.text
    got = client.get("/v1/sites/wh-1")
    assert got.status_code == 200
    assert got.json()["capacity_orders"] == 12
    assert got.json()["location"] == [-8.63, 41.18]
    assert got.json()["created_at"] == created.json()["created_at"]
    assert [s["id"] for s in client.get("/v1/sites").json()] == ["wh-1"]
    assert client.get("/v1/sites/wh-9").status_code == 404


def test_a_bad_site_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.put("/v1/sites/wh-1", json={"location": [-8.63, 100]})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert body["details"][0]["field"] == "location[1]"
    assert body["details"][0]["value"] == "100"
    assert client.put("/v1/sites/wh 1", json=SITE).status_code == 422
    assert client.get("/v1/sites").json() == []


def test_receipts_adjustments_and_counts_move_on_hand(client: TestClient) -> None:
    assert client.put("/v1/sites/wh-1", json=SITE).status_code == 201
    receipt = move(client, "receipt", 10)
    assert receipt.status_code == 201, receipt.text
    assert (receipt.json()["delta"], receipt.json()["on_hand_after"]) == (10, 10)
    assert level(client) == {"on_hand": 10, "reserved": 0, "safety_stock": 0, "available": 10}

    adjusted = move(client, "adjustment", -3)
    assert adjusted.status_code == 201, adjusted.text
    assert (adjusted.json()["delta"], adjusted.json()["on_hand_after"]) == (-3, 7)
    assert level(client) == {"on_hand": 7, "reserved": 0, "safety_stock": 0, "available": 7}

    counted = move(client, "count", 12)
    assert counted.status_code == 201, counted.text
    assert (counted.json()["delta"], counted.json()["on_hand_after"]) == (5, 12)
    assert level(client) == {"on_hand": 12, "reserved": 0, "safety_stock": 0, "available": 12}

    safety = client.put("/v1/stock/wh-1/kettle/safety", json={"safety_stock": 2})
    assert safety.status_code == 200, safety.text
    assert level(client) == {"on_hand": 12, "reserved": 0, "safety_stock": 2, "available": 10}

    entries = client.get("/v1/stock/movements", params={"site_id": "wh-1"}).json()
    assert [(e["kind"], e["delta"]) for e in entries] == [
        ("count", 5),
        ("adjustment", -3),
        ("receipt", 10),
    ]


def test_bad_movements_are_422(client: TestClient) -> None:
    setup_site(client, 10)
    negative = move(client, "receipt", -3)
    assert negative.status_code == 422
    assert_error_shape(negative.json(), "invalid_input")
    [problem] = negative.json()["details"]
    assert problem["field"] == "quantity" and "-3" in problem["message"]
    assert move(client, "adjustment", 0).status_code == 422
    assert move(client, "count", -1).status_code == 422

    unknown = client.post(
        "/v1/stock/movements",
        json={"site_id": "wh-9", "sku": "kettle", "quantity": 3, "kind": "receipt"},
    )
    assert unknown.status_code == 422
    body = unknown.json()
    assert_error_shape(body, "invalid_input")
    assert body["details"][0]["field"] == "site_id"
    assert "wh-9" in body["message"]
    assert level(client) == {"on_hand": 10, "reserved": 0, "safety_stock": 0, "available": 10}


def test_a_count_below_what_is_reserved_is_a_422(client: TestClient) -> None:
    setup_site(client, 10)
    ready_order(client, quantity=5)
    assert client.post("/v1/reservations", json=reservation(quantity=4)).status_code == 201
    assert level(client) == {"on_hand": 10, "reserved": 4, "safety_stock": 0, "available": 6}
    response = move(client, "count", 3)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), "invalid_input")
    assert "3" in response.json()["message"] and "4" in response.json()["message"]
    too_far = move(client, "adjustment", -7)
    assert too_far.status_code == 422, too_far.text
    assert level(client) == {"on_hand": 10, "reserved": 4, "safety_stock": 0, "available": 6}
    assert move(client, "count", 4).status_code == 201
    assert level(client) == {"on_hand": 4, "reserved": 4, "safety_stock": 0, "available": 0}


def test_reservations_hold_stock_until_released(client: TestClient) -> None:
    setup_site(client, 10)
    assert client.put("/v1/stock/wh-1/kettle/safety", json={"safety_stock": 2}).status_code == 200
    ready_order(client, "o-1", quantity=6)
    ready_order(client, "o-2", quantity=6)

    held = client.post("/v1/reservations", json=reservation("o-1", 6))
    assert held.status_code == 201, held.text
    body = held.json()
    assert body["status"] == "active"
    assert (body["order_id"], body["line_id"], body["quantity"]) == ("o-1", "1", 6)
    assert level(client) == {"on_hand": 10, "reserved": 6, "safety_stock": 2, "available": 2}
    line = client.get("/v1/orders/o-1").json()["lines"][0]
    assert (line["reserved"], line["shipped"]) == (6, 0)

    assert client.post("/v1/reservations", json=reservation("o-2", 2)).status_code == 201
    assert level(client) == {"on_hand": 10, "reserved": 8, "safety_stock": 2, "available": 0}

    reservation_id = body["id"]
    assert client.get(f"/v1/reservations/{reservation_id}").json()["status"] == "active"
    released = client.delete(f"/v1/reservations/{reservation_id}")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["ended_at"] is not None
    assert level(client) == {"on_hand": 10, "reserved": 2, "safety_stock": 2, "available": 6}
    assert client.get("/v1/orders/o-1").json()["lines"][0]["reserved"] == 0

    again = client.delete(f"/v1/reservations/{reservation_id}")
    assert again.status_code == 409
    assert_error_shape(again.json(), "invalid_transition")
    assert level(client) == {"on_hand": 10, "reserved": 2, "safety_stock": 2, "available": 6}


def test_a_reservation_that_does_not_fit_is_a_409_with_what_is_available(
    client: TestClient,
) -> None:
    setup_site(client, 10)
    assert client.put("/v1/stock/wh-1/kettle/safety", json={"safety_stock": 2}).status_code == 200
    ready_order(client, "o-1", quantity=6)
    ready_order(client, "o-2", quantity=6)
    assert client.post("/v1/reservations", json=reservation("o-1", 6)).status_code == 201
    assert level(client) == {"on_hand": 10, "reserved": 6, "safety_stock": 2, "available": 2}

    short = client.post("/v1/reservations", json=reservation("o-2", 3))
    assert level(client) == {"on_hand": 10, "reserved": 6, "safety_stock": 2, "available": 2}
    assert short.status_code == 409, short.text
    refusal = short.json()
    assert_error_shape(refusal, "insufficient_stock")
    assert "2" in refusal["message"] and "3" in refusal["message"]
    assert any(d.get("available") == 2 for d in refusal["details"]), refusal


def test_unknown_reservations_skus_and_sites(client: TestClient) -> None:
    setup_site(client, 10)
    ready_order(client)
    for call in (client.get, client.delete):
        missing = call("/v1/reservations/res-nope")
        assert missing.status_code == 404
        assert_error_shape(missing.json(), "not_found")

    order = {
        "id": "o-9",
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": "gizmo", "quantity": 1}],
        "payment_status": "authorised",
    }
    assert client.post("/v1/orders", json=order).status_code == 201
    released = client.post("/v1/orders/o-9/status", json={"status": "ready"})
    assert released.status_code == 200, released.text
    unknown_sku = client.post("/v1/reservations", json=reservation("o-9", sku="gizmo"))
    assert unknown_sku.status_code == 422, unknown_sku.text
    assert unknown_sku.json()["details"][0]["field"] == "sku"
    assert "gizmo" in unknown_sku.json()["message"]

    wrong_sku = client.post("/v1/reservations", json=reservation("o-1", sku="toaster"))
    assert wrong_sku.status_code == 422
    assert wrong_sku.json()["details"][0]["field"] == "sku"
    unknown_site = client.post("/v1/reservations", json=reservation("o-1", site_id="wh-9"))
    assert unknown_site.status_code == 422
    assert unknown_site.json()["details"][0]["field"] == "site_id"
    too_many = client.post("/v1/reservations", json=reservation("o-1", quantity=6))
    assert too_many.status_code == 422
    assert too_many.json()["details"][0]["field"] == "quantity"
    assert client.post("/v1/reservations", json=reservation("o-404")).status_code == 404
    assert level(client) == {"on_hand": 10, "reserved": 0, "safety_stock": 0, "available": 10}


def test_an_order_on_hold_cannot_reserve(client: TestClient) -> None:
    setup_site(client, 10)
    body = {
        "id": "o-1",
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": "kettle", "quantity": 1}],
    }
    assert client.post("/v1/orders", json=body).json()["status"] == "on_hold"
    response = client.post("/v1/reservations", json=reservation())
    assert response.status_code == 409
    assert_error_shape(response.json(), "invalid_transition")
    assert level(client)["reserved"] == 0


def test_cancelling_an_order_gives_its_stock_back(client: TestClient) -> None:
    setup_site(client, 10)
    ready_order(client, quantity=5)
    assert client.post("/v1/reservations", json=reservation(quantity=5)).status_code == 201
    assert level(client) == {"on_hand": 10, "reserved": 5, "safety_stock": 0, "available": 5}
    assert client.post("/v1/orders/o-1/cancel").status_code == 200
    assert level(client) == {"on_hand": 10, "reserved": 0, "safety_stock": 0, "available": 10}
