"""Returns over HTTP: orders taken to ``delivered`` through the API (plan, commit, pick,
pack, ship, deliver); a return opened (idempotently), refused beyond what was delivered,
approved, received and restocked (the stock level read before and after), an invalid move
409 naming both states, listing, the examples and the roles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.http import returns_examples as ex
from models.returns import ReceiveIn, ReturnIn, ReturnNote, ReturnPage, ReturnRecord
from tests.api.conftest import MakeClient
from tests.api.http.test_book_plans import book_plan, capture_and_pay, stock_up
from tests.api.payloads import assert_error_shape


def _delivered(client: TestClient) -> None:
    """o-1 (2 kettles, line 1) and o-2 (a kettle and a toaster) delivered from wh-1."""
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ["o-1", "o-2"])
    plan = book_plan(client)
    assert client.post(f"/v1/plans/{plan['id']}/commit").status_code == 200
    for order_id in ("o-1", "o-2"):
        for status in ("picking", "packed", "shipped", "delivered"):
            moved = client.post(f"/v1/orders/{order_id}/status", json={"status": status})
            assert moved.status_code == 200, moved.text


def _kettles(client: TestClient) -> int:
    levels = client.get("/v1/stock", params={"site_id": "wh-1", "sku": "kettle"}).json()
    return int(levels["levels"][0]["on_hand"])


def _open(client: TestClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/v1/returns", json=body, headers=headers)


def test_a_return_from_request_to_restock(client: TestClient) -> None:
    _delivered(client)
    body = {"order_id": "o-1", "lines": [{"line_id": "1", "quantity": 2}], "reason": "dented"}
    created = _open(client, body, **{"Idempotency-Key": "r-1"})
    assert created.status_code == 201, created.text
    ret = created.json()
    assert ret["status"] == "requested" and ret["site_id"] == "wh-1"
    assert created.headers["Location"] == f"/v1/returns/{ret['id']}"
    replay = _open(client, body, **{"Idempotency-Key": "r-1"})
    assert replay.status_code == 200 and replay.json()["id"] == ret["id"]
    clash = _open(client, {**body, "reason": "other"}, **{"Idempotency-Key": "r-1"})
    assert clash.status_code == 409
    assert_error_shape(clash.json(), "idempotency_conflict")
    too_many = _open(client, {**body, "lines": [{"sku": "kettle", "quantity": 1}]})
    assert too_many.status_code == 422  # both delivered kettles are in the first return
    assert_error_shape(too_many.json(), "invalid_input")
    assert too_many.json()["details"][0]["field"] == "lines[0].quantity"

    rid = ret["id"]
    early = client.post(f"/v1/returns/{rid}/restock")
    assert early.status_code == 409
    assert_error_shape(early.json(), "invalid_transition")
    assert "requested" in early.json()["message"] and "restocked" in early.json()["message"]
    before = _kettles(client)
    assert client.post(f"/v1/returns/{rid}/approve", json={"note": "ok"}).status_code == 200
    received = client.post(f"/v1/returns/{rid}/receive", json={"site_id": "wh-1"})
    assert received.status_code == 200 and received.json()["received_site_id"] == "wh-1"
    done = client.post(f"/v1/returns/{rid}/restock")
    assert done.status_code == 200 and done.json()["status"] == "restocked"
    assert _kettles(client) == before + 2
    got = client.get(f"/v1/returns/{rid}").json()
    assert [h["to_status"] for h in got["history"]] == [
        "requested",
        "approved",
        "received",
        "restocked",
    ]
    events = client.get("/v1/events", params={"limit": 500}).json()["events"]
    changes = [e["data"]["to"] for e in events if e["type"] == "return.status_changed"]
    assert changes == ["requested", "approved", "received", "restocked"]


def test_reject_list_and_bad_input(client: TestClient) -> None:
    _delivered(client)
    assert _open(client, {"order_id": "o-1", "lines": [], "reason": "x"}).status_code == 422
    unnamed = _open(client, {"order_id": "o-1", "lines": [{"quantity": 1}], "reason": "x"})
    assert unnamed.status_code == 422
    assert (
        _open(
            client, {"order_id": "nope", "lines": [{"sku": "kettle", "quantity": 1}], "reason": "x"}
        ).status_code
        == 404
    )
    a = _open(
        client, {"order_id": "o-2", "lines": [{"sku": "toaster", "quantity": 1}], "reason": "x"}
    )
    b = _open(
        client, {"order_id": "o-1", "lines": [{"sku": "kettle", "quantity": 1}], "reason": "y"}
    )
    assert a.status_code == b.status_code == 201
    rejected = client.post(f"/v1/returns/{a.json()['id']}/reject", json={"note": "worn"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = client.post(f"/v1/returns/{a.json()['id']}/approve")
    assert again.status_code == 409
    assert_error_shape(again.json(), "invalid_transition")
    listed = client.get("/v1/returns", params={"status": "rejected"}).json()
    assert [r["id"] for r in listed["returns"]] == [a.json()["id"]]
    by_order = client.get("/v1/returns", params={"order_id": "o-1"}).json()
    assert [r["id"] for r in by_order["returns"]] == [b.json()["id"]]
    page = client.get("/v1/returns", params={"limit": 1}).json()
    assert len(page["returns"]) == 1 and page["next_cursor"] is not None
    assert client.get("/v1/returns", params={"cursor": "x"}).status_code == 422
    assert client.get("/v1/returns/ret_missing").status_code == 404


def test_roles(make_client: MakeClient) -> None:
    keys = "r:read:rrrrrrrrrrrrrrrr,p:plan:pppppppppppppppp,a:admin:aaaaaaaaaaaaaaaa"
    client = make_client(api_keys=keys)
    read = {"Authorization": "Bearer rrrrrrrrrrrrrrrr"}
    plan = {"Authorization": "Bearer pppppppppppppppp"}
    admin = {"Authorization": "Bearer aaaaaaaaaaaaaaaa"}
    assert client.get("/v1/returns/x", headers=read).status_code == 404
    assert client.get("/v1/returns", headers=read).status_code == 200
    assert client.post("/v1/returns/x/approve", headers=read).status_code == 403
    # a return is handled up to its receipt with plan; its stock (restock, dispose): admin
    assert client.post("/v1/returns/x/approve", headers=plan).status_code == 404
    assert client.post("/v1/returns/x/receive", headers=plan).status_code == 404
    assert client.post("/v1/returns/x/restock", headers=plan).status_code == 403
    assert client.post("/v1/returns/x/restock", headers=admin).status_code == 404


def test_the_examples_parse_as_their_models() -> None:
    ReturnRecord.model_validate(ex.RETURN_RECORD)
    ReturnPage.model_validate(ex.RETURN_PAGE)
    for example in ex.RETURN_IN_EXAMPLES.values():
        ReturnIn.model_validate(example["value"])
    for example in ex.NOTE_EXAMPLES.values():
        ReturnNote.model_validate(example["value"])
    for example in ex.RECEIVE_EXAMPLES.values():
        ReceiveIn.model_validate(example["value"])
