"""Reloads (multi-trip): hand cases whose optimum is known, each plan checked by the evaluator,
the evaluator catching broken reloads, the backends' refusals, the CSV columns, and a property
test with reloads switched on at random."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.formats.routing_csv import InputFileError, request_dict_from_csv
from engine.routing.compile import compile_request
from engine.routing.decode import plan_summary, scheduled_route
from engine.routing.evaluate import evaluate
from engine.routing.locations import resolve
from engine.routing.repair import repair
from engine.routing.solve import solve_routes
from models.errors import InvalidInputError
from models.routing import RoutingRequest, RoutingResult, StepType, Unassigned
from models.status import UnassignedReason, ViolationCode
from tests.helpers import line_request, solve_checked

THREE_LOADS = [{"id": f"s{k}", "x": 10 * k, "demand": {"kg": 6}, "service": 1} for k in (1, 2, 3)]


def _van(**extra: Any) -> dict[str, Any]:
    return {
        "id": "v",
        "start_x": 0,
        "end_x": 0,
        "capacity": {"kg": 10},
        "reload_locations": [[0.0, 0.0]],
        **extra,
    }


def _trips(result: RoutingResult) -> list[list[str]]:
    """The stop ids of each trip of the only route, read from the steps."""
    trips: list[list[str]] = [[]]
    for step in result.routes[0].steps:
        if step.type == StepType.RELOAD:
            trips.append([])
        elif step.type.is_visit:
            trips[-1].append(str(step.id))
    return trips


def _codes(request: RoutingRequest, result: RoutingResult) -> set[ViolationCode]:
    return {v.code for v in evaluate(request, result).violations}


def test_three_loads_of_6_in_a_van_of_10_take_three_trips() -> None:
    """Two loads of 6 never fit in 10 together: one stop a trip, two reloads. By hand, on a
    line at 1 m/s and 1 per metre: trips of 20, 40 and 60 m in any order (120), 3 s of
    service and two reloads of 100 s: the route lasts 323 s."""
    request = line_request(THREE_LOADS, [_van(reload_service_s=100)])
    result = solve_checked(request)
    assert not result.unassigned
    trips = _trips(result)
    assert sorted(len(t) for t in trips) == [1, 1, 1]
    summary = result.routes[0].summary
    assert summary.reloads == 2 and summary.reload_s == pytest.approx(200)
    assert summary.distance_m == pytest.approx(120)
    assert summary.duration_s == pytest.approx(323)
    assert result.summary.cost == pytest.approx(120)
    for step in result.routes[0].steps:
        assert step.load["kg"] <= 10 + 1e-9


def test_two_loads_of_4_share_a_trip() -> None:
    """Loads of 4, 4 and 6 in a van of 10: {4, 4} on one trip, 6 on the other. By hand the
    best pairs the two farthest that fit: 0-20-30-0 (the 4s at 20 and 30: 60 m) and 0-10-0
    (20 m) = 80 m, against 0-10-20-0 (40) + 0-30-0 (60) = 100 m."""
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 6}},
        {"id": "b", "x": 20, "demand": {"kg": 4}},
        {"id": "c", "x": 30, "demand": {"kg": 4}},
    ]
    result = solve_checked(line_request(stops, [_van()]))
    assert sorted(sorted(t) for t in _trips(result)) == [["a"], ["b", "c"]]
    assert result.summary.cost == pytest.approx(80)


def test_max_reloads_leaves_out_what_no_trip_can_take() -> None:
    request = line_request(THREE_LOADS, [_van(max_reloads=1)])
    result = solve_checked(request)
    assert len(result.routes[0].steps) - 2 == 3  # two stops and one reload
    assert [u.id for u in result.unassigned] == ["s3"]  # the farthest: the cheapest two stay
    assert result.routes[0].summary.reloads == 1


def test_without_reload_places_the_van_takes_one_load() -> None:
    request = line_request(THREE_LOADS, [_van(reload_locations=[])])
    result = solve_checked(request)
    assert result.routes[0].summary.reloads == 0
    assert len(result.unassigned) == 2


def test_pickups_are_unloaded_at_a_reload() -> None:
    """Three pickups of 6 with a van of 10: each trip brings one back."""
    stops = [{"id": f"p{k}", "x": 10 * k, "pickup": {"kg": 6}} for k in (1, 2, 3)]
    result = solve_checked(line_request(stops, [_van()]))
    assert not result.unassigned
    assert sorted(len(t) for t in _trips(result)) == [1, 1, 1]


def test_a_reload_can_be_elsewhere_than_the_start() -> None:
    """The van starts at 0 and may reload at 25 only: 0-10 (6), reload at 25, 30 (6), 25,
    20 (6) and home: 10 + 15 + 5 + 5 + 5 + 20 = 60 m; through the start it would be 120."""
    result = solve_checked(line_request(THREE_LOADS, [_van(reload_locations=[[25.0, 0.0]])]))
    assert not result.unassigned
    assert result.summary.cost == pytest.approx(60)
    reloads = [s for s in result.routes[0].steps if s.type == StepType.RELOAD]
    assert [tuple(s.location or ()) for s in reloads] == [(25.0, 0.0), (25.0, 0.0)]


def test_explicit_matrices_name_reload_places_by_index() -> None:
    size = 4
    matrix = [[abs(i - j) * 10 for j in range(size)] for i in range(size)]
    request = RoutingRequest.model_validate(
        {
            "matrix": {"provider": "explicit", "durations_s": matrix, "distances_m": matrix},
            "vehicles": [
                {
                    "id": "v",
                    "start_index": 0,
                    "end_index": 0,
                    "capacity": {"kg": 10},
                    "reload_indices": [0],
                }
            ],
            "stops": [{"id": f"s{k}", "location_index": k, "demand": {"kg": 6}} for k in (1, 2, 3)],
            "options": {"time_limit_s": 0.5},
        }
    )
    result = solve_checked(request)
    assert not result.unassigned
    assert result.routes[0].summary.distance_m == pytest.approx(120)


# ------------------------------------------------------------------ the evaluator's checks


def _solved() -> tuple[RoutingRequest, RoutingResult]:
    request = line_request(THREE_LOADS, [_van(reload_service_s=100)])
    return request, solve_checked(request)


def _reload_steps(result: RoutingResult) -> list[int]:
    return [k for k, s in enumerate(result.routes[0].steps) if s.type == StepType.RELOAD]


def test_a_route_without_its_reloads_breaks_the_capacity() -> None:
    request, result = _solved()
    broken = result.model_copy(deep=True)
    steps = broken.routes[0].steps
    broken.routes[0].steps = [s for s in steps if s.type != StepType.RELOAD]
    assert ViolationCode.CAPACITY in _codes(request, broken)


def test_a_reload_elsewhere_a_short_reload_and_one_too_many_are_caught() -> None:
    request, result = _solved()
    k = _reload_steps(result)[0]
    moved = result.model_copy(deep=True)
    moved.routes[0].steps[k].location = (5.0, 0.0)
    assert ViolationCode.RELOAD_PLACE in _codes(request, moved)

    short = result.model_copy(deep=True)
    short.routes[0].steps[k].departure_s -= 50
    assert ViolationCode.RELOAD_TIME in _codes(request, short)

    limited = request.model_copy(deep=True)
    limited.vehicles[0].max_reloads = 1
    assert ViolationCode.MAX_RELOADS in _codes(limited, result)

    none = request.model_copy(deep=True)
    none.vehicles[0].reload_locations = []
    assert ViolationCode.RELOAD_PLACE in _codes(none, result)


def test_a_reported_load_after_a_reload_is_checked() -> None:
    request, result = _solved()
    k = _reload_steps(result)[0]
    wrong = result.model_copy(deep=True)
    wrong.routes[0].steps[k].load = {"kg": 0.0}
    assert ViolationCode.LOAD_MISMATCH in _codes(request, wrong)


def test_a_stop_left_out_that_fits_after_a_new_reload_is_reported() -> None:
    """Drop a trip from a good plan and claim its stop had no room: a new reload proves
    otherwise."""
    request, result = _solved()
    broken = result.model_copy(deep=True)
    steps = broken.routes[0].steps
    last = max(_reload_steps(broken))
    dropped = steps[last + 1].id
    assert dropped is not None
    rebuilt = line_request(
        [s for s in THREE_LOADS if s["id"] != dropped], [_van(reload_service_s=100)]
    )
    partial = solve_checked(rebuilt)
    claimed = partial.model_copy(deep=True)
    claimed.unassigned = [
        *claimed.unassigned,
        Unassigned(id=dropped, reason=UnassignedReason.NO_ROOM_IN_PLAN, message="claimed"),
    ]
    claimed.summary = claimed.summary.model_copy(update={"unassigned": 1})
    assert ViolationCode.INSERTABLE_UNASSIGNED in _codes(request, claimed)


# ------------------------------------------------------------------------- refusals, input


@pytest.mark.parametrize("backend", ["ortools", "hybrid"])
def test_other_backends_refuse_reloads_by_name(backend: str) -> None:
    request = line_request(THREE_LOADS, [_van()], backend=backend)
    with pytest.raises(InvalidInputError) as caught:
        solve_routes(request)
    assert caught.value.details[0]["field"] == "options.backend"
    assert "reloads" in caught.value.details[0]["message"]


def test_reloads_with_breaks_are_refused_naming_the_vehicle() -> None:
    van = _van(breaks=[{"id": "lunch", "time_windows": [[0, 1000]], "duration_s": 10}])
    with pytest.raises(InvalidInputError) as caught:
        solve_routes(line_request(THREE_LOADS, [van]))
    assert caught.value.details[0]["field"] == "vehicles[0].reload_locations"
    assert "breaks" in caught.value.details[0]["message"]


def test_reload_places_must_match_the_matrix_kind() -> None:
    with pytest.raises(ValueError, match="reload_indices is only valid with explicit"):
        line_request(THREE_LOADS, [_van(reload_locations=[], reload_indices=[0])])


def test_the_csv_columns_give_a_reload_place(tmp_path: Any) -> None:
    stops = tmp_path / "stops.csv"
    stops.write_text("id,lat,lon,demand_kg\na,0,0.0001,6\n")
    vans = tmp_path / "vehicles.csv"
    vans.write_text(
        "id,start_lat,start_lon,capacity_kg,reload_lat,reload_lon,max_reloads,reload_service_s\n"
        "v,0,0,10,0,0,2,600\n"
    )
    vehicle = request_dict_from_csv(stops, vans)["vehicles"][0]
    assert vehicle["reload_locations"] == [[0.0, 0.0]]
    assert vehicle["max_reloads"] == 2 and vehicle["reload_service_s"] == 600


# --------------------------------------------------------------------------- property test


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 60), st.integers(0, 8), st.integers(0, 4), st.sampled_from([0, 1])
        ),
        min_size=1,
        max_size=9,
    ),
    st.integers(8, 12),
    st.sampled_from([None, 0, 1, 3]),
    st.sampled_from([0.0, 30.0]),
)
def test_every_plan_with_reloads_passes_the_evaluator(
    stops: list[tuple[int, int, int, int]],
    capacity: int,
    max_reloads: int | None,
    reload_s: float,
) -> None:
    built = [
        {
            "id": f"s{k}",
            "x": x,
            "demand": {"kg": d},
            "pickup": {"kg": p},
            "service": 2,
            **({"time_windows": [[0, 400]]} if late else {}),
        }
        for k, (x, d, p, late) in enumerate(stops)
    ]
    vans = [
        _van(
            id="v1", max_reloads=max_reloads, reload_service_s=reload_s, capacity={"kg": capacity}
        ),
        {"id": "v2", "start_x": 50, "end_x": 50, "capacity": {"kg": capacity}},
    ]
    request = line_request(built, vans, time_limit_s=0.3)
    result = solve_routes(request)
    verdict = evaluate(request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]


# --------------------------------------------------------------- repair with reloads


def _left_out(request: RoutingRequest, stops: list[int], reloads: list[tuple[int, int]]) -> Any:
    """A plan of the one van over ``stops`` with ``reloads`` that leaves out the last stop of
    the request, claiming no room: what a search cut short could hand the repair."""
    problem = compile_request(resolve(request))
    route = scheduled_route(problem, 0, stops, [], reloads)
    left = problem.resolved.tasks[-1].id
    unassigned = [Unassigned(id=left, reason=UnassignedReason.NO_ROOM_IN_PLAN, message="m")]
    base = solve_routes(request)
    result = base.model_copy(
        update={
            "routes": [route],
            "unassigned": unassigned,
            "summary": plan_summary(problem, [route], unassigned),
            "evaluation": None,
        }
    )
    return problem, result


def test_the_repair_puts_a_stop_in_front_of_a_reload() -> None:
    """[a(-10) | reload | b(10)], x at -20 left out: the repair inserts it before the reload
    (the reload keeps its place, not a shifted one) and the plan passes the evaluator."""
    stops = [
        {"id": "a", "x": -10, "demand": {"kg": 3}},
        {"id": "b", "x": 10, "demand": {"kg": 3}},
        {"id": "x", "x": -20, "demand": {"kg": 3}},
    ]
    request = line_request(stops, [_van()])
    problem, result = _left_out(request, [0, 1], [(1, 0)])
    repaired = repair(problem, result, cut_short=False)
    assert repaired.stats.repaired == 1
    verdict = evaluate(request, repaired)
    assert verdict.feasible, [v.message for v in verdict.violations]


def test_the_repair_moves_a_trip_boundary_with_the_inserted_stop() -> None:
    """a(4) b(4) | reload | c(7) in 10; x(2) must come between a and b (its window): the
    trip a, x, b carries 10. The repair must find it, as the evaluator would."""
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 4}},
        {"id": "b", "x": 20, "demand": {"kg": 4}},
        {"id": "c", "x": -10, "demand": {"kg": 7}},
        {"id": "x", "x": 15, "demand": {"kg": 2}, "time_windows": [[14, 16]]},
    ]
    request = line_request(stops, [_van()])
    problem, result = _left_out(request, [0, 1, 2], [(2, 0)])
    assert ViolationCode.INSERTABLE_UNASSIGNED in _codes(request, result)
    repaired = repair(problem, result, cut_short=False)
    assert repaired.stats.repaired == 1
    verdict = evaluate(request, repaired)
    assert verdict.feasible, [v.message for v in verdict.violations]


def test_a_locked_prefix_weighs_on_the_first_trip_only() -> None:
    """Capacity 10; a and b (5 each) are locked first; c (6) fits only after a reload. Under
    the fold's capacity cut (10 - 5 for every trip) it would fit no trip; with the prefix as
    the first trip's load it is served on the second trip (by the search, or by the repair,
    which tries a new reload before each left-out stop)."""
    stops = [
        {"id": "a", "x": 10, "demand": {"kg": 5}},
        {"id": "b", "x": 20, "demand": {"kg": 5}},
        {"id": "c", "x": 30, "demand": {"kg": 6}},
    ]
    request = line_request(stops, [_van(locked_stops=["a", "b"])], backend="pyvrp")
    result = solve_checked(request)
    assert not result.unassigned
    assert _trips(result) == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    ("cells", "column"),
    [("0,,2", "reload_lon"), (",0,2", "reload_lat"), ("0,0,1.5", "max_reloads")],
)
def test_bad_reload_cells_name_their_column(tmp_path: Any, cells: str, column: str) -> None:
    stops = tmp_path / "stops.csv"
    stops.write_text("id,lat,lon\na,0,0.0001\n")
    vans = tmp_path / "vehicles.csv"
    vans.write_text(f"id,start_lat,start_lon,reload_lat,reload_lon,max_reloads\nv,0,0,{cells}\n")
    with pytest.raises(InputFileError) as caught:
        request_dict_from_csv(stops, vans)
    assert f"row 2, column {column}" in str(caught.value)
