"""Optional API keys: 401 without a right key on every /v1 call but health."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.http.auth import Principal
from api.http.examples import ALLOCATION_REQUEST
from engine.jobs.keys import Role
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request

KEYS = "alpha-key,beta-key"

#: Every protected endpoint: (method, path, JSON body or None).
PROTECTED = [
    ("post", "/v1/routes", routes_request()),
    ("post", "/v1/allocations", ALLOCATION_REQUEST),
    ("post", "/v1/jobs", {"kind": "routes", "request": routes_request()}),
    ("get", "/v1/jobs/00000000-0000-0000-0000-000000000000", None),
    ("get", "/v1/jobs/00000000-0000-0000-0000-000000000000/result", None),
    ("delete", "/v1/jobs/00000000-0000-0000-0000-000000000000", None),
    ("post", "/v1/vroom", {"vehicles": [{"id": 1, "start": [2.3, 48.8]}]}),
]


@pytest.fixture
def keyed(make_client: MakeClient) -> TestClient:
    return make_client(run_jobs=False, api_keys=KEYS)


def _call(client: TestClient, method: str, path: str, body: object, headers: dict) -> object:
    if body is None:
        return getattr(client, method)(path, headers=headers)
    return getattr(client, method)(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "alpha"}, {"Authorization": "alpha-key"}],
)
def test_missing_or_wrong_keys_get_401(
    keyed: TestClient, method: str, path: str, body: object, headers: dict
) -> None:
    response = _call(keyed, method, path, body, headers)
    assert response.status_code == 401
    assert_error_shape(response.json(), "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer beta-key"}, {"X-API-Key": "alpha-key"}]
)
def test_right_keys_pass(
    keyed: TestClient, method: str, path: str, body: object, headers: dict
) -> None:
    response = _call(keyed, method, path, body, headers)
    assert response.status_code != 401


def test_health_needs_no_key(keyed: TestClient) -> None:
    assert keyed.get("/v1/health").status_code == 200


def test_the_key_is_checked_before_the_body_is_read(keyed: TestClient) -> None:
    response = keyed.post(
        "/v1/routes", content=b"{broken", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


def test_without_configured_keys_the_api_is_open(client: TestClient) -> None:
    response = client.post("/v1/vroom", json={"vehicles": [{"id": 1, "start": [2.3, 48.8]}]})
    assert response.status_code == 200


def test_the_check_compares_every_key() -> None:
    from starlette.datastructures import Headers

    from api.http.auth import Authenticator, given_secret, parse_api_keys

    authenticator = Authenticator(parse_api_keys("a,b"))
    assert [authenticator.env_principal(key) for key in ("a", "b", "c")] == [
        Principal("key-1", Role.ADMIN, "env"),
        Principal("key-2", Role.ADMIN, "env"),
        None,
    ]
    assert given_secret(Headers({"x-api-key": "b"})) == "b"
    assert given_secret(Headers({"authorization": "bearer a"})) == "a"
    assert given_secret(Headers({"authorization": "Basic a"})) is None
