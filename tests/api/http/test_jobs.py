"""Async jobs over HTTP: 202 + Location, progress while running, result, cancel, 429, 404."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient
from tests.api.payloads import (
    assert_error_shape,
    check_routes_result,
    routes_request,
    wait_for,
)


def _submit(client: TestClient, request: dict) -> str:
    response = client.post("/v1/jobs", json={"kind": "routes", "request": request})
    assert response.status_code == 202, response.text
    view = response.json()
    assert response.headers["location"] == f"/v1/jobs/{view['id']}"
    assert view["status"] == "queued" and view["kind"] == "routes"
    return view["id"]


def test_a_job_runs_to_a_result_that_passes_the_evaluator(client: TestClient) -> None:
    request = routes_request(time_limit_s=0.5)
    job_id = _submit(client, request)
    view = wait_for(client, job_id, {"succeeded", "failed"})
    assert view["status"] == "succeeded", view
    assert view["progress"] == 1.0 and view["attempts"] == 1 and view["finished_at"]
    result = client.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 200
    checked = check_routes_result(request, result.json())
    assert view["best_cost"] == checked.summary.cost


def test_a_running_job_reports_progress_and_best_cost_and_can_be_cancelled(
    client: TestClient,
) -> None:
    job_id = _submit(client, routes_request(time_limit_s=30))
    view = wait_for(client, job_id, {"running"})
    assert view["started_at"] is not None
    early = client.get(f"/v1/jobs/{job_id}/result")
    assert early.status_code == 409
    assert_error_shape(early.json(), "job_not_finished")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # progress and the best cost appear while it runs
        view = client.get(f"/v1/jobs/{job_id}").json()
        if view["progress"] and view["best_cost"] is not None:
            break
        time.sleep(0.1)
    assert 0 < view["progress"] < 1 and view["best_cost"] > 0
    cancelled = client.delete(f"/v1/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    result = client.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 409
    assert_error_shape(result.json(), "job_cancelled")
    again = client.delete(f"/v1/jobs/{job_id}")
    assert again.status_code == 409
    assert_error_shape(again.json(), "job_finished")


def test_a_queued_job_can_be_cancelled_and_never_runs(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False)
    job_id = _submit(client, routes_request())
    assert client.delete(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"


def test_a_full_queue_answers_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False, max_queued_jobs=1)
    _submit(client, routes_request())
    response = client.post("/v1/jobs", json={"kind": "routes", "request": routes_request()})
    assert response.status_code == 429
    assert response.headers["retry-after"]
    assert_error_shape(response.json(), "queue_full")


def test_a_job_that_fails_while_running_reports_why(client: TestClient) -> None:
    request = routes_request()
    request["options"]["backend"] = "pyvrp"  # PyVRP has no breaks: refused when solving
    request["vehicles"][0]["breaks"] = [{"id": "lunch", "time_windows": [[0, 100]], "service": 5}]
    job_id = _submit(client, request)
    view = wait_for(client, job_id, {"succeeded", "failed"})
    assert view["status"] == "failed"
    assert view["error"]["code"] == "invalid_input" and "pyvrp" in view["error"]["message"]
    result = client.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 409
    assert_error_shape(result.json(), "job_failed")


def test_the_same_request_is_refused_at_once_by_the_sync_endpoint(client: TestClient) -> None:
    request = routes_request()
    request["options"]["backend"] = "pyvrp"
    request["vehicles"][0]["breaks"] = [{"id": "lunch", "time_windows": [[0, 100]], "service": 5}]
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


def test_job_caps_use_the_longer_time_limit(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False, max_sync_time_limit_s=1, max_time_limit_s=10)
    _submit(client, routes_request(time_limit_s=5))  # over the sync cap, fine for a job
    response = client.post(
        "/v1/jobs", json={"kind": "routes", "request": routes_request(time_limit_s=11)}
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "request.options.time_limit_s"


def test_unknown_and_malformed_job_ids(client: TestClient) -> None:
    unknown = str(uuid.uuid4())
    for method, path in (
        ("get", f"/v1/jobs/{unknown}"),
        ("get", f"/v1/jobs/{unknown}/result"),
        ("delete", f"/v1/jobs/{unknown}"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
        assert response.json()["details"][0]["field"] == "job_id"
    response = client.get("/v1/jobs/not-a-job")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "job_id"


def test_unknown_job_kind_is_refused(client: TestClient) -> None:
    response = client.post("/v1/jobs", json={"kind": "teleport", "request": routes_request()})
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
    assert response.json()["details"][0]["field"] == "kind"


def test_jobs_persist_in_postgresql(fresh_pg_url: str) -> None:
    from api.http.app import create_app
    from api.settings import Settings

    settings = Settings(database_url=fresh_pg_url, api_keys="", job_lease_s=3.0)
    request = routes_request(time_limit_s=0.5)
    with TestClient(create_app(settings)) as client:
        job_id = _submit(client, request)
        view = wait_for(client, job_id, {"succeeded", "failed"})
        assert view["status"] == "succeeded"
        check_routes_result(request, client.get(f"/v1/jobs/{job_id}/result").json())
        assert client.get("/v1/health").json()["jobs"]["succeeded"] == 1
    with TestClient(create_app(settings, run_jobs=False)) as client:  # a later server
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"
