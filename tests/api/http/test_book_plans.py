"""Plans from the order book over HTTP: capture, pay, plan, commit; the allocation judged by
the independent evaluator on a plan request the test writes out itself; stale plans."""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from fastapi.testclient import TestClient

from api.http.examples import PLAN_REQUEST
from engine.allocation import evaluate_allocation
from engine.plan.pipeline import site_requests
from engine.routing.evaluate import evaluate
from models.plan import PlanRequest, PlanResult
from tests.api.payloads import assert_error_shape, wait_for

DATE = "2026-11-27"
SITE_LOCATION = [-8.63, 41.18]
VAN = {
    "id": "van-1",
    "site_id": "wh-1",
    "capacity": {"weight_kg": 500},
    "shift": [28800, 64800],
    "cost_per_km": 0.3,
}
PRODUCTS = [
    {"sku": "kettle", "weight_kg": 1.5, "volume_l": 6},
    {"sku": "toaster", "weight_kg": 2.5, "volume_l": 9},
]
#: The book orders of these tests: id -> (location, lines as (line id, sku, units)).
ORDERS: dict[str, tuple[list[float], list[tuple[str, str, int]]]] = {
    "o-1": ([-8.61, 41.15], [("1", "kettle", 2)]),
    "o-2": ([-8.60, 41.16], [("1", "kettle", 1), ("2", "toaster", 1)]),
    "o-3": ([-8.62, 41.17], [("1", "toaster", 2)]),
}


def stock_up(client: TestClient, units: dict[str, int]) -> None:
    """Site ``wh-1`` holding ``units`` of each sku (0: the sku is known, none on hand)."""
    assert client.put("/v1/sites/wh-1", json={"location": SITE_LOCATION}).status_code == 201
    for sku, quantity in units.items():
        receipt = {"site_id": "wh-1", "sku": sku, "quantity": 10, "kind": "receipt"}
        assert client.post("/v1/stock/movements", json=receipt).status_code == 201
        count = {"site_id": "wh-1", "sku": sku, "quantity": quantity, "kind": "count"}
        assert client.post("/v1/stock/movements", json=count).status_code == 201


