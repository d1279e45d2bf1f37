"""Every operation of the OpenAPI spec, fuzzed by schemathesis in-process, with every check.

schemathesis reads ``/openapi.json`` from the app and sends generated requests, valid and
invalid, to each operation through ASGI (no socket). Every built-in check is on: no server
error, statuses, content types, headers and bodies as documented, invalid data rejected,
valid data accepted, keys enforced, unsupported methods refused. The server's caps are set
small so that a generated request either solves a tiny problem within a second or gets its
documented 422 at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api.http.app import create_app
from api.settings import Settings
from tests.api.conftest import MakeClient

#: The key every generated request sends (an admin, so that every endpoint is reachable).
API_KEY = "fuzz-admin-secret-0123456789"
#: Generated requests per operation in the fuzzing phase (examples and coverage add theirs).
MAX_EXAMPLES = 20

#: The server's caps: tiny problems, short searches, a small queue.
SERVER_CAPS: dict[str, Any] = {
    "api_keys": f"fuzzer:admin:{API_KEY}",
    "max_stops": 8,
    "max_orders": 8,
    "max_vehicles": 3,
    "max_matrix_cells": 100,
    "max_time_limit_s": 1.0,
    "max_sync_time_limit_s": 1.0,
    "max_queued_jobs": 20,
    "max_sync_solves": 1,
    "sync_wait_s": 1.0,
    "max_body_bytes": 256 * 1024,
    "db_connect_timeout_s": 2.0,
    "db_statement_timeout_s": 2.0,
}

#: One seed, so that CI replays the same requests; ROUTEPLAN_FUZZ_SEED explores others.
SEED = int(os.environ.get("ROUTEPLAN_FUZZ_SEED", "11"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES},
        "phases": {"stateful": {"enabled": False}},
        # The coverage phase sends every boundary of every field (thousands of requests per
        # operation). These two bodies wrap the others' (a routes, allocations, plans or
        # VROOM request; a routes request and its result), whose boundaries are covered
        # there; they get the examples and fuzzing phases.
        "operations": [
            {
                "include-name": ["POST /v1/jobs", "POST /v1/routes/check"],
                "phases": {"coverage": {"enabled": False}},
            },
            # An event stream answers for as long as its timeout_s (1 to 300 s): each
            # generated call would hold the run that long. tests/api/http/test_webhooks.py
            # reads it from a real server instead.
            {"include-name": ["GET /v1/events/stream"], "enabled": False},
        ],
        # The key goes in each way the spec allows; schemathesis also sends none or a wrong one.
        "auth": {
            "openapi": {
                "APIKeyHeader": {"api_key": API_KEY},
                "HTTPBearer": {"bearer": API_KEY},
            }
        },
        "request-timeout": 30,
        "checks": {
            # A schema-valid body may still break a rule JSON Schema cannot state (a window
            # that ends before it starts, an index past the matrix, this server's caps):
            # that is a 422 naming the field (checked by error_bodies_name_their_fields).
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", 401, 403, 404, 409, 422, 429, 503],
            },
        },
    }
)


#: The job store's folder: made at import (schemathesis reads the spec while collecting).
_STORE_DIR = tempfile.TemporaryDirectory(prefix="routeplan-schemathesis-")
APP = create_app(
    Settings(database_url=f"sqlite:///{Path(_STORE_DIR.name) / 'jobs.db'}", **SERVER_CAPS),
    run_jobs=False,  # jobs stay queued: their reads answer as for a job not yet run
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _remove_store() -> Iterator[None]:
    """Remove the job store's folder once every operation has run."""
    yield
    _STORE_DIR.cleanup()


@schemathesis.check
def error_bodies_name_their_fields(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every error is in the one shape, and a 422 says which field is wrong and why."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and {"code", "message", "details"} <= body.keys(), body
    assert body["code"] and body["message"], body
    if response.status_code == 422:
        assert body["details"], f"a 422 with no details: {body}"
        for item in body["details"]:
            assert item["field"] and item["message"], f"a detail that names no field: {item}"
    return True


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no replays between runs: the seed decides
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_repeated_skills_are_refused_as_the_spec_says(make_client: MakeClient) -> None:
    """The spec says a ``skills`` list has unique items, so a repeat is a 422 naming it."""
    client = make_client(run_jobs=False)
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert spec["Vehicle"]["properties"]["skills"].get("uniqueItems") is True
    response = client.post(
        "/v1/routes",
        json={
            "stops": [{"id": "a", "location": [0.0, 0.0]}],
            "vehicles": [{"id": "v", "start": [0.0, 0.0], "skills": ["cold", "cold"]}],
            "options": {"time_limit_s": 0.5},
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == "vehicles[0].skills"


def test_a_number_is_not_a_boolean(make_client: MakeClient) -> None:
    """``"optional": 0`` is a 422 naming the field, not ``false``."""
    client = make_client(run_jobs=False)
    response = client.post(
        "/v1/routes",
        json={
            "stops": [{"id": "a", "location": [0.0, 0.0], "optional": 0}],
            "vehicles": [{"id": "v", "start": [0.0, 0.0]}],
            "options": {"time_limit_s": 0.5},
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == "stops[0].optional"


def test_a_read_key_gets_only_documented_statuses(make_client: MakeClient) -> None:
    """A ``read`` key calling each operation (a 403 for the solves and cancels) gets a status
    the spec lists for that operation; the fuzzing above uses an ``admin`` key."""
    client = make_client(run_jobs=False, api_keys="dash:read:dash-secret-0123456789")
    spec = client.get("/openapi.json").json()
    answered = set()
    for path, operations in spec["paths"].items():
        url = path.replace("{job_id}", "00000000-0000-4000-8000-000000000000")
        if path.endswith("/events/stream"):
            url += "?timeout_s=1"  # a stream: it ends after a second
        for method, operation in operations.items():
            response = client.request(
                method.upper(),
                url,
                headers={"X-API-Key": "dash-secret-0123456789"},
                json={} if method == "post" else None,
            )
            answered.add(response.status_code)
            assert str(response.status_code) in operation["responses"], (method, path)
    assert 403 in answered
