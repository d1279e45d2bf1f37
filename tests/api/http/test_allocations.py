"""POST /v1/allocations and allocation jobs: results pass the independent checker."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from api.http.examples import ALLOCATION_REQUEST
from engine.allocation import evaluate_allocation
from models.allocation import AllocationRequest, AllocationResult
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, wait_for


def allocation_request(time_limit_s: float = 2) -> dict[str, Any]:
    request = copy.deepcopy(ALLOCATION_REQUEST)
    request["options"] = {"time_limit_s": time_limit_s}
    return request


def check(request: dict[str, Any], body: dict[str, Any]) -> AllocationResult:
    parsed = AllocationRequest.model_validate(request)
    result = AllocationResult.model_validate(body)
    checked = evaluate_allocation(parsed, result, dt.date.fromisoformat(request["plan_date"]))
    assert checked.feasible, [v.message for v in checked.violations]
    return result


def test_orders_are_allocated_and_pass_the_checker(client: TestClient) -> None:
    request = allocation_request()
    response = client.post("/v1/allocations", json=request)
    assert response.status_code == 200, response.text
    result = check(request, response.json())
    assert result.totals.orders == 3
    assert [(u.order_id, u.reason) for u in result.unfulfilled] == [("o-3", "invalid_order")]


def test_an_allocation_job_runs_to_a_checked_result(client: TestClient) -> None:
    request = allocation_request()
    response = client.post("/v1/jobs", json={"kind": "allocation", "request": request})
    assert response.status_code == 202
    view = wait_for(client, response.json()["id"], {"succeeded", "failed"})
    assert view["status"] == "succeeded", view
    assert view["kind"] == "allocation" and view["best_cost"] > 0
    check(request, client.get(f"/v1/jobs/{view['id']}/result").json())


def test_request_level_problems_name_the_field(client: TestClient) -> None:
    request = allocation_request()
    request["sites"].append(dict(request["sites"][0]))
    response = client.post("/v1/allocations", json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert body["details"][0]["field"] == "sites[2].id"


def test_too_many_orders_is_a_422_naming_the_cap(make_client: MakeClient) -> None:
    client = make_client(max_orders=2)
    response = client.post("/v1/allocations", json=allocation_request())
    assert response.status_code == 422
    assert_error_shape(response.json(), "limit_exceeded")
    assert response.json()["details"][0]["field"] == "orders"
    job = client.post("/v1/jobs", json={"kind": "allocation", "request": allocation_request()})
    assert job.status_code == 422
    assert job.json()["details"][0]["field"] == "request.orders"