def capture_and_pay(client: TestClient, order_ids: list[str], channel: str = "api") -> None:
    """Capture each order unpaid (on hold), then authorise its payment (ready)."""
    for order_id in order_ids:
        location, lines = ORDERS[order_id]
        body = {
            "id": order_id,
            "channel": channel,
            "location": location,
            "lines": [{"id": i, "sku": s, "quantity": q} for i, s, q in lines],
        }
        captured = client.post("/v1/orders", json=body)
        assert captured.status_code == 201, captured.text
        assert captured.json()["status"] == "on_hold"
        paid = client.post(
            f"/v1/orders/{order_id}/payment",
            params={"channel": channel},
            json={"status": "authorised"},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "ready"


def book_plan(client: TestClient, **selection: Any) -> dict[str, Any]:
    """POST /v1/plans from the book: one van at wh-1, time limits of 1 s."""
    body = {
        "from_book": {"date": DATE, "site_ids": ["wh-1"], **selection},
        "fleet": [VAN],
        "products": PRODUCTS,
        "options": {"routing_time_limit_s": 1, "parallel": False},
        "allocation_options": {"time_limit_s": 1},
    }
    response = client.post("/v1/plans", json=body)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["status"] == "draft" and plan["source"] == "book"
    assert plan["id"]
    return plan


def expected_request(stock: dict[str, int], order_ids: list[str]) -> PlanRequest:
    """The plan request the book should have solved, written out from what the test put in."""
    return PlanRequest.model_validate(
        {
            "plan_date": DATE,
            "day_start": f"{DATE}T00:00:00Z",
            "sites": [{"id": "wh-1", "location": SITE_LOCATION}],
            "stock": [
                {"site_id": "wh-1", "sku": sku, "on_hand": units} for sku, units in stock.items()
            ],
            "orders": [
                {
                    "id": order_id,
                    "channel": "api",
                    "location": ORDERS[order_id][0],
                    "lines": [
                        {"id": i, "sku": s, "quantity": q} for i, s, q in ORDERS[order_id][1]
                    ],
                }
                for order_id in order_ids
            ],
            "products": PRODUCTS,
            "fleet": [VAN],
            "allocation_options": {"time_limit_s": 1},
            "options": {"routing_time_limit_s": 1, "parallel": False},
        }
    )


def check_plan(request: PlanRequest, body: dict[str, Any]) -> PlanResult:
    """The allocation passes its checker and each site's routes the routing evaluator."""
    result = PlanResult.model_validate({k: body[k] for k in PlanResult.model_fields if k in body})
    assert request.plan_date is not None
    checked = evaluate_allocation(
        request.allocation_request(), result.allocation, request.plan_date
    )
    assert checked.feasible, [v.message for v in checked.violations]
    routing = site_requests(request, result.allocation)
    for site in result.sites:
        verdict = evaluate(routing[site.site_id][0], site.routing)
        assert verdict.feasible, [v.message for v in verdict.violations]
    return result


def shipped_units(plan: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Units per (site, sku) over the plan's shipment lines, summed here."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    for shipment in plan["allocation"]["shipments"]:
        for line in shipment["lines"]:
            units[(shipment["site_id"], line["sku"])] += line["quantity"]
    return dict(units)


def levels(client: TestClient) -> dict[str, dict[str, int]]:
    """Stock at wh-1 by sku: on_hand, reserved, available."""
    page = client.get("/v1/stock", params={"site_id": "wh-1"}).json()["levels"]
    return {
        lv["sku"]: {
            "on_hand": lv["on_hand"],
            "reserved": lv["reserved"],
            "available": lv["available"],
        }
        for lv in page
    }


def test_capture_pay_plan_commit(client: TestClient) -> None:
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ["o-1", "o-2", "o-3"])

    plan = book_plan(client)
    assert sorted(ref["order_id"] for ref in plan["book_orders"]) == ["o-1", "o-2", "o-3"]
    check_plan(expected_request({"kettle": 10, "toaster": 5}, ["o-1", "o-2", "o-3"]), plan)
    # enough stock at the one site, 3 km away: every line ships from wh-1 by van
    assert plan["allocation"]["unfulfilled"] == []
    assert shipped_units(plan) == {("wh-1", "kettle"): 3, ("wh-1", "toaster"): 3}
    assert {s["mode"] for s in plan["shipments"]} == {"van"}

    stored = client.get(f"/v1/plans/{plan['id']}")
    assert stored.status_code == 200
    assert stored.json()["status"] == "draft"
    # a draft reserves nothing
    assert levels(client) == {
        "kettle": {"on_hand": 10, "reserved": 0, "available": 10},
        "toaster": {"on_hand": 5, "reserved": 0, "available": 5},
    }

    committed = client.post(f"/v1/plans/{plan['id']}/commit")
    assert committed.status_code == 200, committed.text
    outcome = committed.json()
    assert outcome["status"] == "committed"
    assert outcome["units_reserved"] == 6
    assert sorted((o["order_id"], o["status"]) for o in outcome["orders"]) == [
        ("o-1", "allocated"),
        ("o-2", "allocated"),
        ("o-3", "allocated"),
    ]
    assert client.get(f"/v1/plans/{plan['id']}").json()["status"] == "committed"
    assert levels(client) == {
        "kettle": {"on_hand": 10, "reserved": 3, "available": 7},
        "toaster": {"on_hand": 5, "reserved": 3, "available": 2},
    }
    for order_id, (_, lines) in ORDERS.items():
        order = client.get(f"/v1/orders/{order_id}").json()
        assert order["status"] == "allocated"
        assert order["plan_id"] == plan["id"]
        assert [ln["reserved"] for ln in order["lines"]] == [q for _, _, q in lines]
    history = client.get("/v1/orders/o-1/history").json()["transitions"]
    assert (history[-1]["from_status"], history[-1]["to_status"], history[-1]["cause"]) == (
        "ready",
        "allocated",
        "plan_commit",
    )
    allocated = client.get("/v1/orders", params={"site_id": "wh-1", "status": "allocated"})
    assert [o["id"] for o in allocated.json()["orders"]] == ["o-1", "o-2", "o-3"]

    again = client.post(f"/v1/plans/{plan['id']}/commit")
    assert again.status_code == 409
    assert_error_shape(again.json(), "invalid_transition")
    assert levels(client)["kettle"]["reserved"] == 3

    # the next plan of the day has nothing left to take
    assert book_plan(client)["book_orders"] == []


def test_an_order_the_stock_cannot_serve_is_backordered_with_the_reason(
    client: TestClient,
) -> None:
    stock_up(client, {"kettle": 10, "toaster": 0})
    capture_and_pay(client, ["o-1", "o-3"])

    plan = book_plan(client)
    check_plan(expected_request({"kettle": 10, "toaster": 0}, ["o-1", "o-3"]), plan)
    assert shipped_units(plan) == {("wh-1", "kettle"): 2}
    unfulfilled = plan["allocation"]["unfulfilled"]
    assert [(u["order_id"], u["sku"], u["quantity"]) for u in unfulfilled] == [
        ("o-3", "toaster", 2)
    ]
    assert unfulfilled[0]["reason"] == "no_stock"

    committed = client.post(f"/v1/plans/{plan['id']}/commit")
    assert committed.status_code == 200, committed.text
    assert levels(client) == {
        "kettle": {"on_hand": 10, "reserved": 2, "available": 8},
        "toaster": {"on_hand": 0, "reserved": 0, "available": 0},
    }
    assert client.get("/v1/orders/o-1").json()["status"] == "allocated"
    short = client.get("/v1/orders/o-3").json()
    assert short["status"] == "backordered"
    assert short["plan_id"] is None
    assert "no_stock" in short["status_detail"] and "toaster" in short["status_detail"]
    assert short["lines"][0]["reserved"] == 0

    # stock comes in: the next plan takes the backordered order
    receipt = {"site_id": "wh-1", "sku": "toaster", "quantity": 2, "kind": "receipt"}
    assert client.post("/v1/stock/movements", json=receipt).status_code == 201
    later = book_plan(client)
    assert [ref["order_id"] for ref in later["book_orders"]] == ["o-3"]
    assert shipped_units(later) == {("wh-1", "toaster"): 2}
    assert client.post(f"/v1/plans/{later['id']}/commit").status_code == 200
    assert client.get("/v1/orders/o-3").json()["status"] == "allocated"


def test_a_plan_whose_orders_moved_is_stale(client: TestClient) -> None:
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ["o-1"])
    first = book_plan(client)
    second = book_plan(client)
    assert client.post(f"/v1/plans/{first['id']}/commit").status_code == 200
    before = levels(client)
    assert before["kettle"] == {"on_hand": 10, "reserved": 2, "available": 8}

    response = client.post(f"/v1/plans/{second['id']}/commit")
    assert response.status_code == 409, response.text
    body = response.json()
    assert_error_shape(body, "stale_plan")
    # o-1 is allocated now: the second plan's units for it are no longer open
    assert any(
        d.get("order_id") == "o-1" and ("allocated" in d["message"] or "open now" in d["message"])
        for d in body["details"]
    )
    assert levels(client) == before
    assert client.get(f"/v1/plans/{second['id']}").json()["status"] == "draft"


