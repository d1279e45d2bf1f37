"""Large finite numbers, loose types and unreadable bodies over HTTP (issue 11, findings 2
and 6): each is a 422 naming the field, or, within the bounds, a plan the evaluator calls
feasible; never a 500 or a wrong plan from an integer cast."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.routing import evaluate_routes
from models.common import MAX_METRES, MAX_MONEY, MAX_QUANTITY, MAX_SECONDS
from models.routing import RoutingRequest, RoutingResult
from tests.api.payloads import assert_error_shape, routes_request

Change = Callable[[dict[str, Any]], None]


def explicit(durations_s: float, cost_per_hour: float) -> Change:
    """A 3-location explicit matrix (the van at row 0) whose trips 0 -> 1 and 1 -> 0 take
    ``durations_s``; two stops, at rows 1 and 2."""

    def change(request: dict[str, Any]) -> None:
        request["stops"] = [
            {"id": "s1", "location_index": 1},
            {"id": "s2", "location_index": 2},
        ]
        request["vehicles"] = [
            {"id": "van", "start_index": 0, "end_index": 0, "cost_per_hour": cost_per_hour}
        ]
        durations = [[0.0, durations_s, 5.0], [durations_s, 0.0, 5.0], [5.0, 5.0, 0.0]]
        request["matrix"] = {"provider": "explicit", "durations_s": durations}

    return change


def stop(**values: Any) -> Change:
    def change(request: dict[str, Any]) -> None:
        request["stops"][0].update(values)

    return change


def vehicle(**values: Any) -> Change:
    def change(request: dict[str, Any]) -> None:
        request["vehicles"][0].update(values)

    return change


def post(client: TestClient, change: Change) -> tuple[dict[str, Any], Any]:
    request = routes_request()
    change(request)
    response = client.post("/v1/routes", json=request)
    assert response.status_code in (200, 422), response.text
    return request, response


def refused(client: TestClient, change: Change) -> dict[str, str]:
    """``{field: message}`` of a 422 answered for the changed request."""
    _, response = post(client, change)
    assert response.status_code == 422, response.text
    body = response.json()
    assert_error_shape(body, "invalid_input")
    return {d["field"]: d["message"] for d in body["details"]}


def feasible(client: TestClient, change: Change) -> RoutingResult:
    """The plan answered for the changed request, judged feasible by the evaluator."""
    request, response = post(client, change)
    assert response.status_code == 200, response.text
    result = RoutingResult.model_validate(response.json())
    sequences = {
        r.vehicle_id: [s.id for s in r.steps if s.type.is_visit and s.id is not None]
        for r in result.routes
    }
    _, verdict = evaluate_routes(RoutingRequest.model_validate(request), sequences)
    assert verdict.feasible, [v.message for v in verdict.violations]
    return result


REPRODUCTIONS: list[tuple[str, Change, str]] = [
    ("fixed_cost 1e13", vehicle(fixed_cost=1e13), "vehicles[0].fixed_cost"),
    ("cost_per_km 1e300", vehicle(cost_per_km=1e300), "vehicles[0].cost_per_km"),
    ("max_distance_m 1e300", vehicle(max_distance_m=1e300), "vehicles[0].max_distance_m"),
    (
        "drop_penalty 1e300",
        stop(optional=True, drop_penalty=1e300),
        "stops[0].drop_penalty",
    ),
    ("explicit durations 1e12", explicit(1e12, 3600), "matrix.durations_s"),
    ("service_s 1e300", stop(service_s=1e300), "stops[0].service_s"),
    ("shift [0, 1e18]", vehicle(shift=[0, 1e18]), "vehicles[0].shift.end_s"),
    ("window [[0, 1e20]]", stop(time_windows=[[0, 1e20]]), "stops[0].time_windows[0].end_s"),
    ("demand 1e16", stop(demand={"kg": 1e16}), "stops[0].demand.kg"),
    ("capacity 1e16", vehicle(capacity={"kg": 1e16}), "vehicles[0].capacity.kg"),
]


@pytest.mark.parametrize(
    ("name", "change", "field"), REPRODUCTIONS, ids=[r[0] for r in REPRODUCTIONS]
)
def test_each_reproduction_is_a_422_naming_the_field(
    client: TestClient, name: str, change: Change, field: str
) -> None:
    found = refused(client, change)
    if field == "matrix.durations_s":  # both long cells are named
        assert list(found) == [f"{field}[0][1]", f"{field}[1][0]"], (name, found)
    else:
        assert list(found) == [field], (name, found)
    assert all("less than or equal" in message for message in found.values())


def test_demand_and_capacity_of_1e16_together_are_refused(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        stop(demand={"kg": 1e16})(request)
        vehicle(capacity={"kg": 1e16})(request)

    assert set(refused(client, change)) == {"stops[0].demand.kg", "vehicles[0].capacity.kg"}


def test_fixed_cost_at_its_bound_gives_a_feasible_plan(client: TestClient) -> None:
    result = feasible(client, vehicle(fixed_cost=MAX_MONEY))
    assert result.summary.stops_served == 4
    assert result.summary.fixed_cost == pytest.approx(MAX_MONEY)


def test_cost_per_km_at_its_bound_gives_a_feasible_plan(client: TestClient) -> None:
    result = feasible(client, vehicle(cost_per_km=MAX_MONEY))
    assert result.summary.stops_served == 4
    assert result.summary.travel_cost == pytest.approx(0.8 * MAX_MONEY)  # 800 m


def test_max_distance_at_its_bound_gives_a_feasible_plan(client: TestClient) -> None:
    assert feasible(client, vehicle(max_distance_m=MAX_METRES)).summary.stops_served == 4


def test_drop_penalty_at_its_bound_keeps_the_stop(client: TestClient) -> None:
    result = feasible(client, stop(optional=True, drop_penalty=MAX_MONEY))
    assert result.summary.stops_served == 4 and result.unassigned == []


def test_explicit_durations_near_the_bound_with_an_hourly_cost_are_planned(
    client: TestClient,
) -> None:
    result = feasible(client, explicit(3e8, 3600))
    assert result.summary.stops_served == 2
    # The cheapest tour is 0 -> s2 -> s1 -> 0: 5 + 5 + 3e8 s, costed 1 per second.
    assert result.summary.travel_cost == pytest.approx(3e8 + 10, rel=1e-9)


def test_service_at_its_bound_is_planned(client: TestClient) -> None:
    result = feasible(client, stop(service_s=MAX_SECONDS))
    assert result.summary.stops_served == 4
    assert result.summary.service_s == MAX_SECONDS


def test_a_ten_year_shift_serves_every_stop(client: TestClient) -> None:
    result = feasible(client, vehicle(shift=[0, MAX_SECONDS]))
    assert result.summary.stops_served == 4 and result.unassigned == []


def test_a_ten_year_window_is_inside_the_shift(client: TestClient) -> None:
    result = feasible(client, stop(time_windows=[[0, MAX_SECONDS]]))
    assert result.summary.stops_served == 4 and result.unassigned == []


def test_demand_and_capacity_at_the_bound_leave_no_other_stop_out(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        stop(demand={"kg": MAX_QUANTITY - 3})(request)  # the other three stops carry 1 kg each
        vehicle(capacity={"kg": MAX_QUANTITY})(request)

    result = feasible(client, change)
    assert result.summary.stops_served == 4 and result.unassigned == []


# ------------------------------------------------ sums the compile step must refuse


def test_an_arc_dearer_than_the_solvers_can_hold_names_the_price(client: TestClient) -> None:
    # 1e9 per km over 100,000 km is 1e14 per trip, beyond 2**53 cost ticks (about 9e9).
    def change(request: dict[str, Any]) -> None:
        vehicle(cost_per_km=MAX_MONEY)(request)
        request["stops"][0]["location"] = [MAX_METRES, 0.0]

    found = refused(client, change)
    assert list(found) == ["vehicles[0].cost_per_km"], found
    assert "solvers" in found["vehicles[0].cost_per_km"]


def test_a_weighted_fixed_cost_beyond_the_solvers_names_the_fixed_cost(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        vehicle(fixed_cost=MAX_MONEY)(request)
        request["options"]["objective"] = {"fixed": 1e6}

    found = refused(client, change)
    assert list(found) == ["vehicles[0].fixed_cost"], found
    assert "options.objective.fixed" in found["vehicles[0].fixed_cost"]


def test_a_weighted_drop_penalty_beyond_the_solvers_names_the_stop(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        stop(optional=True, drop_penalty=MAX_MONEY)(request)
        request["options"]["objective"] = {"drop_penalty": 1e6}

    found = refused(client, change)
    assert list(found) == ["stops[0].drop_penalty"], found


def test_penalties_that_would_add_up_beyond_int64_name_the_dearest_price(
    client: TestClient,
) -> None:
    # A ten-year shift at 1e9 per working hour: every mandatory stop's penalty must exceed
    # the dearest route (about 8.8e13 currency units, ~1e20 ticks), so they cannot be summed.
    def change(request: dict[str, Any]) -> None:
        vehicle(cost_per_working_hour=MAX_MONEY, shift=[0, MAX_SECONDS])(request)

    found = refused(client, change)
    assert list(found) == ["vehicles[0].cost_per_working_hour"], found
    assert "add up" in found["vehicles[0].cost_per_working_hour"]


def test_a_shipment_penalty_beyond_the_solvers_names_the_shipment(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        request["shipments"] = [
            {
                "pickup": {"id": "p", "location": [10.0, 0.0]},
                "delivery": {"id": "d", "location": [20.0, 0.0]},
                "optional": True,
                "drop_penalty": MAX_MONEY,
            }
        ]
        request["options"]["objective"] = {"drop_penalty": 1e6}

    assert list(refused(client, change)) == ["shipments[0].drop_penalty"]


# ------------------------------------------------------------ strict types, bodies


def test_a_bool_id_does_not_become_1(client: TestClient) -> None:
    def change(request: dict[str, Any]) -> None:
        request["stops"][0]["id"] = 1
        request["stops"][1]["id"] = True

    found = refused(client, change)
    assert list(found) == ["stops[1].id"] and "bool" in found["stops[1].id"]


def test_a_number_is_not_a_day_start(client: TestClient) -> None:
    found = refused(client, lambda r: r.update(day_start=0))
    assert list(found) == ["day_start"] and "ISO 8601" in found["day_start"]


def test_a_string_time_limit_is_refused(client: TestClient) -> None:
    found = refused(client, lambda r: r["options"].update(time_limit_s="5"))
    assert list(found) == ["options.time_limit_s"] and "number" in found["options.time_limit_s"]


def test_a_nan_time_limit_must_be_finite(client: TestClient) -> None:
    body = b'{"stops": [], "vehicles": [{"id": "v"}], "options": {"time_limit_s": NaN}}'
    response = client.post("/v1/routes", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    detail = response.json()["details"][0]
    assert detail["field"] == "options.time_limit_s"
    assert "finite number" in detail["message"] and "3600" not in detail["message"]
    assert math.isnan(float(detail["value"]))


def test_empty_shipping_bands_are_accepted(client: TestClient) -> None:
    from api.http.examples import ALLOCATION_REQUEST

    request = {**ALLOCATION_REQUEST, "options": {"time_limit_s": 1}}
    request["costs"] = {"shipping": {"bands": []}}
    assert client.post("/v1/allocations", json=request).status_code == 200
    request["costs"] = {"transit": []}
    response = client.post("/v1/allocations", json=request)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "costs.transit"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"stops": ["\xff"]}', "not valid UTF-8: byte 0xff"),
        (b"[" * 1000 + b"]" * 1000, "nested too deeply"),
    ],
    ids=["invalid utf-8", "nested 1000 deep"],
)
def test_an_unreadable_body_is_a_422_saying_why(client: TestClient, body: bytes, why: str) -> None:
    for path in ("/v1/routes", "/v1/jobs", "/v1/allocations", "/v1/plans", "/v1/vroom"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        payload = response.json()
        assert_error_shape(payload, "invalid_input")
        assert [d["field"] for d in payload["details"]] == ["(body)"]
        assert why in payload["details"][0]["message"]


def test_every_body_endpoint_documents_422_and_500(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                assert {"422", "500"} <= set(operation["responses"]), (method, path)
