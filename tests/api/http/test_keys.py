"""Keys with roles and ownership (issue 11, finding 7): what each role may call, whose jobs a
key sees, the key-list forms, database keys (hashed, revocable) and a database outage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import api.http.auth
from api.http.app import create_app
from api.http.auth import ApiKeyMiddleware, Authenticator, KeyList, Principal, parse_api_keys
from api.settings import Settings
from engine.jobs.keys import KeyRecord, KeyStore, Role
from models.errors import InvalidInputError, StoreUnavailableError
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request

READER, PLANNER, OTHER, ADMIN = "reader-secret", "planner-secret", "other-secret", "admin-secret"
KEYS = f"dash:read:{READER},alice:plan:{PLANNER},bob:plan:{OTHER},ops:admin:{ADMIN}"
UNKNOWN_JOB = "/v1/jobs/00000000-0000-0000-0000-000000000000"
JOB = {"kind": "routes", "request": routes_request()}


def _as(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def keyed(make_client: MakeClient) -> TestClient:
    return make_client(run_jobs=False, api_keys=KEYS)


def _submit(client: TestClient, secret: str) -> str:
    response = client.post("/v1/jobs", json=JOB, headers=_as(secret))
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("secret", "method", "path"),
    [
        (READER, "post", "/v1/routes"),
        (READER, "post", "/v1/jobs"),
        (READER, "post", "/v1/allocations"),
        (READER, "post", "/v1/plans"),
        (READER, "post", "/v1/vroom"),
        (READER, "delete", UNKNOWN_JOB),
        (PLANNER, "put", UNKNOWN_JOB),  # not an endpoint a plan key is given
        (PLANNER, "post", "/v1/no-such-endpoint"),
    ],
)
def test_a_role_that_does_not_grant_the_endpoint_is_403(
    keyed: TestClient, secret: str, method: str, path: str
) -> None:
    response = keyed.request(method.upper(), path, json=JOB, headers=_as(secret))
    assert response.status_code == 403
    body = response.json()
    assert_error_shape(body, "forbidden")
    assert body["details"][0]["field"] == "role"


def test_a_read_key_submits_no_job(keyed: TestClient) -> None:
    response = keyed.post("/v1/jobs", json=JOB, headers=_as(READER))
    assert response.status_code == 403
    assert sum(keyed.app.state.store.counts().values()) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("secret", "method", "path", "status"),
    [
        (READER, "get", UNKNOWN_JOB, 404),
        (READER, "get", f"{UNKNOWN_JOB}/result", 404),
        (READER, "post", "/v1/routes/check", 422),  # a check is a read: the body is empty
        (PLANNER, "post", "/v1/routes", 422),
        (PLANNER, "post", "/v1/allocations", 422),
        (PLANNER, "delete", UNKNOWN_JOB, 404),
        (ADMIN, "put", UNKNOWN_JOB, 405),
    ],
)
def test_a_role_that_grants_the_endpoint_reaches_it(
    keyed: TestClient, secret: str, method: str, path: str, status: int
) -> None:
    response = keyed.request(method.upper(), path, json={}, headers=_as(secret))
    assert response.status_code == status, response.text


def test_a_plan_key_solves(keyed: TestClient) -> None:
    response = keyed.post("/v1/routes", json=routes_request(), headers=_as(PLANNER))
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------ ownership


def test_a_plan_key_sees_and_cancels_only_its_own_jobs(keyed: TestClient) -> None:
    job_id = _submit(keyed, PLANNER)
    path = f"/v1/jobs/{job_id}"
    for method, url in (("GET", path), ("GET", f"{path}/result"), ("DELETE", path)):
        response = keyed.request(method, url, headers=_as(OTHER))
        assert response.status_code == 404, (method, url)
        assert_error_shape(response.json(), "not_found")
    assert keyed.get(path, headers=_as(PLANNER)).json()["status"] == "queued"
    assert keyed.delete(path, headers=_as(PLANNER)).json()["status"] == "cancelled"


def test_a_read_key_sees_only_its_own_jobs(keyed: TestClient) -> None:
    job_id = _submit(keyed, PLANNER)
    assert keyed.get(f"/v1/jobs/{job_id}", headers=_as(READER)).status_code == 404


def test_jobs_record_their_creator(keyed: TestClient) -> None:
    job_id = _submit(keyed, PLANNER)
    record = keyed.app.state.store.get(job_id)  # type: ignore[attr-defined]
    assert record.created_by == "alice"


def test_an_admin_sees_every_job_also_those_made_without_keys(keyed: TestClient) -> None:
    store = keyed.app.state.store  # type: ignore[attr-defined]
    keyless = store.submit("routes", routes_request()).id  # created_by None
    for job_id in (_submit(keyed, PLANNER), _submit(keyed, OTHER), keyless):
        assert keyed.get(f"/v1/jobs/{job_id}", headers=_as(ADMIN)).status_code == 200
    assert keyed.get(f"/v1/jobs/{keyless}", headers=_as(PLANNER)).status_code == 404
    assert keyed.delete(f"/v1/jobs/{keyless}", headers=_as(ADMIN)).status_code == 200


def test_without_keys_everyone_sees_every_job(make_client: MakeClient) -> None:
    open_client = make_client(run_jobs=False)
    job_id = open_client.post("/v1/jobs", json=JOB).json()["id"]
    assert open_client.get(f"/v1/jobs/{job_id}").status_code == 200
    assert open_client.app.state.store.get(job_id).created_by is None  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the key list


@pytest.mark.parametrize("blank", [" , ", ",", " ", " ,, ,"])
def test_a_blank_key_list_is_a_start_up_error(tmp_path: Path, blank: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}", api_keys=blank)
    with pytest.raises(InvalidInputError, match=r"ROUTEPLAN_API_KEYS.*holds no key"):
        create_app(settings, run_jobs=False)


def test_an_empty_key_list_leaves_keys_off() -> None:
    assert parse_api_keys("") == KeyList(enabled=False, env_keys=())


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ci:root:s3cret-value", "no valid role"),
        ("s3cret:value:more", "no valid role"),  # an old bare secret with two ':'
        ("ci:dispatch:s3cret-value", "reserved"),
        ("ci:s3cret-value", "one ':'"),
        ("ci:plan:", "empty secret"),
        ("bad name:plan:s3cret-value", "no valid name"),
        ("ci:plan:s3cret-value,ci:read:other-value", "twice"),
        ("a:plan:s3cret-value,b:read:s3cret-value", "repeats"),
    ],
)
def test_a_broken_key_list_is_refused_without_showing_secrets(text: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why) as caught:
        parse_api_keys(text)
    for shown in (str(caught.value), repr(caught.value.details)):
        assert "s3cret" not in shown


def test_the_named_form_gives_names_and_roles() -> None:
    keys = parse_api_keys(" dash : read : r:with:colons , ops:ADMIN:a ").env_keys
    assert [(k.name, k.role, k.secret) for k in keys] == [
        ("dash", Role.READ, "r:with:colons"),
        ("ops", Role.ADMIN, "a"),
    ]


def test_the_bare_form_still_works_as_admin_keys(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False, api_keys="first-secret, second-secret")
    first = client.post("/v1/jobs", json=JOB, headers={"X-API-Key": "first-secret"}).json()["id"]
    second = client.post("/v1/jobs", json=JOB, headers=_as("second-secret")).json()["id"]
    store = client.app.state.store  # type: ignore[attr-defined]
    assert [store.get(first).created_by, store.get(second).created_by] == ["key-1", "key-2"]
    # both are admins: each sees the other's job
    assert client.get(f"/v1/jobs/{first}", headers=_as("second-secret")).status_code == 200
    assert client.get(f"/v1/jobs/{first}", headers=_as("third-secret")).status_code == 401


# ------------------------------------------------------------------ database keys


def _key_store(tmp_path: Path) -> KeyStore:
    return KeyStore(f"sqlite:///{tmp_path / 'jobs.db'}")


@pytest.mark.parametrize("env", ["@db", f"ops:admin:{ADMIN}"])
def test_database_keys_work_and_revoked_ones_stop(
    make_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setattr(api.http.auth, "KEY_CACHE_S", 0.0)  # every request asks the database
    store = _key_store(tmp_path)
    _, planner = store.create("ci", Role.PLAN)
    _, reader = store.create("board", Role.READ)
    client = make_client(run_jobs=False, api_keys=env)
    job_id = _submit(client, planner)
    assert client.app.state.store.get(job_id).created_by == "ci"  # type: ignore[attr-defined]
    assert client.get(f"/v1/jobs/{job_id}", headers=_as(planner)).status_code == 200
    assert client.post("/v1/jobs", json=JOB, headers=_as(reader)).status_code == 403
    assert client.get(f"/v1/jobs/{job_id}", headers=_as(reader)).status_code == 404
    assert client.get(f"/v1/jobs/{job_id}", headers=_as(planner + "x")).status_code == 401
    store.revoke("ci")
    response = client.get(f"/v1/jobs/{job_id}", headers=_as(planner))
    assert response.status_code == 401
    assert_error_shape(response.json(), "unauthorized")
    assert client.get(UNKNOWN_JOB, headers=_as(reader)).status_code == 404
    store.close()


def test_database_keys_are_stored_hashed(tmp_path: Path) -> None:
    store = _key_store(tmp_path)
    _, secret = store.create("ci", Role.PLAN)
    with store.engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(store.table.select())]
    assert rows and all(secret not in str(value) for row in rows for value in row)
    assert secret.split("_")[2] not in str(rows)
    store.close()


def test_a_cached_database_key_is_not_looked_up_again(tmp_path: Path) -> None:
    store = _CountingStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    _, secret = store.create("ci", Role.PLAN)
    now = [0.0]
    authenticator = Authenticator(parse_api_keys("@db"), store, cache_s=30.0, clock=lambda: now[0])
    expected = Principal("ci", Role.PLAN, "db")
    assert [anyio.run(authenticator.authenticate, secret) for _ in range(3)] == [expected] * 3
    assert store.calls == 1
    now[0] = 31.0
    assert anyio.run(authenticator.authenticate, secret) == expected
    assert store.calls == 2
    store.close()


# ------------------------------------------------------------------ a database outage


class _CountingStore(KeyStore):
    """A key store that counts its checks and can be made unreachable."""

    calls = 0
    down = False

    def verify(self, secret: str) -> KeyRecord | None:
        self.calls += 1
        if self.down:
            raise StoreUnavailableError("the key store is unreachable; retry later")
        return super().verify(secret)


def _whoami(request: Request) -> JSONResponse:
    principal = api.http.auth.current_principal()
    assert principal is not None
    return JSONResponse({"name": principal.name, "role": principal.role.value})


def _outage_client(store: KeyStore, clock: Any) -> TestClient:
    authenticator = Authenticator(
        parse_api_keys(f"ops:admin:{ADMIN}"), store, cache_s=30.0, clock=clock
    )
    app = Starlette(routes=[Route("/v1/whoami", _whoami)])
    return TestClient(ApiKeyMiddleware(app, authenticator))


def test_a_database_outage_spares_env_keys_and_recent_database_keys(tmp_path: Path) -> None:
    store = _CountingStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    _, seen = store.create("seen", Role.READ)
    _, unseen = store.create("unseen", Role.READ)
    now = [0.0]
    client = _outage_client(store, lambda: now[0])
    assert client.get("/v1/whoami", headers=_as(seen)).json() == {"name": "seen", "role": "read"}
    store.down, now[0] = True, 60.0  # past the cache: the database is asked, and fails
    assert client.get("/v1/whoami", headers=_as(ADMIN)).json() == {"name": "ops", "role": "admin"}
    assert client.get("/v1/whoami", headers=_as(seen)).json()["name"] == "seen"
    response = client.get("/v1/whoami", headers=_as(unseen))
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert_error_shape(response.json(), "store_unavailable")
    store.close()


def test_an_unreachable_database_answers_503_for_database_keys(tmp_path: Path) -> None:
    # nothing listens on port 1: connecting is refused at once
    store = KeyStore("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_timeout_s=2.0)
    client = _outage_client(store, lambda: 0.0)
    assert client.get("/v1/whoami", headers=_as(ADMIN)).status_code == 200
    response = client.get("/v1/whoami", headers=_as("rpk_0123456789abcdef_" + "x" * 43))
    assert response.status_code == 503
    assert_error_shape(response.json(), "store_unavailable")
    assert client.get("/v1/whoami", headers=_as("not-a-database-key")).status_code == 401
    store.close()
