"""Request bodies for the API tests, and an independent check of routing results."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from engine.routing.evaluate import evaluate
from models.routing import RoutingRequest, RoutingResult


def routes_request(time_limit_s: float = 0.5, stops: int = 4) -> dict[str, Any]:
    """A small routing request on a line (x in metres, 1 m/s), one van from x=0."""
    return {
        "stops": [
            {"id": f"s{i}", "location": [100.0 * (i + 1), 0.0], "demand": {"kg": 1}}
            for i in range(stops)
        ],
        "vehicles": [{"id": "van", "start": [0.0, 0.0], "end": [0.0, 0.0], "capacity": {"kg": 10}}],
        "matrix": {"provider": "euclidean", "speed_mps": 1.0},
        "options": {"time_limit_s": time_limit_s},
    }


def check_routes_result(request: dict[str, Any], body: dict[str, Any]) -> RoutingResult:
    """Parse a routing result and have the evaluator recompute it from the request."""
    result = RoutingResult.model_validate(body)
    verdict = evaluate(RoutingRequest.model_validate(request), result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert abs(verdict.cost - result.summary.cost) < 1e-6
    return result


def assert_error_shape(body: dict[str, Any], code: str | None = None) -> None:
    """The one error shape: code, message, details naming fields."""
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    for detail in body["details"]:
        assert detail["field"] and detail["message"]
    if code is not None:
        assert body["code"] == code, body


def wait_for(client: TestClient, job_id: str, statuses: set[str], timeout_s: float = 30) -> dict:
    """Poll a job until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout_s
    while True:
        view = client.get(f"/v1/jobs/{job_id}").json()
        if view["status"] in statuses:
            return view
        assert time.monotonic() < deadline, f"job {job_id} still {view['status']}"
        time.sleep(0.1)
