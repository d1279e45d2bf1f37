"""One small, hand-checkable case per constraint. Every plan goes through the evaluator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from tests import helpers
from tests.helpers import line_request, reasons, served_by, solve_checked

DEPOT = {"start_x": 0, "end_x": 0}


@pytest.fixture(autouse=True, params=["ortools", "auto"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run every case with OR-Tools, and with the automatic choice (PyVRP where it can)."""
    helpers.BACKEND["name"] = request.param
    yield request.param
    helpers.BACKEND["name"] = "auto"


def test_single_vehicle_serves_a_line_at_optimal_cost() -> None:
    request = line_request(
        [{"id": "a", "x": 10}, {"id": "b", "x": 20}, {"id": "c", "x": 30}, {"id": "d", "x": -5}],
        [{"id": "v", **DEPOT}],
    )
    result = solve_checked(request)
    assert result.summary.cost == pytest.approx(70.0)  # out to 30 and back, 5 the other way
    assert sorted(served_by(result)["v"]) == ["a", "b", "c", "d"]


def test_capacity_in_every_dimension_splits_the_load() -> None:
    # Weight alone fits one van; volume does not, so two vans are needed.
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 1, "litre": 60}},
        {"id": "b", "x": 10, "demand": {"kg": 1, "litre": 60}},
    ]
    vans = [{"id": v, **DEPOT, "capacity": {"kg": 10, "litre": 100}} for v in ("v1", "v2")]
    result = solve_checked(line_request(stops, vans))
    assert result.summary.routes == 2
    assert all(r.summary.delivered["litre"] <= 100 for r in result.routes)


def test_demand_larger_than_every_vehicle_is_reported_before_solving() -> None:
    stops = [{"id": "big", "x": 5, "demand": {"kg": 50}}, {"id": "ok", "x": 5, "demand": {"kg": 1}}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "capacity": {"kg": 10}}]))
    assert reasons(result) == {"big": "demand_exceeds_capacity"}


def test_time_windows_force_the_far_stop_first() -> None:
    # Geometry prefers a then b; after a's 20 s of service, b (window closes at 40 s) is
    # reached at 50 s, so b must come first.
    stops = [
        {"id": "a", "x": 10, "service_s": 20, "time_windows": [[0, 1000]]},
        {"id": "b", "x": 30, "time_windows": [[0, 40]]},
    ]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT}]))
    assert served_by(result)["v"] == ["b", "a"]
    b = next(s for r in result.routes for s in r.steps if s.id == "b")
    assert b.service_start_s <= 40


def test_several_windows_per_stop_use_the_later_one_when_the_first_is_missed() -> None:
    stops = [{"id": "a", "x": 100, "time_windows": [[0, 50], [200, 300]]}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "shift": [0, 1000]}]))
    step = result.routes[0].steps[1]
    assert step.service_start_s == pytest.approx(200)
    assert step.waiting_s == pytest.approx(0)  # the route starts late instead of waiting
    assert result.routes[0].summary.start_s == pytest.approx(100)


def test_stop_outside_every_shift_is_reported() -> None:
    stops = [{"id": "late", "x": 5, "time_windows": [[5000, 6000]]}, {"id": "ok", "x": 5}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "shift": [0, 1000]}]))
    assert reasons(result) == {"late": "outside_every_shift"}


def test_window_that_cannot_be_reached_in_time_is_reported() -> None:
    stops = [{"id": "far", "x": 500, "time_windows": [[0, 100]]}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "shift": [0, 2000]}]))
    assert reasons(result) == {"far": "time_window_unreachable"}


def test_shift_end_includes_the_drive_back() -> None:
    # Reaching x=400 takes 400 s, but driving back would end at 800 s > 600 s.
    stops = [{"id": "far", "x": 400}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "shift": [0, 600]}]))
    assert reasons(result) == {"far": "time_window_unreachable"}


def test_max_stops_needs_a_second_vehicle() -> None:
    stops = [{"id": s, "x": 10} for s in "abc"]
    vans = [{"id": v, **DEPOT, "max_stops": 2} for v in ("v1", "v2")]
    result = solve_checked(line_request(stops, vans))
    assert sorted(len(v) for v in served_by(result).values()) == [1, 2]


def test_max_distance_excludes_far_stops_and_splits_routes() -> None:
    stops = [{"id": "near", "x": 40}, {"id": "far", "x": -40}, {"id": "too_far", "x": 200}]
    vans = [{"id": v, **DEPOT, "max_distance_m": 100} for v in ("v1", "v2")]
    result = solve_checked(line_request(stops, vans))
    assert reasons(result) == {"too_far": "exceeds_max_distance"}
    assert result.summary.routes == 2  # near+far in one route would be 160 m


