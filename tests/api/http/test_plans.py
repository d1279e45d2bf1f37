"""POST /v1/plans and plan jobs: the allocation passes its checker, each site's routes the
routing evaluator."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from api.http.examples import PLAN_REQUEST
from engine.allocation import evaluate_allocation
from engine.plan.pipeline import site_requests
from engine.routing.evaluate import evaluate
from models.book import PlanRecord
from models.plan import PlanRequest, PlanResult
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, wait_for


def plan_request() -> dict[str, Any]:
    return copy.deepcopy(PLAN_REQUEST)


def check(request: dict[str, Any], body: dict[str, Any], stored: bool = True) -> PlanResult:
    parsed = PlanRequest.model_validate(request)
    result: PlanResult
    if stored:  # POST /v1/plans stores the plan, as a draft
        result = record = PlanRecord.model_validate(body)
        assert record.status == "draft" and record.source == "request" and record.id
    else:  # a job's result is the plan alone
        result = PlanResult.model_validate(body)
    plan_date = dt.date.fromisoformat(request["plan_date"])
    checked = evaluate_allocation(parsed.allocation_request(), result.allocation, plan_date)
    assert checked.feasible, [v.message for v in checked.violations]
    routing = site_requests(parsed, result.allocation)
    for site in result.sites:
        verdict = evaluate(routing[site.site_id][0], site.routing)
        assert verdict.feasible, [v.message for v in verdict.violations]
    return result


def test_a_day_is_planned_and_every_part_checks_out(client: TestClient) -> None:
    request = plan_request()
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 200, response.text
    result = check(request, response.json())
    modes = {s.order_id: s.mode for s in result.shipments}
    assert modes == {"o-1": "van", "o-2": "van", "o-3": "carrier"}
    van = next(s for s in result.shipments if s.order_id == "o-1")
    assert van.eta_time is not None and 9 <= van.eta_time.hour < 12  # its window: 9:00-12:00


def test_a_plan_job_runs_to_a_checked_result(client: TestClient) -> None:
    request = plan_request()
    response = client.post("/v1/jobs", json={"kind": "plan", "request": request})
    assert response.status_code == 202, response.text
    assert response.headers["Location"].startswith("/v1/jobs/")
    view = wait_for(client, response.json()["id"], {"succeeded", "failed"})
    assert view["status"] == "succeeded", view
    check(request, client.get(f"/v1/jobs/{view['id']}/result").json(), stored=False)


def test_a_van_at_an_unknown_site_is_a_422_naming_it(client: TestClient) -> None:
    request = plan_request()
    request["fleet"][0]["site_id"] = "nowhere"
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert "fleet[0].site_id = 'nowhere'" in response.text


def test_wrong_types_and_malformed_json_are_422(client: TestClient) -> None:
    request = plan_request()
    request["options"]["routing_time_limit_s"] = "soon"
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 422
    assert any(d["field"].endswith("routing_time_limit_s") for d in response.json()["details"])
    response = client.post(
        "/v1/plans", content=b'{"sites": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


def test_a_long_routing_search_is_refused_by_the_sync_endpoint(make_client: MakeClient) -> None:
    client = make_client(max_sync_time_limit_s=5)
    request = plan_request()
    request["options"]["routing_time_limit_s"] = 60
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "limit_exceeded")
    assert body["details"][0]["field"] == "options.routing_time_limit_s"


def test_an_oversized_plan_is_a_413(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=1000)
    response = client.post("/v1/plans", json=plan_request())
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")
