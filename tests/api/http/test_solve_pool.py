"""Synchronous solves run in worker processes: same answers, same errors, a dead worker is a
``solver_failure`` and the pool comes back."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.http.solve_pool import SolvePool
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, check_routes_result, routes_request


def _pool(client: TestClient) -> SolvePool:
    pool: SolvePool = client.app.state.solve_pool  # type: ignore[attr-defined]
    return pool


def test_a_solve_in_a_worker_process_answers_what_a_thread_does(
    make_client: MakeClient,
) -> None:
    request = routes_request(time_limit_s=0.5, stops=6)
    request["options"]["solution_limit"] = 50  # one search: the same plan both ways
    answers = {}
    for mode in ("process", "thread"):
        client = make_client(sync_solves_in=mode)
        response = client.post("/v1/routes", json=request)
        assert response.status_code == 200, response.text
        answers[mode] = check_routes_result(request, response.json())
    assert _pool(client).mode == "thread"
    process, thread = answers["process"], answers["thread"]
    assert [[s.id for s in r.steps] for r in process.routes] == [
        [s.id for s in r.steps] for r in thread.routes
    ]
    assert process.summary.cost == thread.summary.cost


def test_the_pool_runs_in_other_processes(make_client: MakeClient) -> None:
    client = make_client()
    assert client.post("/v1/routes", json=routes_request()).status_code == 200
    executor = _pool(client)._executor
    assert executor is not None
    pids = set(executor._processes)  # the workers that exist now
    assert pids and os.getpid() not in pids


def test_invalid_input_found_in_the_worker_is_a_422_naming_the_field(
    make_client: MakeClient,
) -> None:
    client = make_client()
    request = routes_request()
    request["vehicles"][0]["breaks"] = [{"id": "b", "time_windows": [[0, 10000]], "duration_s": 5}]
    request["options"]["backend"] = "pyvrp"  # PyVRP cannot honour breaks: the engine says so
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), "invalid_input")
    assert any("backend" in d["field"] for d in response.json()["details"])


def test_a_worker_killed_mid_solve_is_a_solver_failure_and_the_next_solve_works(
    make_client: MakeClient,
) -> None:
    client = make_client(max_sync_solves=1)
    assert client.post("/v1/routes", json=routes_request()).status_code == 200  # warm
    answer: dict[str, Any] = {}

    def slow() -> None:
        answer["response"] = client.post("/v1/routes", json=routes_request(time_limit_s=4.0))

    caller = threading.Thread(target=slow)
    caller.start()
    time.sleep(1.0)
    executor = _pool(client)._executor
    assert executor is not None
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    caller.join(30)
    response: httpx.Response = answer["response"]
    assert response.status_code == 500, response.text
    assert_error_shape(response.json(), "solver_failure")
    again = client.post("/v1/routes", json=routes_request())
    assert again.status_code == 200, again.text
    check_routes_result(routes_request(), again.json())


def test_a_full_line_is_refused_before_the_body_is_read(make_client: MakeClient) -> None:
    client = make_client(max_sync_solves=1, max_sync_waiting=0)
    slots = client.app.state.sync_slots  # type: ignore[attr-defined]
    assert slots.acquire(timeout=1)
    try:  # the body is not even JSON: reading it would answer 422
        response = client.post(
            "/v1/routes", content=b"{not json", headers={"content-type": "application/json"}
        )
    finally:
        slots.release()
    assert response.status_code == 429, response.text
    assert_error_shape(response.json(), "busy")
    assert response.headers["Retry-After"] == "5"
    assert client.post("/v1/routes", content=b"{not json").status_code == 422