def test_max_duration_counts_service_time() -> None:
    stops = [{"id": "a", "x": 10, "service_s": 50}, {"id": "b", "x": 10, "service_s": 50}]
    vans = [{"id": v, **DEPOT, "max_duration_s": 100} for v in ("v1", "v2")]
    result = solve_checked(line_request(stops, vans))
    assert result.summary.routes == 2
    assert all(r.summary.duration_s <= 100 for r in result.routes)


def test_max_duration_rejects_a_stop_no_route_can_fit() -> None:
    stops = [{"id": "long", "x": 10, "service_s": 500}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "max_duration_s": 100}]))
    assert reasons(result) == {"long": "exceeds_max_duration"}


def test_skills_send_the_stop_to_the_only_qualified_vehicle() -> None:
    stops = [{"id": "cold", "x": 10, "skills": ["fridge"]}]
    vans = [
        {"id": "plain", **DEPOT},
        {"id": "cool", "start_x": 100, "end_x": 100, "skills": ["fridge"]},
    ]
    result = solve_checked(line_request(stops, vans))
    assert served_by(result) == {"cool": ["cold"]}


def test_stop_whose_skills_no_vehicle_has_is_unassigned_not_an_error() -> None:
    stops = [{"id": "cold", "x": 10, "skills": ["fridge"]}, {"id": "ok", "x": 10}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT}]))
    assert reasons(result) == {"cold": "no_vehicle_with_skills"}
    assert result.stats.status == "partial"


def test_break_is_taken_inside_its_window_and_adds_to_the_route() -> None:
    stops = [{"id": "a", "x": 100}]
    vans = [
        {
            "id": "v",
            **DEPOT,
            "shift": [0, 1000],
            "breaks": [{"id": "rest", "time_windows": [[50, 60]], "duration_s": 30}],
        }
    ]
    result = solve_checked(line_request(stops, vans))
    route = result.routes[0]
    rest = next(s for s in route.steps if s.type.value == "break")
    assert 50 <= rest.service_start_s <= 60
    assert route.summary.break_s == pytest.approx(30)
    assert route.summary.duration_s == pytest.approx(230)


def test_unused_vehicle_takes_no_break() -> None:
    vans = [
        {"id": v, **DEPOT, "breaks": [{"id": "rest", "time_windows": [[0, 100]], "duration_s": 30}]}
        for v in ("v1", "v2")
    ]
    result = solve_checked(line_request([{"id": "a", "x": 10}], vans))
    assert result.summary.routes == 1


def test_optional_stop_is_dropped_when_its_penalty_is_below_its_cost() -> None:
    stops = [
        {"id": "cheap", "x": 500, "optional": True, "drop_penalty": 100},
        {"id": "dear", "x": -100, "optional": True, "drop_penalty": 1000},
    ]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT}]))
    assert reasons(result) == {"cheap": "dropped_for_cost"}
    assert result.summary.drop_penalty == pytest.approx(100)
    assert result.summary.cost == pytest.approx(200 + 100)


def test_mandatory_stop_that_no_route_can_fit_is_reported_as_no_room() -> None:
    # Each stop fits alone; both together exceed the only van's capacity.
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 6}},
        {"id": "b", "x": 20, "demand": {"kg": 6}, "priority": 90},
    ]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "capacity": {"kg": 10}}]))
    assert reasons(result) == {"a": "no_room_in_plan"}  # the higher priority is kept


def test_fixed_cost_makes_one_route_cheaper_than_two() -> None:
    stops = [{"id": "a", "x": 10}, {"id": "b", "x": -10}]
    vans = [{"id": v, **DEPOT, "fixed_cost": 100} for v in ("v1", "v2")]
    result = solve_checked(line_request(stops, vans))
    assert result.summary.routes == 1
    assert result.summary.cost == pytest.approx(100 + 40)
    assert result.summary.fixed_cost == pytest.approx(100)


def test_costs_per_km_per_hour_and_per_working_hour_are_recomputed() -> None:
    stops = [{"id": "a", "x": 1800, "service_s": 1800}]
    van = {
        "id": "v",
        **DEPOT,
        "cost_per_km": 2.0,
        "cost_per_hour": 10.0,
        "cost_per_working_hour": 20.0,
        "fixed_cost": 5.0,
    }
    result = solve_checked(line_request(stops, [van]))
    # 3.6 km, 1 h of travel, 1.5 h of work.
    assert result.summary.cost == pytest.approx(5 + 2 * 3.6 + 10 * 1 + 20 * 1.5)


def test_speed_factor_slows_a_vehicle() -> None:
    stops = [{"id": "a", "x": 100}]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "speed_factor": 0.5}]))
    assert result.routes[0].summary.travel_s == pytest.approx(400)


