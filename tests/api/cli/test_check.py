"""``routeplan check``: a plan from a file judged by the evaluator; exit 0, 1 or 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.formats.vroom import to_vroom_output, translate
from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest
from models.vroom import VroomProblem

runner = CliRunner()

#: Four stops on a line (x in metres, 1 m/s) and one van from x=0.
REQUEST: dict[str, Any] = {
    "stops": [
        {"id": f"s{i}", "location": [100.0 * (i + 1), 0.0], "demand": {"kg": 1}, "service": 10}
        for i in range(4)
    ],
    "vehicles": [{"id": "van", "start": [0.0, 0.0], "end": [0.0, 0.0], "capacity": {"kg": 10}}],
    "matrix": {"provider": "euclidean", "speed_mps": 1.0},
    "options": {"time_limit_s": 0.3},
}

#: A VROOM problem with an integer duration matrix (so VROOM's rounded output is exact).
VROOM_PROBLEM: dict[str, Any] = {
    "vehicles": [{"id": 7, "start_index": 0, "end_index": 0, "capacity": [3]}],
    "jobs": [
        {"id": 1, "location_index": 1, "delivery": [1], "service": 30},
        {"id": 2, "location_index": 2, "delivery": [1], "time_windows": [[0, 5000]]},
    ],
    "shipments": [
        {
            "amount": [1],
            "pickup": {"id": 5, "location_index": 1},
            "delivery": {"id": 5, "location_index": 3},
        }
    ],
    "matrices": {
        "car": {
            "durations": [
                [0, 100, 200, 300],
                [100, 0, 150, 250],
                [200, 150, 0, 120],
                [300, 250, 120, 0],
            ]
        }
    },
    "options": {"l": 0.3},
}


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def solved() -> dict[str, Any]:
    """Our plan for REQUEST, checked by the evaluator before any test uses it."""
    request = RoutingRequest.model_validate(REQUEST)
    result = solve_routes(request)
    verdict = evaluate(request, result)
    assert verdict.feasible, verdict.violations
    assert result.summary.stops_served == 4
    data: dict[str, Any] = result.model_dump(mode="json", exclude_none=True)
    return data


@pytest.fixture
def files(tmp_path: Path, solved: dict[str, Any]) -> tuple[Path, Path]:
    return _write(tmp_path / "request.json", REQUEST), _write(tmp_path / "result.json", solved)


def _check(*args: Path | str) -> Any:
    return runner.invoke(app, ["check", *map(str, args)])


def test_a_solved_plan_is_feasible(files: tuple[Path, Path]) -> None:
    outcome = _check(*files)
    assert outcome.exit_code == 0, outcome.output
    assert "feasible" in outcome.output and "infeasible" not in outcome.output


def test_a_stop_removed_and_not_listed_is_infeasible(
    tmp_path: Path, files: tuple[Path, Path], solved: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(solved))
    steps = broken["routes"][0]["steps"]
    removed = next(s for s in steps if s["type"] == "job")
    steps.remove(removed)
    outcome = _check(files[0], _write(tmp_path / "broken.json", broken))
    assert outcome.exit_code == 1, outcome.output
    assert "missing_stop" in outcome.output and str(removed["id"]) in outcome.output


def test_an_arrival_made_earlier_is_a_travel_time_violation(
    tmp_path: Path, files: tuple[Path, Path], solved: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(solved))
    step = next(s for s in broken["routes"][0]["steps"] if s["type"] == "job")
    for key in ("arrival_s", "service_start_s", "departure_s"):
        step[key] -= 50.0  # at 1 m/s the van cannot be there yet
    outcome = runner.invoke(
        app, ["check", str(files[0]), str(_write(tmp_path / "b.json", broken)), "--json"]
    )
    assert outcome.exit_code == 1, outcome.output
    verdict = json.loads(outcome.output)
    assert verdict["feasible"] is False
    assert "travel_time" in {v["code"] for v in verdict["violations"]}


def test_json_verdict_of_a_feasible_plan(files: tuple[Path, Path]) -> None:
    outcome = runner.invoke(app, ["check", *map(str, files), "--json"])
    assert outcome.exit_code == 0, outcome.output
    verdict = json.loads(outcome.output)
    assert verdict["feasible"] is True and verdict["violations"] == []
    assert verdict["distance_m"] == pytest.approx(800.0)  # out to x=400 and back


def test_a_hand_written_plan_of_ids_only_is_scheduled_and_checked(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    bare = {
        "routes": [
            {
                "vehicle_id": "van",
                "steps": [
                    {"type": "start"},
                    *({"type": "job", "id": f"s{i}"} for i in range(4)),
                    {"type": "end"},
                ],
            }
        ]
    }
    outcome = _check(files[0], _write(tmp_path / "bare.json", bare))
    assert outcome.exit_code == 0, outcome.output
    bare["routes"][0]["steps"][1]["id"] = "nowhere"
    outcome = _check(files[0], _write(tmp_path / "bare.json", bare))
    assert outcome.exit_code == 2
    assert "bare.json" in outcome.stderr and "nowhere" in outcome.stderr


def test_malformed_json_names_the_file(tmp_path: Path, files: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"routes": [')
    outcome = _check(files[0], bad)
    assert outcome.exit_code == 2
    assert "bad.json" in outcome.stderr and "not valid JSON" in outcome.stderr
    assert "Traceback" not in outcome.output


def test_a_missing_file_is_named(tmp_path: Path, files: tuple[Path, Path]) -> None:
    outcome = _check(tmp_path / "absent.json", files[1])
    assert outcome.exit_code == 2
    assert "absent.json" in outcome.stderr and "no such file" in outcome.stderr


def test_a_field_of_the_wrong_type_is_named(
    tmp_path: Path, files: tuple[Path, Path], solved: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(solved))
    broken["summary"]["cost"] = "cheap"
    outcome = _check(files[0], _write(tmp_path / "typed.json", broken))
    assert outcome.exit_code == 2
    assert "typed.json" in outcome.stderr and "summary.cost" in outcome.stderr
    assert "cheap" in outcome.stderr
    assert "Traceback" not in outcome.output


def test_a_bad_request_field_is_named(tmp_path: Path, files: tuple[Path, Path]) -> None:
    request = json.loads(json.dumps(REQUEST))
    request["vehicles"][0]["capacity"] = {"kg": "lots"}
    outcome = _check(_write(tmp_path / "req.json", request), files[1])
    assert outcome.exit_code == 2
    assert "req.json" in outcome.stderr and "vehicles[0].capacity.kg" in outcome.stderr


@pytest.fixture(scope="module")
def vroom_solved() -> dict[str, Any]:
    """Our solve of VROOM_PROBLEM in VROOM's output shape (our plan evaluator-checked first)."""
    tr = translate(VroomProblem.model_validate(VROOM_PROBLEM), 0.3)
    result = solve_routes(tr.request)
    verdict = evaluate(tr.request, result)
    assert verdict.feasible, verdict.violations
    assert result.unassigned == []
    return to_vroom_output(tr, result)