def test_a_plan_short_of_stock_since_it_was_made_is_stale_and_reserves_nothing(
    client: TestClient,
) -> None:
    stock_up(client, {"kettle": 2, "toaster": 5})
    capture_and_pay(client, ["o-1"], channel="web")
    capture_and_pay(client, ["o-1"], channel="api")
    web = book_plan(client, channels=["web"])
    api = book_plan(client, channels=["api"])
    assert shipped_units(web) == shipped_units(api) == {("wh-1", "kettle"): 2}
    assert client.post(f"/v1/plans/{web['id']}/commit").status_code == 200
    before = levels(client)
    assert before["kettle"] == {"on_hand": 2, "reserved": 2, "available": 0}

    response = client.post(f"/v1/plans/{api['id']}/commit")
    assert levels(client) == before
    assert client.get("/v1/orders/o-1", params={"channel": "api"}).json()["status"] == "ready"
    assert response.status_code == 409, response.text
    body = response.json()
    assert_error_shape(body, "stale_plan")
    (short,) = body["details"]
    assert (short.get("site_id"), short.get("sku")) == ("wh-1", "kettle")
    assert (short.get("needed"), short.get("available")) == (2, 0)


def test_a_plan_given_in_full_is_stored_but_not_committed(client: TestClient) -> None:
    request = copy.deepcopy(PLAN_REQUEST)
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["status"] == "draft" and plan["source"] == "request"
    assert plan["plan_date"] == request["plan_date"]
    check_plan(PlanRequest.model_validate(request), plan)
    assert client.get(f"/v1/plans/{plan['id']}").json()["status"] == "draft"

    committed = client.post(f"/v1/plans/{plan['id']}/commit")
    assert committed.status_code == 409
    assert_error_shape(committed.json(), "invalid_transition")
    assert client.get(f"/v1/plans/{plan['id']}").json()["status"] == "draft"
    assert client.get("/v1/stock").json()["levels"] == []
    assert client.get("/v1/plans/no-such-plan").status_code == 404
    assert client.post("/v1/plans/no-such-plan/commit").status_code == 404


