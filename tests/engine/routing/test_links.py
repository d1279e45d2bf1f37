"""Locked prefixes, stops tied to vehicles and the reassign penalty, on every backend: hand
cases with known optima, the evaluator's checks, and a property test over random locks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.errors import InvalidInputError
from models.routing import RoutingRequest, RoutingResult
from models.status import ViolationCode
from tests.helpers import line_request, served_by, solve_checked

BACKENDS = ["pyvrp", "ortools"]


def _request(
    stops: list[dict[str, Any]], vans: list[dict[str, Any]], backend: str, **options: Any
) -> RoutingRequest:
    request = line_request(stops, vans, **options)
    return request.model_copy(
        update={"options": request.options.model_copy(update={"backend": backend})}
    )


def _codes(request: RoutingRequest, result: RoutingResult) -> set[ViolationCode]:
    return {v.code for v in evaluate(request, result).violations}


THREE = [{"id": "a", "x": 10}, {"id": "b", "x": 20}, {"id": "c", "x": 30}]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_locked_prefix_is_kept_and_the_rest_is_optimal(backend: str) -> None:
    van = {"id": "v", "start_x": 0, "end_x": 0, "locked_stops": ["c", "a"]}
    result = solve_checked(_request(THREE, [van], backend))
    assert served_by(result) == {"v": ["c", "a", "b"]}
    # by hand: 0 -> 30 -> 10 -> 20 -> 0 is 30 + 20 + 10 + 20 metres at 1 per metre
    assert result.summary.cost == pytest.approx(80.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_locked_stop_keeps_its_window_and_the_rest_follows(backend: str) -> None:
    stops = [
        {"id": "a", "x": 10, "time_windows": [[100, 200]]},
        {"id": "b", "x": 20},
        {"id": "c", "x": 30},
    ]
    van = {"id": "v", "start_x": 0, "end_x": 0, "locked_stops": ["a"]}
    result = solve_checked(_request(stops, [van], backend))
    route = served_by(result)["v"]
    assert route[0] == "a"
    step = next(s for s in result.routes[0].steps if s.id == "a")
    assert 100 - 1e-6 <= step.service_start_s <= 200 + 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_locked_stops_of_two_vans_stay_on_their_vans(backend: str) -> None:
    stops = [{"id": f"s{x}", "x": x} for x in (-30, -20, -10, 10, 20, 30)]
    vans = [
        # each van's lock is on the other side of the depot from where it would rather go
        {"id": "left", "start_x": 0, "end_x": 0, "locked_stops": ["s30"]},
        {"id": "right", "start_x": 0, "end_x": 0, "locked_stops": ["s-30"]},
    ]
    result = solve_checked(_request(stops, vans, backend))
    routes = served_by(result)
    assert routes["left"][0] == "s30"
    assert routes["right"][0] == "s-30"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stop_naming_its_vehicles_is_served_by_one_of_them(backend: str) -> None:
    stops = [{"id": "near_b", "x": 95, "vehicles": ["a"]}]
    vans = [{"id": "a", "start_x": 0, "end_x": 0}, {"id": "b", "start_x": 100, "end_x": 100}]
    result = solve_checked(_request(stops, vans, backend))
    assert served_by(result) == {"a": ["near_b"]}
    assert result.summary.cost == pytest.approx(190.0)  # there and back from 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("penalty", "vehicle"), [(200.0, "a"), (100.0, "b")])
def test_a_stop_changes_van_only_when_that_saves_more_than_the_penalty(
    backend: str, penalty: float, vehicle: str
) -> None:
    stops = [{"id": "s", "x": 95, "assigned_vehicle": "a"}]
    vans = [{"id": "a", "start_x": 0, "end_x": 0}, {"id": "b", "start_x": 100, "end_x": 100}]
    result = solve_checked(_request(stops, vans, backend, reassign_penalty=penalty))
    assert served_by(result) == {vehicle: ["s"]}
    # by hand: on a it costs 190; on b 10 plus the penalty
    expected = 190.0 if vehicle == "a" else 10.0 + penalty
    assert result.summary.cost == pytest.approx(expected)
    assert result.summary.reassign_cost == pytest.approx(0.0 if vehicle == "a" else penalty)


def test_the_evaluator_rejects_a_changed_locked_prefix() -> None:
    van = {"id": "v", "start_x": 0, "end_x": 0}
    free = solve_checked(_request(THREE, [van], "auto"))
    first = served_by(free)["v"][0]
    other = "c" if first == "a" else "a"
    locked = _request(THREE, [{**van, "locked_stops": [other]}], "auto")
    assert ViolationCode.LOCKED_PREFIX in _codes(locked, free)


def test_the_evaluator_rejects_a_stop_on_a_vehicle_it_does_not_name() -> None:
    vans = [{"id": "a", "start_x": 0, "end_x": 0}, {"id": "b", "start_x": 100, "end_x": 100}]
    free = solve_checked(_request([{"id": "s", "x": 95}], vans, "auto"))
    assert served_by(free) == {"b": ["s"]}
    tied = _request([{"id": "s", "x": 95, "vehicles": ["a"]}], vans, "auto")
    assert ViolationCode.VEHICLE_NOT_ALLOWED in _codes(tied, free)


def test_the_evaluator_recomputes_the_reassign_penalty() -> None:
    vans = [{"id": "a", "start_x": 0, "end_x": 0}, {"id": "b", "start_x": 100, "end_x": 100}]
    stops = [{"id": "s", "x": 95, "assigned_vehicle": "a"}]
    free = solve_checked(_request(stops, vans, "auto"))  # no penalty: it moves to b
    assert served_by(free) == {"b": ["s"]}
    priced = _request(stops, vans, "auto", reassign_penalty=50.0)
    assert ViolationCode.COST_MISMATCH in _codes(priced, free)


def test_a_locked_stop_that_cannot_be_reached_in_time_is_named() -> None:
    stops = [{"id": "a", "x": 500, "time_windows": [[0, 10]]}, {"id": "b", "x": 20}]
    van = {"id": "v", "start_x": 0, "end_x": 0, "locked_stops": ["a"]}
    with pytest.raises(InvalidInputError) as caught:
        solve_routes(_request(stops, [van], "auto"))
    assert "vehicles[0].locked_stops" in str(caught.value)


@pytest.mark.parametrize(
    ("van", "message"),
    [
        ({"locked_stops": ["zz"]}, "not a stop"),
        ({"locked_stops": ["a", "a"]}, "already locked"),
    ],
)
def test_bad_locks_are_refused_by_name(van: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        line_request(THREE, [{"id": "v", "start_x": 0, "end_x": 0, **van}])


def test_a_stop_naming_an_unknown_vehicle_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vehicles"):
        line_request([{"id": "a", "x": 1, "vehicles": ["ghost"]}], [{"id": "v", "start_x": 0}])


@st.composite
def _locked_days(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A few stops on a line, two vans, random locked prefixes and stops tied to vans."""
    n = draw(st.integers(3, 8))
    xs = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
    stops: list[dict[str, Any]] = [
        {"id": f"s{i}", "x": x, "demand": {"kg": 1}} for i, x in enumerate(xs)
    ]
    order = draw(st.permutations(range(n)))
    cut_a = draw(st.integers(0, n // 2))
    cut_b = draw(st.integers(cut_a, n))
    vans: list[dict[str, Any]] = [
        {
            "id": vid,
            "start_x": start,
            "end_x": start,
            "capacity": {"kg": n},
            "locked_stops": [f"s{i}" for i in part],
        }
        for vid, start, part in (
            ("a", 0, order[:cut_a]),
            ("b", 50, order[cut_a:cut_b][: draw(st.integers(0, 2))]),
        )
    ]
    for stop in stops:
        if draw(st.booleans()) and not any(stop["id"] in v["locked_stops"] for v in vans):
            stop["vehicles"] = [draw(st.sampled_from(["a", "b"]))]
    return stops, vans


@pytest.mark.parametrize("backend", BACKENDS)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=_locked_days())
def test_no_plan_changes_a_locked_prefix_or_moves_a_tied_stop(
    backend: str, day: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    stops, vans = day
    request = _request(stops, vans, backend, time_limit_s=0.3)
    result = solve_checked(request)  # the evaluator checks the prefixes and ties too
    routes = served_by(result)
    for van in vans:
        locked = van["locked_stops"]
        assert routes.get(van["id"], [])[: len(locked)] == locked
    for stop in stops:
        for vid, ids in routes.items():
            if stop["id"] in ids and stop.get("vehicles"):
                assert vid in stop["vehicles"]
    assert not result.unassigned  # nothing forbids any stop here


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_a_locked_prefix_carries_counts_against_the_capacity(backend: str) -> None:
    stops = [
        {"id": "a0", "x": 10, "demand": {"kg": 6}},
        {"id": "a1", "x": 20, "demand": {"kg": 1}},
        {"id": "b", "x": 30, "demand": {"kg": 5}, "optional": True, "drop_penalty": 1000},
    ]
    van = {
        "id": "v",
        "start_x": 0,
        "end_x": 0,
        "capacity": {"kg": 10},
        "locked_stops": ["a0", "a1"],
    }
    result = solve_checked(_request(stops, [van], backend))
    # 6 + 1 + 5 = 12 kg would leave the depot in a 10 kg van: b cannot come along
    assert served_by(result) == {"v": ["a0", "a1"]}
    assert [u.id for u in result.unassigned] == ["b"]
