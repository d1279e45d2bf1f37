"""Bad input on every endpoint: the documented error shape, the right status, never a 500;
and the 500 for a bug: a request id, a logged traceback, no internals in the body."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import api.http.routers.routes
from api.http.examples import ALLOCATION_REQUEST
from engine.jobs.store import _make_engine
from models.errors import InvalidInputError, SolverError, StoreUnavailableError, error_body
from models.routing import RoutingOptions
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request

VROOM_OK = {"vehicles": [{"id": 1, "start": [2.3, 48.8]}], "jobs": []}
JOB_OK = {"kind": "routes", "request": routes_request()}

#: (endpoint, a valid body) for every endpoint that takes a body.
POSTS = [
    ("/v1/routes", routes_request()),
    ("/v1/allocations", ALLOCATION_REQUEST),
    ("/v1/jobs", JOB_OK),
    ("/v1/vroom", VROOM_OK),
]


@pytest.mark.parametrize(("path", "_body"), POSTS)
@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b'{"stops": [', b"\xff\xfe", b"[1, 2, 3]", b"null", b'"text"']
)
def test_malformed_json_is_a_422(client: TestClient, path: str, _body: Any, raw: bytes) -> None:
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), "invalid_input")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/routes", {**routes_request(), "vehicles": "many"}, "vehicles"),
        (
            "/v1/routes",
            {**routes_request(), "stops": [{"id": 1, "location": "here"}]},
            "stops[0].location",
        ),
        (
            "/v1/routes",
            {**routes_request(), "options": {"time_limit_s": "long"}},
            "options.time_limit_s",
        ),
        ("/v1/jobs", {"kind": "routes", "request": {"stops": 3, "vehicles": []}}, "request.stops"),
        ("/v1/jobs", {"kind": "routes"}, "request"),
        ("/v1/vroom", {"vehicles": [{"id": "one"}]}, "vehicles[0].id"),
        ("/v1/allocations", {**ALLOCATION_REQUEST, "orders": {"o": 1}}, "orders"),
        (
            "/v1/allocations",
            {**ALLOCATION_REQUEST, "stock": [{"site_id": "wh-sp", "sku": "A", "on_hand": "x"}]},
            "stock[0].on_hand",
        ),
        ("/v1/vroom", {**VROOM_OK, "jobs": [{"id": 1, "delivery": "lots"}]}, "jobs[0].delivery"),
    ],
)
def test_wrong_types_name_the_field(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert field in [d["field"] for d in body["details"]], body


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/routes",
            {**routes_request(), "options": {"time_limit_s": -1}},
            "options.time_limit_s",
        ),
        (
            "/v1/routes",
            {**routes_request(), "stops": [{"id": 1, "location": [0, 0], "priority": 500}]},
            "stops[0].priority",
        ),
        (
            "/v1/routes",
            {**routes_request(), "stops": [{"id": 1, "location": [0, 0], "service": -5}]},
            "stops[0].service",
        ),
        ("/v1/routes", {**routes_request(), "vehicles": []}, "vehicles"),
        (
            "/v1/jobs",
            {"kind": "routes", "request": {**routes_request(), "options": {"seed": -1}}},
            "request.options.seed",
        ),
        ("/v1/vroom", {"vehicles": [{"id": 1, "speed_factor": 9}]}, "vehicles[0].speed_factor"),
        ("/v1/vroom", {"vehicles": [{"id": -1}]}, "vehicles[0].id"),
        (
            "/v1/allocations",
            {**ALLOCATION_REQUEST, "stock": [{"site_id": "wh-sp", "sku": "A", "on_hand": -3}]},
            "stock[0].on_hand",
        ),
        (
            "/v1/allocations",
            {**ALLOCATION_REQUEST, "options": {"relative_gap": 2}},
            "options.relative_gap",
        ),
    ],
)
def test_out_of_range_values_name_the_field(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert field in [d["field"] for d in body["details"]], body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/routes",
            {
                "stops": [{"id": 1, "location_index": 9}],
                "vehicles": [{"id": "v", "start_index": 0}],
                "matrix": {"provider": "explicit", "durations_s": [[0, 1], [1, 0]]},
            },
        ),
        ("/v1/routes", {**routes_request(), "stops": [{"id": 1, "location": [0, 0]}] * 2}),
        (
            "/v1/vroom",
            {
                "vehicles": [{"id": 1, "start_index": 7}],
                "jobs": [{"id": 1, "location_index": 0}],
                "matrices": {"car": {"durations": [[0]]}},
            },
        ),
        ("/v1/vroom", {"vehicles": [{"id": 1, "start": [2.3, 48.8]}] * 2}),
        (
            "/v1/allocations",
            {**ALLOCATION_REQUEST, "stock": [{"site_id": "nowhere", "sku": "A", "on_hand": 1}]},
        ),
    ],
)
def test_unknown_or_duplicate_ids_and_indices_are_a_422(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
    assert response.json()["details"]


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("get", "/result"), ("delete", "")])
def test_unknown_job_ids_are_a_404(client: TestClient, method: str, suffix: str) -> None:
    response = getattr(client, method)(f"/v1/jobs/{uuid.uuid4()}{suffix}")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


@pytest.mark.parametrize(("path", "body"), POSTS)
def test_oversized_requests_are_a_413(make_client: MakeClient, path: str, body: Any) -> None:
    client = make_client(max_body_bytes=1000)
    big = {**body, "padding": "x" * 5000}
    response = client.post(
        path, content=json.dumps(big), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_oversized_streamed_requests_without_length_are_a_413(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=1000)

    def chunks():
        yield b'{"stops": ['
        for _ in range(200):
            yield b'{"id": 1, "location": [0, 0]},'
        yield b"]}"

    response = client.post(
        "/v1/routes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_unknown_paths_and_methods_use_the_error_shape(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")
    wrong = client.put("/v1/routes", json={})
    assert wrong.status_code == 405
    assert_error_shape(wrong.json(), "method_not_allowed")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["id", "stops", "jobs", "vehicles", "kind", "request", "location", "options"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from([p for p, _ in POSTS]), body=json_values)
def test_random_json_never_gets_a_500(client: TestClient, path: str, body: Any) -> None:
    raw = json.dumps(body, allow_nan=True)
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error_shape(response.json())


def test_busy_server_answers_429_when_no_solve_slot_frees_up(make_client: MakeClient) -> None:
    client = make_client(max_sync_solves=1, sync_wait_s=0.1)
    slots = client.app.state.sync_slots  # type: ignore[attr-defined]
    assert slots.acquire(timeout=1)  # a solve is running
    try:
        response = client.post("/v1/routes", json=routes_request())
    finally:
        slots.release()
    assert response.status_code == 429
    assert_error_shape(response.json(), "busy")
    assert response.headers["Retry-After"] == "5"
    assert client.post("/v1/routes", json=routes_request()).status_code == 200


def _routes_raising(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(api.http.routers.routes, "solve_routes", broken)


def test_an_unexpected_error_is_a_500_with_a_request_id_and_a_logged_traceback(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sync_solves_in="thread")  # the patched engine runs in-process
    _routes_raising(monkeypatch, RuntimeError("secret internals at 0xdeadbeef"))
    with caplog.at_level(logging.ERROR, logger="api.http.errors"):
        response = client.post("/v1/routes", json=routes_request())
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body, "internal_error")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and request_id in body["message"]
    assert "Traceback" not in response.text and "secret internals" not in response.text
    [record] = [r for r in caplog.records if r.name == "api.http.errors"]
    assert request_id in record.getMessage() and "/v1/routes" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "Traceback" in caplog.text and "secret internals" in caplog.text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (SolverError("the pyvrp backend failed"), 500, "solver_failure"),
        (StoreUnavailableError(), 503, "store_unavailable"),
        (InvalidInputError.for_field("stops[0].id", 7, "is taken"), 422, "invalid_input"),
    ],
)
def test_routeplan_errors_are_answered_with_their_code_and_status(
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    code: str,
) -> None:
    client = make_client(sync_solves_in="thread")  # the patched engine runs in-process
    _routes_raising(monkeypatch, error)
    response = client.post("/v1/routes", json=routes_request())
    assert response.status_code == status
    assert response.json() == error_body(error)
    assert_error_shape(response.json(), code)


def test_a_validation_error_raised_inside_is_a_422_naming_the_field(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(sync_solves_in="thread")  # the patched engine runs in-process

    def invalid(*_args: Any, **_kwargs: Any) -> Any:
        RoutingOptions.model_validate({"time_limit_s": -1})

    monkeypatch.setattr(api.http.routers.routes, "solve_routes", invalid)
    response = client.post("/v1/routes", json=routes_request())
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
    assert [d["field"] for d in response.json()["details"]] == ["time_limit_s"]


def test_an_unreachable_job_store_is_a_503(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(run_jobs=False)
    store = client.app.state.store  # type: ignore[attr-defined]
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/jobs"
    monkeypatch.setattr(store, "engine", _make_engine(url))
    response = client.get(f"/v1/jobs/{uuid.uuid4()}")
    assert response.status_code == 503
    assert_error_shape(response.json(), "store_unavailable")
    assert "secret" not in response.text
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