def test_open_route_ends_at_its_last_stop() -> None:
    stops = [{"id": "a", "x": 10}, {"id": "b", "x": 20}]
    result = solve_checked(line_request(stops, [{"id": "v", "start_x": 0}]))
    assert result.summary.distance_m == pytest.approx(20)
    assert result.routes[0].steps[-1].location is None


def test_route_without_start_begins_at_its_first_stop() -> None:
    stops = [{"id": "a", "x": 10}, {"id": "b", "x": 20}]
    result = solve_checked(line_request(stops, [{"id": "v", "end_x": 0}]))
    assert result.summary.distance_m == pytest.approx(20)


def test_several_depots_serve_their_own_side() -> None:
    stops = [{"id": "w", "x": -105}, {"id": "e", "x": 105}]
    vans = [
        {"id": "west", "start_x": -100, "end_x": -100},
        {"id": "east", "start_x": 100, "end_x": 100},
    ]
    result = solve_checked(line_request(stops, vans))
    assert served_by(result) == {"west": ["w"], "east": ["e"]}
    assert result.summary.cost == pytest.approx(20)


def test_day_start_gives_clock_times() -> None:
    request = line_request([{"id": "a", "x": 60}], [{"id": "v", **DEPOT, "shift": [0, 1000]}])
    request = request.model_copy(update={"day_start": datetime(2026, 11, 27, 8, 0)})
    result = solve_checked(request)
    step = result.routes[0].steps[1]
    assert step.arrival_time == datetime(2026, 11, 27, 8, 1)


def test_solution_limit_makes_the_search_deterministic() -> None:
    stops = [{"id": i, "x": (i * 37) % 101 - 50, "demand": {"kg": 1 + i % 3}} for i in range(25)]
    vans = [{"id": v, **DEPOT, "capacity": {"kg": 15}} for v in range(4)]
    request = line_request(stops, vans, solution_limit=50, time_limit_s=30)
    first, second = solve_checked(request), solve_checked(request)
    assert served_by(first) == served_by(second)
    assert first.summary.cost == second.summary.cost


def test_explicit_matrix_is_used_as_given_and_asymmetric() -> None:
    from models.routing import RoutingRequest

    request = RoutingRequest.model_validate(
        {
            "stops": [{"id": "a", "location_index": 1}],
            "vehicles": [{"id": "v", "start_index": 0, "end_index": 0, "cost_per_km": 1000}],
            "matrix": {
                "provider": "explicit",
                "durations_s": [[0, 10], [30, 0]],
                "distances_m": [[0, 100], [300, 0]],
            },
            "options": {"time_limit_s": 1},
        }
    )
    result = solve_checked(request)
    assert result.summary.distance_m == pytest.approx(400)
    assert result.summary.travel_s == pytest.approx(40)


def test_pickups_ride_to_the_end_so_deliveries_come_first() -> None:
    # 8 kg go out to "drop"; 8 kg are collected at "collect": both fit only in that order.
    stops = [
        {"id": "collect", "x": 10, "pickup": {"kg": 8}},
        {"id": "drop", "x": 20, "demand": {"kg": 8}},
    ]
    result = solve_checked(line_request(stops, [{"id": "v", **DEPOT, "capacity": {"kg": 10}}]))
    assert served_by(result)["v"] == ["drop", "collect"]
    loads = [s.load["kg"] for s in result.routes[0].steps]
    assert loads == [8, 0, 8, 8]


def test_a_shipment_is_picked_up_before_it_is_delivered_by_the_same_van() -> None:
    request = line_request([], [{"id": v, **DEPOT, "capacity": {"kg": 5}} for v in ("v1", "v2")])
    data = request.model_dump(by_alias=False)
    data["shipments"] = [
        {
            "pickup": {"id": "p", "location": [30.0, 0.0]},
            "delivery": {"id": "d", "location": [10.0, 0.0]},
            "amount": {"kg": 5},
        }
    ]
    result = solve_checked(type(request).model_validate(data))
    assert served_by(result) in ({"v1": ["p", "d"]}, {"v2": ["p", "d"]})
    assert result.summary.cost == pytest.approx(60)
    kinds = [s.type.value for s in result.routes[0].steps]
    assert kinds == ["start", "pickup", "delivery", "end"]


def test_a_shipment_too_big_for_every_van_leaves_both_ends_unassigned() -> None:
    request = line_request([{"id": "a", "x": 5}], [{"id": "v", **DEPOT, "capacity": {"kg": 5}}])
    data = request.model_dump(by_alias=False)
    data["shipments"] = [
        {
            "pickup": {"id": "p", "location": [30.0, 0.0]},
            "delivery": {"id": "d", "location": [10.0, 0.0]},
            "amount": {"kg": 9},
        }
    ]
    result = solve_checked(type(request).model_validate(data))
    assert reasons(result) == {"p": "demand_exceeds_capacity", "d": "demand_exceeds_capacity"}
