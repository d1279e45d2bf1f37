"""Issue 11, finding 5: the caps count what costs (visits = stops + 2 x shipments, vehicles,
orders, the orders one site may route, explicit matrix cells) and refuse an oversized body
from its bytes, before any model of it is built: 422 ``limit_exceeded`` naming the field and
the setting, over every endpoint that takes a body."""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.body_caps import RULES, count_arrays, release_memory
from api.http.errors import ApiError
from api.http.examples import PLAN_REQUEST
from api.http.limits import check_plan, check_routing
from api.settings import Settings
from models.plan import PlanRequest
from models.routing import RoutingRequest
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, routes_request


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """Solves in a server thread, so that the patched engine below is the one that runs."""
    return make_client(sync_solves_in="thread")


JSON = {"Content-Type": "application/json"}


def shipments_request(count: int) -> dict[str, Any]:
    """A routing request of ``count`` shipments on a line (euclidean, metres)."""
    request = routes_request(stops=1)
    request["shipments"] = [
        {
            "pickup": {"id": f"p{i}", "location": [10.0 * i, 5.0]},
            "delivery": {"id": f"d{i}", "location": [10.0 * i, 9.0]},
        }
        for i in range(count)
    ]
    return request


def assert_cap(response: Any, field: str, setting: str) -> dict[str, Any]:
    """A 422 ``limit_exceeded`` whose first detail names ``field`` and the setting."""
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert_error_shape(body, "limit_exceeded")
    first = body["details"][0]
    assert first["field"] == field, body
    assert f"ROUTEPLAN_{setting}" in first["message"], body
    return body


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving fails the test: every request here must be refused before it."""

    def reached(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a request over the caps was solved")

    for name in ("routes.solve_routes", "plans.plan", "allocations.allocate", "checks.evaluate"):
        monkeypatch.setattr(f"api.http.routers.{name}", reached)
    monkeypatch.setattr("api.http.routers.vroom.solve_vroom", reached)


pytestmark = pytest.mark.usefixtures("no_solve")


def test_shipments_count_twice_toward_max_stops(client: TestClient) -> None:
    # 1 stop + 2 x 1,000 shipments = 2,001 visits: one over the default 2,000.
    body = assert_cap(
        client.post("/v1/routes", json=shipments_request(1000)), "shipments", "MAX_STOPS"
    )
    assert "2001 visits" in body["details"][0]["value"]


def test_2001_shipments_are_refused_over_routes_jobs_and_checks(client: TestClient) -> None:
    request = shipments_request(2001)
    assert_cap(client.post("/v1/routes", json=request), "shipments", "MAX_STOPS")
    job = {"kind": "routes", "request": request}
    assert_cap(client.post("/v1/jobs", json=job), "request.shipments", "MAX_STOPS")
    check = {"request": request, "result": {"routes": []}}
    assert_cap(client.post("/v1/routes/check", json=check), "request.shipments", "MAX_STOPS")


def test_the_model_check_counts_visits_too() -> None:
    """The handlers' check on the parsed request (also what Python callers of the limits
    get) counts shipments twice as well."""
    request = RoutingRequest.model_validate(shipments_request(1000))
    with pytest.raises(ApiError) as raised:
        check_routing(request, Settings(), sync=True)
    assert raised.value.details[0]["field"] == "shipments"
    check_routing(RoutingRequest.model_validate(shipments_request(999)), Settings(), sync=True)


def test_vroom_jobs_and_vehicles_are_capped(make_client: MakeClient) -> None:
    client = make_client(max_stops=3, max_vehicles=1)
    problem = {
        "jobs": [{"id": i, "location": [-8.6, 41.1 + i / 100]} for i in range(4)],
        "vehicles": [{"id": 1, "start": [-8.6, 41.1]}],
    }
    assert_cap(client.post("/v1/vroom", json=problem), "jobs", "MAX_STOPS")
    problem["jobs"] = problem["jobs"][:3]
    problem["vehicles"].append({"id": 2, "start": [-8.6, 41.1]})
    assert_cap(client.post("/v1/vroom", json=problem), "vehicles", "MAX_VEHICLES")


def test_vehicles_and_orders_are_capped(make_client: MakeClient) -> None:
    client = make_client(max_vehicles=1, max_orders=2)
    request = routes_request()
    request["vehicles"].append({**request["vehicles"][0], "id": "van-2"})
    assert_cap(client.post("/v1/routes", json=request), "vehicles", "MAX_VEHICLES")
    plan = copy.deepcopy(PLAN_REQUEST)
    assert_cap(client.post("/v1/plans", json=plan), "orders", "MAX_ORDERS")
    allocation = {k: plan[k] for k in ("plan_date", "sites", "stock", "orders")}
    assert_cap(client.post("/v1/allocations", json=allocation), "orders", "MAX_ORDERS")
    job = {"kind": "allocation", "request": allocation}
    assert_cap(client.post("/v1/jobs", json=job), "request.orders", "MAX_ORDERS")


def test_one_site_with_2500_orders_is_refused(client: TestClient) -> None:
    plan = copy.deepcopy(PLAN_REQUEST)
    plan["orders"] = [
        {
            "id": f"o-{i}",
            "location": [-8.61 + (i % 50) / 1000, 41.15 + (i // 50) / 1000],
            "lines": [{"id": 1, "sku": "kettle", "quantity": 1}],
        }
        for i in range(2500)
    ]
    plan["stock"][0]["on_hand"] = 5000
    body = assert_cap(client.post("/v1/plans", json=plan), "orders", "MAX_STOPS")
    assert "'wh-porto'" in body["details"][0]["value"]
    job = {"kind": "plan", "request": plan}
    assert_cap(client.post("/v1/jobs", json=job), "request.orders", "MAX_STOPS")
    # In Lisbon, the same orders cannot go by the Porto site's vans: within the caps.
    plan["orders"] = [{**o, "location": [-9.14, 38.72]} for o in plan["orders"]]
    check_plan(PlanRequest.model_validate(plan), Settings(), sync=True)


def _matrix_body(rows: int) -> bytes:
    """A routing request with an explicit ``rows`` x ``rows`` matrix of zeros, as bytes."""
    zeros = ",".join(["0"] * rows)
    matrix = "[" + ",".join([f"[{zeros}]"] * rows) + "]"
    request = routes_request()
    request["matrix"] = {"provider": "explicit", "durations_s": "MATRIX"}
    return json.dumps(request).replace('"MATRIX"', matrix).encode()


def test_a_3227_square_matrix_in_20_mib_is_refused_from_its_bytes(client: TestClient) -> None:
    body = _matrix_body(3227)
    assert len(body) <= 20 * 1024 * 1024
    response = client.post("/v1/routes", content=body, headers=JSON)
    result = assert_cap(response, "matrix.durations_s", "MAX_MATRIX_CELLS")
    assert result["details"][0]["value"] == f"3227 rows, {3227 * 3227} cells"


def test_a_matrix_of_one_long_row_counts_its_cells(make_client: MakeClient) -> None:
    client = make_client(max_matrix_cells=100)
    request = routes_request()
    request["matrix"] = {"provider": "explicit", "durations_s": [[0] * 101]}
    response = client.post("/v1/routes", json=request)
    assert_cap(response, "matrix.durations_s", "MAX_MATRIX_CELLS")


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.usefixtures("traced")
def test_680079_minimal_stops_are_refused_before_any_model_is_built(client: TestClient) -> None:
    stops = ",".join(f'{{"id":{i},"location":[0,0]}}' for i in range(680_079))
    body = f'{{"stops":[{stops}],"vehicles":[{{"id":"v"}}]}}'.encode()
    assert len(body) <= 20 * 1024 * 1024
    tracemalloc.reset_peak()
    response = client.post("/v1/routes", content=body, headers=JSON)
    _, peak_bytes = tracemalloc.get_traced_memory()
    result = assert_cap(response, "stops", "MAX_STOPS")
    assert "680079 stops" in result["details"][0]["value"]
    # Parsing it into models took 1.4 GB; the pre-count a few copies of the body.
    assert peak_bytes < 400 * 1024 * 1024, peak_bytes


def test_a_streamed_body_over_the_size_cap_is_a_413_in_the_one_shape(
    make_client: MakeClient,
) -> None:
    client = make_client(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        yield b'{"stops": ['
        for _ in range(200):
            yield b'{"id": 1},'

    response = client.post("/v1/routes", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_a_body_the_parser_refuses_is_left_to_it(client: TestClient) -> None:
    response = client.post("/v1/routes", content=b'{"stops": [1, 2', headers=JSON)
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


# ------------------------------------------------------------------ the raw counting


def _counts(body: bytes, path: str) -> dict[str, int] | None:
    """Field -> elements of the arrays counted in a body (None: not balanced JSON)."""
    counted = count_arrays(body, RULES[path])
    return None if counted is None else {c.count.field: c.elements for c in counted}


def test_strings_escapes_and_nesting_do_not_confuse_the_count() -> None:
    tricky = {
        "stops": [
            {"id": 'a "stops": [1, 2, 3], {"x": ['},
            {"id": "b\\", "skills": ["[", "]", ",", "{"]},
            {"id": "c", "time_windows": [[0, 1], [2, 3]]},
        ],
        "shipments": [],
        "vehicles": [{"id": "vehicles", "vehicles": [1, 2, 3], "breaks": [{"id": "x"}]}],
        "matrix": {"provider": "explicit", "durations_s": [[0, 1, 2], [1, 0, 2], [2, 1, 0]]},
    }
    body = json.dumps(tricky).encode()
    assert _counts(body, "/v1/routes") == {
        "stops": 3,
        "shipments": 0,
        "vehicles": 1,  # the "vehicles" inside a vehicle is not at the top level
        "matrix.durations_s": 3,
    }
    matrix = [c for c in count_arrays(body, RULES["/v1/routes"]) or [] if c.count.kind == "matrix"]
    assert [c.cells for c in matrix] == [9]


def test_jobs_bodies_are_counted_one_level_down_and_utf16_is_read() -> None:
    job = {"kind": "plan", "request": {"orders": [{"id": i} for i in range(7)], "fleet": [{}]}}
    counts = _counts(json.dumps(job).encode("utf-16"), "/v1/jobs")
    assert counts == {"request.orders": 7, "request.fleet": 1}
    # A key spelt with escapes is the same key to the parser, so to the count.
    spelt = b'{"st\\u006fps": [{"id": 1}, {"id": 2}], "vehicles": [{"id": "\\u0022,["}]}'
    assert json.loads(spelt)["stops"] == [{"id": 1}, {"id": 2}]
    assert _counts(spelt, "/v1/routes") == {"stops": 2, "vehicles": 1}
    # A top-level "orders" is not where a job has it.
    assert _counts(json.dumps({"orders": [1, 2]}).encode(), "/v1/jobs") == {}
    assert _counts(b'{"stops": [1, 2', "/v1/routes") is None


def test_release_memory_runs() -> None:
    release_memory()  # gc and malloc_trim: must not fail where glibc is absent either
