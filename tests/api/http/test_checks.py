"""POST /v1/routes/check: a request and a plan in, the evaluator's verdict out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request


@pytest.fixture(scope="module")
def plan() -> tuple[dict[str, Any], dict[str, Any]]:
    """A request and our plan for it, checked by the evaluator before the tests use it."""
    request = routes_request(time_limit_s=0.3)
    parsed = RoutingRequest.model_validate(request)
    result = solve_routes(parsed)
    assert evaluate(parsed, result).feasible
    assert result.summary.stops_served == 4
    return request, result.model_dump(mode="json", exclude_none=True)


def test_a_feasible_plan_is_feasible(
    client: TestClient, plan: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    request, result = plan
    response = client.post("/v1/routes/check", json={"request": request, "result": result})
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["feasible"] is True and verdict["violations"] == []
    assert verdict["distance_m"] == pytest.approx(800.0)  # out to x=400 and back


def test_a_broken_plan_is_a_200_with_its_violations(
    client: TestClient, plan: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    request, result = plan
    broken = copy.deepcopy(result)
    steps = broken["routes"][0]["steps"]
    removed = next(s for s in steps if s["type"] == "job")
    steps.remove(removed)
    response = client.post("/v1/routes/check", json={"request": request, "result": broken})
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["feasible"] is False
    missing = [v for v in verdict["violations"] if v["code"] == "missing_stop"]
    assert [v["stop_id"] for v in missing] == [removed["id"]]


def test_a_bad_body_is_a_422_naming_the_field(
    client: TestClient, plan: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    request, result = plan
    broken = copy.deepcopy(result)
    broken["summary"]["cost"] = "cheap"
    response = client.post("/v1/routes/check", json={"request": request, "result": broken})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert any(d["field"] == "result.summary.cost" for d in body["details"]), body
    response = client.post("/v1/routes/check", json={"request": request})
    assert response.status_code == 422
    assert any(d["field"] == "result" for d in response.json()["details"])


def test_the_caps_of_routes_apply(
    make_client: MakeClient, plan: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    request, result = plan
    response = make_client(max_stops=3).post(
        "/v1/routes/check", json={"request": request, "result": result}
    )
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "limit_exceeded")
    assert body["details"][0]["field"] == "request.stops"


def test_an_api_key_is_required_when_set(
    make_client: MakeClient, plan: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    request, result = plan
    client = make_client(api_keys="secret")
    body = {"request": request, "result": result}
    assert client.post("/v1/routes/check", json=body).status_code == 401
    ok = client.post("/v1/routes/check", json=body, headers={"X-API-Key": "secret"})
    assert ok.status_code == 200, ok.text


def test_the_openapi_examples_hold(client: TestClient) -> None:
    """The documented examples: the feasible one is feasible, the broken one is not."""
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/routes/check"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    for name, feasible in (("feasible", True), ("missing_stop", False)):
        response = client.post("/v1/routes/check", json=examples[name]["value"])
        assert response.status_code == 200, response.text
        assert response.json()["feasible"] is feasible, name
