"""The real server: ``routeplan serve`` (uvicorn) on a free local port, driven over HTTP.

Includes the restart tests: a job accepted by a server that stops before the job finishes
(killed, or stopped gracefully) completes after a new server starts on the same store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import REPO_ROOT
from tests.api.payloads import check_routes_result, routes_request
from tests.vroom_check import check_vroom_solution

KEY = "e2e-secret"
LEASE_S = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``routeplan serve`` process on a job store shared between restarts."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "ROUTEPLAN_DATABASE_URL": self.database_url,
            "ROUTEPLAN_API_KEYS": KEY,
            "ROUTEPLAN_JOB_LEASE_S": str(LEASE_S),
        }
        command = [
            str(Path(sys.executable).parent / "routeplan"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def kill_all(self) -> None:
        """Teardown: the server and anything left in its process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


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
