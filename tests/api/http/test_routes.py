"""POST /v1/routes: synchronous routing, caps, and invalid input answered as 422."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape, check_routes_result, routes_request


def test_routes_are_planned_and_pass_the_evaluator(client: TestClient) -> None:
    request = routes_request()
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 200
    result = check_routes_result(request, response.json())
    assert result.summary.stops_served == 4 and result.unassigned == []
    assert result.summary.distance_m == 800.0  # out to x=400 and back


def test_vroom_style_aliases_are_accepted(client: TestClient) -> None:
    request = routes_request()
    request["jobs"] = request.pop("stops")
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 200
    check_routes_result(request, response.json())


def test_too_many_stops_is_a_422_naming_the_cap(make_client: MakeClient) -> None:
    client = make_client(max_stops=3)
    response = client.post("/v1/routes", json=routes_request(stops=4))
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "limit_exceeded")
    assert body["details"][0]["field"] == "stops"
    assert "ROUTEPLAN_MAX_STOPS" in body["details"][0]["message"]


def test_a_search_longer_than_the_sync_cap_is_refused(client: TestClient) -> None:
    response = client.post("/v1/routes", json=routes_request(time_limit_s=6))
    assert response.status_code == 422
    detail = response.json()["details"][0]
    assert detail["field"] == "options.time_limit_s"
    assert "/v1/jobs" in detail["message"]


def test_matrix_providers_not_enabled_over_http_are_refused(client: TestClient) -> None:
    request = routes_request()
    request["matrix"] = {"provider": "osm", "osm_file": "/etc/passwd"}
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "matrix.provider"


def test_coordinates_out_of_range_are_a_422_about_the_matrix(client: TestClient) -> None:
    request = routes_request()
    request["matrix"] = {"provider": "haversine"}
    request["stops"][0]["location"] = [500.0, 0.0]
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert body["details"][0]["field"] == "matrix"


def test_a_stop_far_from_every_other_place_is_a_422_naming_it(client: TestClient) -> None:
    # Porto's stops, one with latitude and longitude swapped (it lands in the Arabian Sea)
    request = {
        "stops": [
            {"id": "a", "location": [-8.61, 41.15]},
            {"id": "b", "location": [41.16, -8.60]},
        ],
        "vehicles": [{"id": "v", "start": [-8.63, 41.18]}],
        "options": {"time_limit_s": 0.5},
    }
    response = client.post("/v1/routes", json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert [d["field"] for d in body["details"]] == ["stops[1].location"]
    assert "lat/lon swapped?" in body["details"][0]["message"]
