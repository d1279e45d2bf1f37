"""``routeplan route`` and ``routeplan demo`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from benchmarks.instances import load_bks, read_instance, to_request
from engine.routing.evaluate import evaluate
from models.routing import RoutingRequest, RoutingResult

runner = CliRunner()


def _request_file(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(data))
    return path


SMALL = {
    "stops": [
        {"id": "a", "location": [-8.61, 41.15], "demand": {"kg": 3}, "time_windows": [[0, 7200]]},
        {"id": "b", "location": [-8.60, 41.16], "demand": {"kg": 2}},
        {"id": "c", "location": [-8.62, 41.14], "skills": ["crane"]},
    ],
    "vehicles": [{"id": "van", "start": [-8.61, 41.155], "end": [-8.61, 41.155]}],
    "options": {"time_limit_s": 1},
}


def test_route_json_writes_an_evaluated_result(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["route", str(_request_file(tmp_path, SMALL)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Routes" in result.output and "no_vehicle_with_skills" in result.output
    plan = RoutingResult.model_validate_json(out.read_text())
    request = RoutingRequest.model_validate(SMALL)
    assert evaluate(request, plan).feasible
    assert [u.id for u in plan.unassigned] == ["c"]


def test_route_from_csv_files(tmp_path: Path) -> None:
    (tmp_path / "stops.csv").write_text(
        "id,lat,lon,demand_kg,service_s,time_windows,skills\n"
        "a,41.15,-8.61,3,60,0-3600;7200-9000,\n"
        "b,41.16,-8.60,2,60,,\n"
    )
    (tmp_path / "vehicles.csv").write_text(
        "id,start_lat,start_lon,end_lat,end_lon,capacity_kg,shift_start_s,shift_end_s\n"
        "van,41.155,-8.61,41.155,-8.61,10,0,36000\n"
    )
    out = tmp_path / "result.json"
    result = runner.invoke(
        app,
        [
            "route",
            "--stops",
            str(tmp_path / "stops.csv"),
            "--vehicles",
            str(tmp_path / "vehicles.csv"),
            "--time-limit",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    plan = RoutingResult.model_validate_json(out.read_text())
    assert plan.summary.stops_served == 2
    assert plan.evaluation is not None and plan.evaluation.feasible


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"stops": [{"id": "a", "location": [0, 0], "demand": {"kg": -2}}]},
            "stops[0].demand.kg = -2",
        ),
        (
            {"stops": [{"id": "a", "location": [0, 0], "time_windows": [[9, 1]]}]},
            "starts after it ends",
        ),
        ({"vehicles": [{"id": "v", "time_window": [50, 10]}]}, "vehicles[0].time_window"),
        (
            {"stops": [{"id": 1, "location": [0, 0]}, {"id": 1, "location": [1, 1]}]},
            "duplicate stops",
        ),
    ],
)
def test_bad_input_exits_2_naming_field_and_value(
    tmp_path: Path, change: dict, expected: str
) -> None:
    data = {**SMALL, **change}
    result = runner.invoke(app, ["route", str(_request_file(tmp_path, data))])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_malformed_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"stops": [')
    result = runner.invoke(app, ["route", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_bad_csv_cell_exits_2_naming_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "stops.csv").write_text("id,lat,lon,demand_kg\na,41.1,-8.6,lots\n")
    (tmp_path / "vehicles.csv").write_text("id\nvan\n")
    result = runner.invoke(
        app,
        [
            "route",
            "--stops",
            str(tmp_path / "stops.csv"),
            "--vehicles",
            str(tmp_path / "vehicles.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "stops.csv row 2, column demand_kg: 'lots' is not a number" in result.output


def test_demo_routes_only_writes_result_and_map(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--routes-only", "--out", str(tmp_path), "--time-limit", "2"]
    )
    assert result.exit_code == 0, result.output
    plan = RoutingResult.model_validate_json((tmp_path / "result.json").read_text())
    request = RoutingRequest.model_validate_json((tmp_path / "request.json").read_text())
    assert evaluate(request, plan).feasible
    assert (tmp_path / "routes.png").stat().st_size > 10_000
    assert len(request.stops) == 150 and len(request.vehicles) == 12


def test_x_n101_k25_is_routed_into_a_feasible_plan(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "vrp" / "cvrp"
    instance = read_instance(folder / "X-n101-k25.vrp", load_bks(folder))
    request_path = tmp_path / "x101.json"
    request_path.write_text(to_request(instance, time_limit_s=2).model_dump_json())
    out = tmp_path / "x101-result.json"
    result = runner.invoke(app, ["route", str(request_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = RoutingResult.model_validate_json(out.read_text())
    request = RoutingRequest.model_validate_json(request_path.read_text())
    verdict = evaluate(request, plan)
    assert verdict.feasible and not plan.unassigned
    assert instance.bks == 27591
    assert plan.summary.cost >= instance.bks  # the best-known cost is a lower bound here
