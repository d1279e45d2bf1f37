"""Issue 11, finding 3: what a plan cannot use (an explicit matrix, a van's ``start_index``)
is a 422 naming the caller's field, before the pipeline runs, over ``POST /v1/plans`` and
``POST /v1/jobs``; never a 500, never an internal stop id, and the keep-alive connection
keeps serving afterwards."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.examples import PLAN_REQUEST
from api.settings import Settings
from engine.plan.pipeline import plan
from models.errors import InvalidInputError
from models.plan import PlanRequest
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """Solves in a server thread, so that the patched engine below is the one that runs."""
    return make_client(sync_solves_in="thread")


EXPLICIT = {"provider": "explicit", "durations_s": [[0, 60], [60, 0]]}


def with_explicit_matrix() -> dict[str, Any]:
    request = copy.deepcopy(PLAN_REQUEST)
    request["options"]["matrix"] = copy.deepcopy(EXPLICIT)
    return request


def with_van_index(end: str) -> dict[str, Any]:
    request = copy.deepcopy(PLAN_REQUEST)
    request["fleet"][0][end] = 0
    return request


CASES = [
    (with_explicit_matrix, "options.matrix.provider"),
    (lambda: with_van_index("start_index"), "fleet[0].start_index"),
    (lambda: with_van_index("end_index"), "fleet[0].end_index"),
]


@pytest.fixture
def no_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan endpoint's pipeline fails the test if it is reached."""

    def reached(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the pipeline ran on a plan it cannot use")

    monkeypatch.setattr("api.http.routers.plans.plan", reached)


def assert_names_the_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert [d["field"] for d in body["details"]] == [field], body
    assert "@" not in response.text  # no internal stop id such as 'o-1@wh-porto'
    assert field in body["message"]


@pytest.mark.usefixtures("no_pipeline")
@pytest.mark.parametrize(("make", "field"), CASES)
def test_a_plan_it_cannot_use_is_a_422_naming_the_field(
    client: TestClient, make: Any, field: str
) -> None:
    assert_names_the_field(client.post("/v1/plans", json=make()), field)


@pytest.mark.parametrize(("make", "field"), CASES)
def test_a_plan_job_it_cannot_use_is_refused_at_submission(
    client: TestClient, make: Any, field: str
) -> None:
    response = client.post("/v1/jobs", json={"kind": "plan", "request": make()})
    assert_names_the_field(response, f"request.{field}")
    assert client.get("/v1/health").status_code == 200


def test_both_problems_are_named_at_once(client: TestClient) -> None:
    request = with_explicit_matrix()
    request["fleet"][0]["start_index"] = 0
    response = client.post("/v1/plans", json=request)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert fields == {"options.matrix.provider", "fleet[0].start_index"}


@pytest.mark.parametrize(("make", "field"), CASES)
def test_the_engine_refuses_them_before_allocating(
    make: Any, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reached(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("allocation ran on a plan it cannot use")

    monkeypatch.setattr("engine.plan.pipeline.allocate", reached)
    with pytest.raises(InvalidInputError) as raised:
        plan(PlanRequest.model_validate(make()))
    assert [d["field"] for d in raised.value.details] == [field]


# --------------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """A uvicorn server in this process on 127.0.0.1 (no job runner)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'jobs.db'}", api_keys="", max_sync_time_limit_s=5.0
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, run_jobs=False), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


@pytest.mark.parametrize(("make", "field"), CASES)
def test_the_connection_keeps_serving_after_a_refused_plan(
    server_url: str, make: Any, field: str
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server_url, timeout=30, limits=limits) as client:
        bad = client.post("/v1/plans", json=make())
        assert_names_the_field(bad, field)
        assert bad.headers.get("connection", "").lower() != "close"
        good = client.post("/v1/routes", json=routes_request(time_limit_s=0.5))
        assert good.status_code == 200, good.text
        # The same socket carried both: the server did not close or reset it.
        assert good.extensions["network_stream"] is bad.extensions["network_stream"]