def test_our_vroom_output_is_feasible(tmp_path: Path, vroom_solved: dict[str, Any]) -> None:
    problem = _write(tmp_path / "problem.json", VROOM_PROBLEM)
    outcome = _check(problem, _write(tmp_path / "out.json", vroom_solved))
    assert outcome.exit_code == 0, outcome.output


def test_a_vroom_output_with_a_job_removed_is_infeasible(
    tmp_path: Path, vroom_solved: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(vroom_solved))
    steps = broken["routes"][0]["steps"]
    steps.remove(next(s for s in steps if s["type"] == "job" and s["id"] == 2))
    problem = _write(tmp_path / "problem.json", VROOM_PROBLEM)
    outcome = _check(problem, _write(tmp_path / "out.json", broken))
    assert outcome.exit_code == 1, outcome.output
    assert "missing_stop" in outcome.output


def test_a_vroom_output_without_times_is_scheduled(
    tmp_path: Path, vroom_solved: dict[str, Any]
) -> None:
    bare = {
        "code": 0,
        "summary": {"cost": 0},
        "routes": [
            {
                "vehicle": r["vehicle"],
                "steps": [{"type": s["type"], "id": s.get("id")} for s in r["steps"]],
            }
            for r in vroom_solved["routes"]
        ],
    }
    problem = _write(tmp_path / "problem.json", VROOM_PROBLEM)
    outcome = _check(problem, _write(tmp_path / "bare.json", bare))
    assert outcome.exit_code == 0, outcome.output
    bare["routes"][0]["steps"][1]["id"] = None
    outcome = _check(problem, _write(tmp_path / "bare.json", bare))
    assert outcome.exit_code == 2 and "bare.json" in outcome.stderr
    assert "routes[0].steps[1].id" in outcome.stderr


def test_a_vroom_output_with_a_bad_field_is_named(
    tmp_path: Path, vroom_solved: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(vroom_solved))
    broken["routes"][0]["steps"][1]["arrival"] = "noon"
    problem = _write(tmp_path / "problem.json", VROOM_PROBLEM)
    outcome = _check(problem, _write(tmp_path / "out.json", broken))
    assert outcome.exit_code == 2
    assert "out.json" in outcome.stderr and "routes[0].steps[1].arrival" in outcome.stderr


@pytest.mark.parametrize("n", [1, 2, 3])
def test_vroom_published_examples_are_judged(shared_data: Path, n: int) -> None:
    """VROOM's own answers (OSRM durations for 1 and 3): the check runs and names its codes."""
    folder = shared_data / "vroom"
    problem, output = folder / f"example_{n}.json", folder / f"example_{n}_sol.json"
    if not output.is_file():
        pytest.skip(f"{output} not found")
    outcome = runner.invoke(app, ["check", str(problem), str(output), "--json"])
    assert outcome.exit_code in (0, 1), outcome.output
    verdict = json.loads(outcome.output)
    assert verdict["feasible"] is (outcome.exit_code == 0)
    for violation in verdict["violations"]:
        assert violation["code"] and violation["message"]
    if not verdict["feasible"]:
        table = _check(problem, output)
        assert verdict["violations"][0]["code"] in table.output
