"""The real server: ``routeplan serve`` (uvicorn) on a free local port, driven over HTTP.

Includes the restart tests: a job accepted by a server that stops before the job finishes
(killed, or stopped gracefully) completes after a new server starts on the same store.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.payloads import check_routes_result, routes_request
from tests.servers import RealServer
from tests.vroom_check import check_vroom_solution

KEY = "e2e-secret"
LEASE_S = 2.0


class Server(RealServer):
    """One ``routeplan serve`` process with an API key and a short lease, on a job store
    shared between restarts."""

    def __init__(self, database_url: str, log: Path) -> None:
        env = {"ROUTEPLAN_API_KEYS": KEY, "ROUTEPLAN_JOB_LEASE_S": str(LEASE_S)}
        super().__init__(database_url, log, env)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(f"sqlite:///{tmp_path / 'jobs.db'}", tmp_path / "server.log")
    yield started
    started.kill_all()


def _client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=30)


def _submit(client: httpx.Client, request: dict[str, Any]) -> str:
    response = client.post("/v1/jobs", json={"kind": "routes", "request": request})
    assert response.status_code == 202, response.text
    return response.headers["location"]


def _wait(client: httpx.Client, location: str, statuses: set[str], timeout_s: float = 40) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        view = client.get(location).json()
        if view["status"] in statuses:
            return view
        assert time.monotonic() < deadline, f"job still {view['status']}"
        time.sleep(0.1)


def test_a_job_end_to_end_over_http(server: Server, shared_data: Path) -> None:
    server.start()
    request = routes_request(time_limit_s=1)
    with _client(server) as client:
        assert httpx.post(f"{server.url}/v1/routes", json=request).status_code == 401
        location = _submit(client, request)
        view = _wait(client, location, {"succeeded", "failed"})
        assert view["status"] == "succeeded", view
        result = client.get(f"{location}/result")
        assert result.status_code == 200
        check_routes_result(request, result.json())
        problem = json.loads((shared_data / "vroom" / "example_2.json").read_text())
        answer = client.post("/v1/vroom", json={**problem, "options": {"l": 0.5}}).json()
        assert answer["summary"]["cost"] == 5461
        assert check_vroom_solution(problem, answer) == []
    server.stop(signal.SIGTERM)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_a_job_survives_a_server_restart(server: Server, sig: signal.Signals) -> None:
    server.start()
    request = routes_request(time_limit_s=3)
    with _client(server) as client:
        location = _submit(client, request)
        running = _wait(client, location, {"running"})
        assert running["attempts"] == 1
    server.stop(sig)  # before the job can finish
    server.start()
    with _client(server) as client:
        view = _wait(client, location, {"succeeded", "failed", "cancelled"})
        assert view["status"] == "succeeded", view
        # A crash costs an attempt; a graceful stop hands the job back without one.
        assert view["attempts"] == (2 if sig == signal.SIGKILL else 1)
        check_routes_result(request, client.get(f"{location}/result").json())
