"""Re-planning over HTTP: a day whose one van is out, an order added that no van at the site
can take (listed with its reason), the locked stop first, the commit; and the checks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.http.test_book_plans import book_plan, capture_and_pay
from tests.api.http.test_dispatch import ORDER_IDS, _clock, _committed_route, _pack, _post
from tests.api.payloads import assert_error_shape


def test_replan_with_the_only_van_out(client: TestClient) -> None:
    ref = _committed_route(client)
    route_id = ref["route_id"]
    _pack(client, ORDER_IDS)
    assert client.post(f"/v1/routes/{route_id}/dispatch").status_code == 200
    stops = client.get(f"/v1/routes/{route_id}").json()["stops"]
    first, second = stops[0]["stop_id"], stops[1]["stop_id"]
    start = int(stops[0]["planned_arrival_s"])
    for kind, stop_id, t in (
        ("arrived", first, start),
        ("delivered", first, start + 300),
        ("arrived", second, start + 900),
    ):
        sent = _post(client, route_id, {"type": kind, "stop_id": stop_id, "at": _clock(t)})
        assert sent.status_code == 200, sent.text
    late = {
        "id": "late-1",
        "channel": "api",
        "location": [-8.615, 41.155],
        "lines": [{"id": "1", "sku": "kettle", "quantity": 1}],
        "payment_status": "authorised",
    }
    captured = client.post("/v1/orders", json=late)
    assert captured.status_code == 201 and captured.json()["status"] == "ready", captured.text
    plan_id = client.get(f"/v1/routes/{route_id}").json()["plan_id"]
    answer = client.post(
        f"/v1/plans/{plan_id}/replan",
        json={"add_orders": ["late-1"], "at": _clock(start + 1000)},
    )
    assert answer.status_code == 200, answer.text
    draft = answer.json()
    assert draft["status"] == "draft" and draft["source"] == "replan"
    info = draft["replan"]
    assert info["check"]["feasible"], info["check"]
    (van,) = info["vans"]
    assert (van["state"], van["done"], van["locked"]) == ("dispatched", [first], [second])
    (route,) = draft["sites"][0]["routing"]["routes"]
    visits = [s["id"] for s in route["steps"] if s["type"] in ("job", "delivery", "pickup")]
    assert visits[0] == second and first not in visits
    left = [u for u in draft["unassigned"] if u["order_id"] == "late-1"]
    assert [u["reason"] for u in left] == ["no_van_at_site"]
    committed = client.post(f"/v1/plans/{draft['id']}/commit")
    assert committed.status_code == 200, committed.text
    assert client.get(f"/v1/plans/{plan_id}").json()["status"] == "superseded"
    after = client.get(f"/v1/routes/{route_id}").json()
    assert after["plan_id"] == draft["id"]
    assert [s["status"] for s in after["stops"][:2]] == ["delivered", "arrived"]


def test_replan_checks(client: TestClient) -> None:
    missing = client.post("/v1/plans/nope/replan", json={"at": "2026-11-27T11:00:00+00:00"})
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")
    naive = client.post("/v1/plans/nope/replan", json={"at": "2026-11-27T11:00:00"})
    assert naive.status_code == 422 and "offset" in naive.text
    both = client.post(
        "/v1/plans/nope/replan",
        json={"at": "2026-11-27T11:00:00Z", "add_orders": ["a"], "cancel_orders": ["a"]},
    )
    assert both.status_code == 422 and "both added and cancelled" in both.text
    long = client.post(
        "/v1/plans/nope/replan",
        json={"at": "2026-11-27T11:00:00Z", "options": {"routing_time_limit_s": 10_000}},
    )
    assert long.status_code == 422


def test_a_draft_is_not_replanned(client: TestClient) -> None:
    from tests.api.http.test_book_plans import stock_up

    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ORDER_IDS)
    draft = book_plan(client)
    answer = client.post(
        f"/v1/plans/{draft['id']}/replan", json={"at": "2026-11-27T11:00:00+00:00"}
    )
    assert answer.status_code == 409
    assert_error_shape(answer.json(), "invalid_transition")