def test_a_plan_of_an_unknown_site_is_a_422(client: TestClient) -> None:
    stock_up(client, {"kettle": 10})
    body = {"from_book": {"date": DATE, "site_ids": ["wh-9"]}, "fleet": []}
    response = client.post("/v1/plans", json=body)
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
    assert response.json()["details"][0]["field"] == "from_book.site_ids"


def test_a_plan_from_the_book_runs_as_a_job_and_is_stored_as_a_draft(client: TestClient) -> None:
    """``kind: book_plan``: the job reads the book in its own process, plans, stores the
    draft; the result is the stored plan, which commits like any other."""
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ["o-1", "o-2"])
    body = {
        "kind": "book_plan",
        "request": {
            "from_book": {"date": "2026-12-02"},
            "allocation_options": {"time_limit_s": 1},
            "options": {"routing_time_limit_s": 1},
        },
    }
    submitted = client.post("/v1/jobs", json=body)
    assert submitted.status_code == 202, submitted.text
    view = wait_for(client, submitted.json()["id"], {"succeeded", "failed"})
    assert view["status"] == "succeeded", view
    record = client.get(f"/v1/jobs/{view['id']}/result").json()
    assert record["status"] == "draft" and record["source"] == "book"
    assert {ref["order_id"] for ref in record["book_orders"]} == {"o-1", "o-2"}
    stored = client.get(f"/v1/plans/{record['id']}").json()
    assert stored["allocation"] == record["allocation"]
    committed = client.post(f"/v1/plans/{record['id']}/commit")
    assert committed.status_code == 200, committed.text
    assert {o["status"] for o in committed.json()["orders"]} == {"allocated"}


def test_a_book_plan_job_beyond_the_time_cap_is_a_422(client: TestClient) -> None:
    body = {
        "kind": "book_plan",
        "request": {"from_book": {"date": "2026-12-02"}, "options": {"routing_time_limit_s": 3000}},
    }
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 422
    assert "request.options.routing_time_limit_s" in response.text
