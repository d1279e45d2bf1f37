"""The real server (uvicorn, on 127.0.0.1) while its PostgreSQL job store is away.

The store is reached through :class:`tests.db_proxy.FaultProxy`: refusing (down) or
swallowing the traffic (hung). Every endpoint that needs the store answers 503
``store_unavailable`` with ``Retry-After`` (health: 503 ``degraded``) within a bound a few
times the store's timeouts, the others answer as usual, the server starts while the store is
down, and no job is lost once it is back. Without PostgreSQL these tests skip, and fail when
``CI=true``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import make_url

from api.http.app import create_app
from api.settings import Settings
from tests.api.payloads import assert_error_shape, check_routes_result, routes_request
from tests.db_proxy import FaultProxy, postgres_or_fail
from tests.postgres import fresh_postgres_url

#: Any answer later than this is a hang (the store's timeouts are 2 s to connect, 1 s a
#: statement).
BOUND_S = 15.0
UNKNOWN_JOB = "/v1/jobs/0b7e7a8e-3f4c-4a37-9f2a-2d6a0c1c1c1c"


class _Server:
    """``create_app(settings)`` under uvicorn in a thread, on a free local port."""

    def __init__(self, settings: Settings) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=BOUND_S)

    def stop(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def outage() -> Iterator[tuple[FaultProxy, Settings]]:
    """A proxy in front of the test PostgreSQL, and settings that reach a fresh database
    (dropped afterwards) through it."""
    postgres_or_fail()
    with fresh_postgres_url() as url:
        parsed = make_url(url)
        with FaultProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            yield proxy, _settings(proxy.url(url))


def _settings(database_url: str) -> Settings:
    """Short timeouts and leases, one worker, no keys."""
    return Settings(
        database_url=database_url,
        api_keys="",
        workers=1,
        job_lease_s=3.0,
        max_sync_time_limit_s=5.0,
        db_connect_timeout_s=2.0,
        db_statement_timeout_s=1.0,
        db_retry_s=0.5,
    )


def _job_body(time_limit_s: float = 0.5) -> dict[str, Any]:
    return {"kind": "routes", "request": routes_request(time_limit_s=time_limit_s)}


def _assert_store_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert_error_shape(response.json(), "store_unavailable")
    assert int(response.headers["retry-after"]) > 0


def _assert_every_endpoint_copes(client: httpx.Client) -> None:
    """The store is away: 503 where it is needed, the usual answer elsewhere."""
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    assert health.json()["database"] == "unreachable" and "retry-after" in health.headers
    _assert_store_unavailable(client.post("/v1/jobs", json=_job_body()))
    _assert_store_unavailable(client.get(UNKNOWN_JOB))
    _assert_store_unavailable(client.get(f"{UNKNOWN_JOB}/result"))
    _assert_store_unavailable(client.delete(UNKNOWN_JOB))
    order = {
        "id": "o1",
        "location": [-8.6, 41.1],
        "lines": [{"id": "1", "sku": "a", "quantity": 1}],
    }
    _assert_store_unavailable(client.post("/v1/orders", json=order))
    _assert_store_unavailable(client.get("/v1/orders"))
    _assert_store_unavailable(client.get("/v1/orders/o1/history"))
    _assert_store_unavailable(client.get("/v1/stock"))
    _assert_store_unavailable(client.put("/v1/sites/w1", json={"location": [-8.6, 41.1]}))
    reservation = {"order_id": "o1", "line_id": "1", "site_id": "w1", "sku": "a", "quantity": 1}
    _assert_store_unavailable(client.post("/v1/reservations", json=reservation))
    _assert_store_unavailable(client.post("/v1/plans/p1/commit"))
    options = client.options(UNKNOWN_JOB)
    assert options.status_code == 204 and options.headers["allow"] == "GET, DELETE, OPTIONS"
    request = routes_request()
    routed = client.post("/v1/routes", json=request)
    assert routed.status_code == 200, routed.text
    check_routes_result(request, routed.json())
    invalid = client.post("/v1/jobs", json={"kind": "routes", "request": {"stops": []}})
    assert invalid.status_code == 422  # validation needs no store


def _wait_for_health(client: httpx.Client, status_code: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while client.get("/v1/health").status_code != status_code:
        assert time.monotonic() < deadline, f"health never answered {status_code}"
        time.sleep(0.2)


def _wait_for_job(client: httpx.Client, job_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"/v1/jobs/{job_id}")
        if response.status_code == 200 and response.json()["status"] not in ("queued", "running"):
            view: dict[str, Any] = response.json()
            return view
        assert response.status_code in (200, 503), response.text
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {response.text}"
        time.sleep(0.2)


def test_the_server_starts_without_its_store_and_serves_what_needs_none(
    outage: tuple[FaultProxy, Settings],
) -> None:
    proxy, settings = outage
    proxy.mode = "refuse"
    server = _Server(settings)
    try:
        _assert_every_endpoint_copes(server.client)
        proxy.mode = "forward"  # the store is back: the server reconnects by itself
        _wait_for_health(server.client, 200)
        submitted = server.client.post("/v1/jobs", json=_job_body())
        assert submitted.status_code == 202, submitted.text
        view = _wait_for_job(server.client, submitted.json()["id"])
        assert view["status"] == "succeeded"
    finally:
        server.stop()


def test_a_hung_store_answers_503_within_its_timeout_everywhere(
    outage: tuple[FaultProxy, Settings],
) -> None:
    proxy, settings = outage
    server = _Server(settings)
    try:
        _wait_for_health(server.client, 200)  # connections are pooled, then go silent
        proxy.mode = "blackhole"
        _assert_every_endpoint_copes(server.client)
        with ThreadPoolExecutor(max_workers=24) as pool:  # many waiting callers at once
            healths = [pool.submit(server.client.get, "/v1/health") for _ in range(20)]
            jobs = [pool.submit(server.client.get, UNKNOWN_JOB) for _ in range(20)]
            request = routes_request()
            routed = server.client.post("/v1/routes", json=request)
            assert routed.status_code == 200, routed.text
            assert all(future.result().status_code == 503 for future in healths)
            for future in jobs:
                _assert_store_unavailable(future.result())
        proxy.mode = "forward"
        _wait_for_health(server.client, 200)
    finally:
        server.stop()


@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
def test_no_job_is_lost_across_an_outage(outage: tuple[FaultProxy, Settings], fault: str) -> None:
    proxy, settings = outage
    server = _Server(settings)
    try:
        running = server.client.post("/v1/jobs", json=_job_body(time_limit_s=2.0)).json()["id"]
        waiting = server.client.post("/v1/jobs", json=_job_body()).json()["id"]
        assert server.client.get(f"/v1/jobs/{waiting}").json()["status"] == "queued"
        proxy.mode = "refuse" if fault == "refuse" else "blackhole"
        _wait_for_health(server.client, 503)
        time.sleep(4.0)  # longer than the lease (3 s): heartbeats are held up meanwhile
        proxy.mode = "forward"
        _wait_for_health(server.client, 200)
        for job_id in (running, waiting):
            view = _wait_for_job(server.client, job_id)
            assert view["status"] == "succeeded", view
            assert view["attempts"] == 1  # never started again: the outage cost no attempt
            result = server.client.get(f"/v1/jobs/{job_id}/result")
            check_routes_result(routes_request(), result.json())
        assert server.client.get("/v1/health").json()["jobs"]["succeeded"] == 2
    finally:
        server.stop()
