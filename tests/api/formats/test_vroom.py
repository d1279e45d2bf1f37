"""The VROOM adapter: VROOM's examples, key mappings, and what is refused (by field)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.formats.vroom import default_time_limit_s, to_vroom_output, translate
from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.errors import InvalidInputError, describe
from models.vroom import VroomProblem
from tests.vroom_check import check_vroom_solution

MATRIX = [[0, 2104, 197, 1299], [2103, 0, 2255, 3152], [197, 2256, 0, 1102], [1299, 3153, 1102, 0]]


def solve_checked(data: dict[str, Any], time_limit_s: float = 0.5) -> dict[str, Any]:
    """Translate, solve, evaluate our plan independently, answer as VROOM, check that too."""
    translation = translate(VroomProblem.model_validate(data), time_limit_s)
    result = solve_routes(translation.request)
    verdict = evaluate(translation.request, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    answer = to_vroom_output(translation, result)
    assert check_vroom_solution(data, answer) == []
    return answer


def example(shared_data: Path, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = shared_data / "vroom"
    if not (folder / f"example_{n}.json").is_file():
        pytest.skip(f"VROOM examples not found in {folder}")
    problem = json.loads((folder / f"example_{n}.json").read_text())
    published = json.loads((folder / f"example_{n}_sol.json").read_text())
    return problem, published


def test_example_2_matrix_reaches_the_published_optimum(shared_data: Path) -> None:
    problem, published = example(shared_data, 2)
    answer = solve_checked(problem)
    assert answer["summary"]["cost"] == published["summary"]["cost"] == 5461
    steps = answer["routes"][0]["steps"]
    assert [s.get("id") for s in steps] == [None, 1414, 1515, None]
    assert [s["arrival"] for s in steps] == [0, 2104, 4359, 5461]
    assert "distance" not in answer["summary"]  # no distance matrix given, as in VROOM


def test_example_3_coordinates_use_haversine_and_report_what_does_not_fit(
    shared_data: Path,
) -> None:
    problem, _ = example(shared_data, 3)
    answer = solve_checked(problem)
    # 10 units to deliver, 2 vans of 4: at least 2 units stay behind, each with a reason.
    assert answer["summary"]["delivery"][0] == 8
    assert len(answer["unassigned"]) == 2
    assert all(item["reason"] and item["message"] for item in answer["unassigned"])
    assert answer["summary"]["distance"] > 0
    # Times are the problem's own timestamps.
    assert all(s["arrival"] >= 1600416000 for r in answer["routes"] for s in r["steps"])


def test_example_1_with_its_shipment_gets_a_valid_plan(shared_data: Path) -> None:
    problem, _ = example(shared_data, 1)
    answer = solve_checked(problem)  # our evaluator and the VROOM-shape checker both pass
    left = {(u["type"], u["id"]): u["reason"] for u in answer["unassigned"]}
    # Haversine at 40 km/h is slower than VROOM's OSRM roads: the shipment (skill 2, far
    # north) may not fit van 2's 4 h with its break and job 6; if not, both ends say why.
    if left:
        assert left == {("pickup", 4): "no_room_in_plan", ("delivery", 3): "no_room_in_plan"}


def test_a_shipment_is_picked_up_then_delivered_on_one_van() -> None:
    ring = [[0, 10, 20, 30], [10, 0, 10, 20], [20, 10, 0, 10], [30, 20, 10, 0]]
    data = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [3]}],
        "jobs": [{"id": 1, "location_index": 3, "delivery": [2]}],
        "shipments": [
            {
                "amount": [3],
                "pickup": {"id": 1, "location_index": 1},
                "delivery": {"id": 1, "location_index": 2},
            }
        ],
        "matrices": {"car": {"durations": ring}},
    }
    answer = solve_checked(data)
    steps = [(s["type"], s.get("id"), s.get("load")) for s in answer["routes"][0]["steps"]]
    assert answer["unassigned"] == []
    kinds = [k for k, _, _ in steps]
    assert kinds.index("pickup") < kinds.index("delivery")
    assert max(load[0] for _, _, load in steps) <= 3
    # 2 on board + 3 picked up would be 5: the job (at 3) must come first, 0-3-1-2-0.
    assert [i for k, i, _ in steps if k != "start" and k != "end"] == [1, 1, 1]
    assert kinds[1] == "job"
    assert answer["summary"]["cost"] == 80


def test_example_1_without_shipments_respects_skills_pickups_and_breaks(
    shared_data: Path,
) -> None:
    problem, _ = example(shared_data, 1)
    problem = {k: v for k, v in problem.items() if k != "shipments"}
    answer = solve_checked(problem)
    assert answer["unassigned"] == []
    served = {
        r["vehicle"]: [s["id"] for s in r["steps"] if s["type"] == "job"] for r in answer["routes"]
    }
    assert set(served[1]) >= {1, 2}  # only vehicle 1 has skill 1
    assert answer["summary"]["pickup"] == [1]


def test_loads_follow_vroom_deliveries_at_start_and_pickups_brought_back() -> None:
    data = {
        "vehicles": [{"id": 7, "start_index": 0, "end_index": 0, "capacity": [5]}],
        "jobs": [
            {"id": 1, "location_index": 1, "delivery": [2]},
            {"id": 2, "location_index": 2, "pickup": [3]},
        ],
        "matrices": {"car": {"durations": [[0, 10, 10], [10, 0, 10], [10, 10, 0]]}},
    }
    answer = solve_checked(data)
    steps = answer["routes"][0]["steps"]
    assert steps[0]["load"] == [2]
    assert steps[-1]["load"] == [3]


def test_absolute_timestamps_come_back_unchanged() -> None:
    day = 1_700_000_000
    data = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [day, day + 9000]}],
        "jobs": [
            {"id": 1, "location_index": 1, "time_windows": [[day + 5000, day + 6000]]},
            {"id": 2, "location_index": 2, "service": 120, "setup": 30},
        ],
        "matrices": {"car": {"durations": MATRIX}},
    }
    answer = solve_checked(data)
    route = answer["routes"][0]
    job_1 = next(s for s in route["steps"] if s.get("id") == 1)
    assert day + 5000 <= job_1["arrival"] + job_1["waiting_time"] <= day + 6000
    job_2 = next(s for s in route["steps"] if s.get("id") == 2)
    assert (job_2["setup"], job_2["service"]) == (30, 120)


def test_vehicle_costs_map_to_the_same_cost_units() -> None:
    data = {
        "vehicles": [
            {
                "id": 1,
                "start_index": 0,
                "end_index": 3,
                "costs": {"fixed": 100, "per_hour": 7200, "per_km": 1000},
            }
        ],
        "jobs": [{"id": 1414, "location_index": 1}, {"id": 1515, "location_index": 2}],
        "matrices": {
            "car": {"durations": MATRIX, "distances": [[d * 10 for d in row] for row in MATRIX]}
        },
    }
    answer = solve_checked(data)
    route = answer["routes"][0]
    # fixed + 2 per second of travel + 1 per metre
    assert route["cost"] == 100 + 2 * route["duration"] + route["distance"]
    assert route["duration"] == 5461


def test_max_travel_time_is_a_limit_on_the_whole_route() -> None:
    data = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 3, "max_travel_time": 4000}],
        "jobs": [{"id": 1414, "location_index": 1}, {"id": 1515, "location_index": 2}],
        "matrices": {"car": {"durations": MATRIX}},
    }
    answer = solve_checked(data)
    assert [u["id"] for u in answer["unassigned"]] == [1414]
    assert answer["routes"][0]["duration"] <= 4000


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"options": {"c": True}}, "options.c"),
        ({"matrices": {"car": {"durations": MATRIX, "costs": MATRIX}}}, "matrices.car.costs"),
        (
            {"vehicles": [{"id": 1, "costs": {"per_task_hour": 10}}]},
            "vehicles[0].costs.per_task_hour",
        ),
        (
            {"vehicles": [{"id": 1, "breaks": [{"id": 1, "max_load": [1]}]}]},
            "vehicles[0].breaks[0].max_load",
        ),
        ({"jobs": [{"id": 1, "service_per_type": {"van": 5}}]}, "jobs[0].service_per_type"),
        ({"jobs": [{"id": 1, "priority": 101}]}, "jobs[0].priority"),
        ({"jobs": [{"id": 1, "time_windows": [[10, 5]]}]}, "jobs[0].time_windows[0]"),
        ({"jobs": [{"id": 1, "amount": [1]}]}, "jobs[0].amount"),
        ({"vehicles": []}, "vehicles"),
    ],
)
def test_unsupported_or_invalid_keys_are_refused_by_name(patch: dict[str, Any], field: str) -> None:
    data = {"vehicles": [{"id": 1, "start": [2.3, 48.8]}], "jobs": [], **patch}
    with pytest.raises(ValidationError) as caught:
        VroomProblem.model_validate(data)
    assert field in [d["field"] for d in describe(caught.value)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {
                "vehicles": [{"id": 1, "start": [2.3, 48.8], "capacity": [4]}],
                "jobs": [{"id": 1, "location": [2.3, 48.9], "delivery": [1, 2]}],
            },
            "jobs[0].delivery",
        ),
        (
            {
                "vehicles": [{"id": 1, "start_index": 0}],
                "jobs": [{"id": 1, "location": [2.3, 48.9]}],
                "matrices": {"car": {"durations": [[0, 1], [1, 0]]}},
            },
            "jobs[0].location_index",
        ),
        (
            {
                "vehicles": [{"id": 1, "start": [2.3, 48.8]}],
                "jobs": [{"id": 1, "location": [2.3, 48.9]}, {"id": 1, "location": [2.4, 48.9]}],
            },
            "jobs[1].id",
        ),
        (
            {
                "vehicles": [
                    {"id": 1, "start": [2.3, 48.8]},
                    {"id": 2, "start": [2.3, 48.8], "profile": "bike"},
                ],
                "jobs": [],
            },
            "vehicles[].profile",
        ),
        (
            {
                "vehicles": [{"id": 1, "start_index": 0}],
                "jobs": [{"id": 1, "location_index": 5}],
                "matrices": {"car": {"durations": [[0, 1], [1, 0]]}},
            },
            "jobs[0].location_index",
        ),
    ],
)
def test_inconsistent_problems_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        translate(VroomProblem.model_validate(data), 1.0)
    assert field in [d["field"] for d in caught.value.details]


def test_default_time_limit_grows_with_jobs_and_respects_the_cap() -> None:
    small = VroomProblem.model_validate({"vehicles": [{"id": 1}], "jobs": []})
    assert default_time_limit_s(small, 30) == 1.0
    big = VroomProblem.model_validate(
        {"vehicles": [{"id": 1}], "jobs": [{"id": i} for i in range(5000)]}
    )
    assert default_time_limit_s(big, 30) == 30
    given = VroomProblem.model_validate({"vehicles": [{"id": 1}], "options": {"l": 3}})
    assert default_time_limit_s(given, 30) == 3
