"""Tracking over HTTP, with keys on: an order's tracking before a plan, after commit,
dispatch, arrival and delivery (the proof shows); the stops before each order worked out
here from the route's stop list; the customer's page and its JSON need no key, show one
order only, and answer an unknown or malformed token with the same 404; tokens stable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.http import tracking_examples as ex
from models.tracking import OrderTracking, PublicTracking
from tests.api.conftest import MakeClient
from tests.api.http.test_book_plans import ORDERS, capture_and_pay, stock_up
from tests.api.http.test_dispatch import ORDER_IDS, _clock, _committed_route, _pack, _post
from tests.api.payloads import assert_error_shape

KEY = "tracking-admin-secret-0123456789"
#: What a browser asks for.
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _keyed(make_client: MakeClient) -> TestClient:
    """A client of a server with keys on, sending the admin key by default."""
    client = make_client(api_keys=f"admin:admin:{KEY}")
    client.headers["X-API-Key"] = KEY
    return client


def _public(client: TestClient, url: str, **headers: str) -> Any:
    """GET a public URL with no key at all (the client's default one left out)."""
    saved = client.headers.pop("X-API-Key", None)
    try:
        response = client.get(url, headers=headers)
    finally:
        if saved is not None:
            client.headers["X-API-Key"] = saved
    assert "x-api-key" not in response.request.headers
    assert "authorization" not in response.request.headers
    return response


def _tracking(client: TestClient, order_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/orders/{order_id}/tracking")
    assert response.status_code == 200, response.text
    return response.json()


def _open_before(route: dict[str, Any], order_id: str) -> int:
    """From the route's stop list: stops before the order's still pending or arrived, where
    someone is served."""
    (mine,) = [s["position"] for s in route["stops"] if s["order_id"] == order_id]
    return sum(
        1
        for s in route["stops"]
        if s["position"] < mine
        and s["status"] in ("pending", "arrived")
        and s["kind"] not in ("break", "end")
    )


def test_before_a_plan_an_order_has_its_status_and_nulls(make_client: MakeClient) -> None:
    client = _keyed(make_client)
    stock_up(client, {"kettle": 10})
    capture_and_pay(client, ["o-1"])
    seen = _tracking(client, "o-1")
    assert seen["status"] == "ready" and seen["route_id"] is None
    assert seen["stops_before"] is None and seen["eta_start_time"] is None
    assert seen["tracking_url"].startswith("/track/")
    assert _tracking(client, "o-1")["tracking_url"] == seen["tracking_url"]  # stable
    page = _public(client, seen["tracking_url"], **BROWSER)
    assert page.status_code == 200 and "Order o-1" in page.text
    missing = client.get("/v1/orders/nope/tracking")
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")


def test_tracking_walk(make_client: MakeClient) -> None:
    client = _keyed(make_client)
    ref = _committed_route(client)
    route_id = ref["route_id"]
    route = client.get(f"/v1/routes/{route_id}").json()
    order_of = {s["position"]: s["order_id"] for s in route["stops"] if s["order_id"]}
    first, second, third = (order_of[p] for p in sorted(order_of))
    urls = {o: _tracking(client, o)["tracking_url"] for o in ORDER_IDS}
    committed = _tracking(client, second)
    assert committed["status"] == "allocated" and committed["route_status"] == "committed"
    assert committed["route_id"] == route_id
    assert [_tracking(client, o)["stops_before"] for o in (first, second, third)] == [0, 1, 2]

    assert _public(client, urls[first]).status_code == 200  # the page needs no key...
    assert _public(client, urls[first] + ".json").status_code == 200
    assert _public(client, f"/v1/orders/{first}/tracking").status_code == 401  # ... this does

    _pack(client, ORDER_IDS)
    assert client.post(f"/v1/routes/{route_id}/dispatch").status_code == 200
    assert _tracking(client, first)["status"] == "shipped"
    stop = route["stops"][0]
    late = int(stop["planned_arrival_s"]) + 600
    body = {"type": "arrived", "stop_id": stop["stop_id"], "at": _clock(late)}
    assert _post(client, route_id, {**body, "position": [-8.61, 41.15]}).status_code == 200
    here = _tracking(client, first)
    assert here["stop_status"] == "arrived" and here["vehicle_position"] == [-8.61, 41.15]
    assert here["vehicle_position_at"] == _clock(late).replace("+00:00", "Z")

    proof = {"signature_name": "M. Silva", "photo_ref": "p/1.jpg", "note": "at the door"}
    delivered = _post(
        client,
        route_id,
        {"type": "delivered", "stop_id": stop["stop_id"], "at": _clock(late + 300), "proof": proof},
    )
    assert delivered.status_code == 200, delivered.text
    done = _tracking(client, first)
    assert done["status"] == "delivered" and done["proof"] == proof
    route = client.get(f"/v1/routes/{route_id}").json()
    for order_id, expected in ((second, 0), (third, 1)):
        seen = _tracking(client, order_id)
        assert seen["stops_before"] == _open_before(route, order_id) == expected
        (live,) = [s for s in route["stops"] if s["order_id"] == order_id]
        assert seen["eta_start_time"] == live["eta_start_time"].replace("+00:00", "Z")

    page = _public(client, urls[first], **BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "M. Silva" in page.text and "Delivered" in page.text
    assert page.headers["cache-control"] == "no-store"
    shown = _public(client, urls[first] + ".json").json()
    assert PublicTracking.model_validate(shown).received_by == "M. Silva"
    waiting = _public(client, urls[third] + ".json").json()
    assert waiting["stops_before"] == 1 and waiting["status"] == "shipped"


def test_a_page_shows_its_own_order_only(make_client: MakeClient) -> None:
    client = _keyed(make_client)
    ref = _committed_route(client)
    route = client.get(f"/v1/routes/{ref['route_id']}").json()
    for order_id in ORDER_IDS:
        url = _tracking(client, order_id)["tracking_url"]
        for shown in (_public(client, url, **BROWSER).text, _public(client, url + ".json").text):
            assert order_id in shown
            for other in ORDER_IDS:
                if other != order_id:
                    assert other not in shown
                    for coordinate in ORDERS[other][0]:
                        assert str(coordinate) not in shown
            for stop in route["stops"]:
                if stop["order_id"] is not None:
                    assert stop["stop_id"] not in shown
            assert ref["route_id"] not in shown and "wh-1" not in shown


def test_unknown_and_malformed_tokens_get_the_same_404(make_client: MakeClient) -> None:
    client = _keyed(make_client)
    stock_up(client, {"kettle": 10})
    capture_and_pay(client, ["o-1"])
    real = _tracking(client, "o-1")["tracking_url"].removeprefix("/track/")
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    tokens = [
        flipped,
        "Xq3v9Lk2RwYpT7bNcM4sH8dJfA1eGuZo",
        "x",
        "a" * 300,
        "%00%00",
        "tok.en",
        "-_-",
    ]
    answers = {_public(client, f"/track/{t}").text for t in tokens}
    assert len(answers) == 1
    (json_404,) = answers
    assert "not_found" in json_404 and real not in json_404
    pages = {_public(client, f"/track/{t}", **BROWSER).text for t in tokens}
    assert len(pages) == 1
    for token in tokens:
        assert _public(client, f"/track/{token}", **BROWSER).status_code == 404
        as_json = _public(client, f"/track/{token}.json")
        assert as_json.status_code == 404 and as_json.text == json_404


def test_the_examples_parse_as_their_models() -> None:
    OrderTracking.model_validate(ex.ORDER_TRACKING)
    OrderTracking.model_validate(ex.ORDER_DELIVERED)
    view = PublicTracking.model_validate(ex.PUBLIC_TRACKING)
    assert f"Order {view.order_id}" in ex.PAGE
