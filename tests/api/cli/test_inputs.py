"""Every CLI input through the one error path (exit 2, one line), size caps, and options:
a request file's options are kept unless a flag is given; seed + solution_limit reproduce."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import api.cli.allocate as allocate_cli
import api.cli.common as common
import api.cli.route as route_cli
from api.cli import app
from api.formats.sample_plan import sample_plan
from api.settings import get_settings
from engine.routing.evaluate import evaluate
from engine.routing.portfolio import worker_count
from models.allocation import AllocationRequest, AllocationResult
from models.routing import RoutingOptions, RoutingRequest, RoutingResult
from tests.engine.routing.test_repair import _sixty_stops

runner = CliRunner()
DEPOT = [-8.61, 41.155]


def _write(tmp_path: Path, data: Any, name: str = "request.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _one_line_exit_2(output: str) -> None:
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output


def test_a_forced_backend_that_cannot_honour_breaks_exits_2(tmp_path: Path) -> None:
    lunch = {"id": "lunch", "time_windows": [[3600, 7200]], "duration_s": 600}
    data = {
        "stops": [{"id": "a", "location": [-8.61, 41.15]}, {"id": "b", "location": [-8.6, 41.16]}],
        "vehicles": [{"id": "van", "start": DEPOT, "shift": [0, 36000], "breaks": [lunch]}],
        "options": {"time_limit_s": 1, "backend": "pyvrp"},
    }
    result = runner.invoke(app, ["route", str(_write(tmp_path, data))])
    assert result.exit_code == 2
    _one_line_exit_2(result.output)
    assert "options.backend: 'pyvrp'" in result.output and "breaks" in result.output


def _small_day() -> dict[str, Any]:
    return sample_plan(n_orders=10, routing_time_limit_s=1.0).model_dump(mode="json")


def test_a_plan_with_an_explicit_matrix_exits_2_naming_the_field(tmp_path: Path) -> None:
    day = _small_day()
    day["options"]["matrix"] = {"provider": "explicit", "durations_s": [[0, 1], [1, 0]]}
    result = runner.invoke(app, ["plan", str(_write(tmp_path, day)), "--out", str(tmp_path)])
    assert result.exit_code == 2
    _one_line_exit_2(result.output)
    assert "options.matrix.provider = 'explicit': a plan needs coordinates" in result.output


@pytest.mark.parametrize("end", ["start_index", "end_index"])
def test_a_plan_vehicle_with_a_matrix_index_exits_2_naming_the_field(
    tmp_path: Path, end: str
) -> None:
    day = _small_day()
    day["fleet"][1][end] = 0
    result = runner.invoke(app, ["plan", str(_write(tmp_path, day)), "--out", str(tmp_path)])
    assert result.exit_code == 2
    _one_line_exit_2(result.output)
    assert f"fleet[1].{end} = 0: a plan's vans need coordinates" in result.output


def test_a_route_request_over_the_cli_cap_exits_2_before_any_matrix(tmp_path: Path) -> None:
    cap = get_settings().cli_max_stops
    assert cap == 20_000  # the default (ROUTEPLAN_CLI_MAX_STOPS)
    stops = [
        {"id": k, "location": [-8.6 + (k % 150) * 1e-3, 41.1 + (k // 150) * 1e-3]}
        for k in range(cap + 1)
    ]
    data = {"stops": stops, "vehicles": [{"id": "v", "start": DEPOT}]}
    result = runner.invoke(app, ["route", str(_write(tmp_path, data))])
    assert result.exit_code == 2
    _one_line_exit_2(result.output)
    assert f"{cap + 1} visits" in result.output and f"cap of {cap}" in result.output
    assert "ROUTEPLAN_CLI_MAX_STOPS" in result.output and "GiB" in result.output


def test_a_plan_over_the_cli_cap_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTEPLAN_CLI_MAX_STOPS", "5")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["plan", str(_write(tmp_path, _small_day()))])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    _one_line_exit_2(result.output)
    assert "orders: 10 orders is more than the command line's cap of 5" in result.output


ALLOCATION = {
    "plan_date": "2024-03-01",
    "sites": [{"id": "s", "location": [-43.2, -22.9]}],
    "stock": [{"site_id": "s", "sku": "a", "on_hand": 1}],
    "orders": [
        {"id": 1, "location": [-43.2, -22.9], "lines": [{"id": 1, "sku": "a", "quantity": 1}]}
    ],
    "options": {"method": "greedy_nearest", "time_limit_s": 3.5, "explain": False},
}


def _captured_allocation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *flags: str) -> Any:
    seen: list[AllocationRequest] = []

    def capture(request: AllocationRequest, *_args: Any, **_kw: Any) -> None:
        seen.append(request)
        raise typer.Exit(0)

    monkeypatch.setattr(allocate_cli, "run_allocation", capture)
    path = _write(tmp_path, ALLOCATION)
    result = runner.invoke(app, ["allocate", "--request", str(path), *flags])
    assert result.exit_code == 0, result.output
    return seen[0].options


def test_allocate_keeps_the_request_files_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = _captured_allocation(monkeypatch, tmp_path)
    assert (options.method, options.time_limit_s, options.explain) == ("greedy_nearest", 3.5, False)
    options = _captured_allocation(monkeypatch, tmp_path, "--time-limit", "2", "--explain")
    assert (options.method, options.time_limit_s, options.explain) == ("greedy_nearest", 2, True)


def test_allocate_runs_the_method_of_the_request_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    path = _write(tmp_path, ALLOCATION)
    result = runner.invoke(app, ["allocate", "--request", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert AllocationResult.model_validate_json(out.read_text()).stats.method == "greedy_nearest"


def test_a_bad_allocate_flag_exits_2_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, ALLOCATION)
    result = runner.invoke(app, ["allocate", "--request", str(path), "--method", "fastest"])
    assert result.exit_code == 2
    assert "method" in result.output and "fastest" in result.output


def test_route_flags_override_only_what_they_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[RoutingRequest] = []

    def capture(request: RoutingRequest) -> None:
        seen.append(request)
        raise typer.Exit(0)

    monkeypatch.setattr(route_cli, "solve_with_progress", capture)
    options = {"time_limit_s": 7, "seed": 11, "solution_limit": 40, "workers": 2}
    data = {"stops": [{"id": "a", "location": DEPOT}], "vehicles": [{"id": "v"}]}
    path = _write(tmp_path, {**data, "options": options})
    assert runner.invoke(app, ["route", str(path)]).exit_code == 0
    assert runner.invoke(app, ["route", str(path), "--time-limit", "2"]).exit_code == 0
    kept, flagged = (s.options for s in seen)
    assert kept.model_dump(include=set(options)) == options
    assert flagged.model_dump(include=set(options)) == {**options, "time_limit_s": 2}


def test_a_solution_limit_runs_one_search_whatever_the_workers() -> None:
    assert worker_count(RoutingOptions(workers=2, solution_limit=10, time_limit_s=30)) == 1
    assert worker_count(RoutingOptions(workers=0, solution_limit=10, time_limit_s=30)) == 1


def test_seed_and_solution_limit_reproduce_the_plan_with_two_workers(tmp_path: Path) -> None:
    stops = [
        {"id": k, "location": [-8.65 + 0.01 * (k % 6), 41.12 + 0.01 * (k // 6)], "demand": {"n": 1}}
        for k in range(24)
    ]
    data = {
        "stops": stops,
        "vehicles": [{"id": f"v{k}", "start": DEPOT, "capacity": {"n": 8}} for k in range(4)],
        "options": {"time_limit_s": 20, "seed": 5, "solution_limit": 30, "workers": 2},
    }
    path = _write(tmp_path, data)
    request = RoutingRequest.model_validate(data)
    plans = []
    for run in range(2):
        out = tmp_path / f"result{run}.json"
        result = runner.invoke(app, ["route", str(path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        plan = RoutingResult.model_validate_json(out.read_text())
        assert evaluate(request, plan).feasible
        assert not plan.unassigned
        plans.append([route.model_dump() for route in plan.routes])
    assert plans[0] == plans[1]


def test_the_route_table_shows_the_drop_penalty_on_its_own_row(tmp_path: Path) -> None:
    data = {
        "stops": [
            {"id": "a", "location": [-8.61, 41.15]},
            {
                "id": "c",
                "location": [-8.62, 41.14],
                "skills": ["crane"],
                "optional": True,
                "drop_penalty": 7.25,
            },
        ],
        "vehicles": [{"id": "van", "start": DEPOT, "end": DEPOT}],
        "options": {"time_limit_s": 1},
    }
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["route", str(_write(tmp_path, data)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = RoutingResult.model_validate_json(out.read_text())
    assert plan.summary.drop_penalty == 7.25
    row = next(line for line in result.output.splitlines() if "drop penalty" in line)
    assert "7.25" in row
    assert "routes + drop penalty" in result.output
    routes = sum(r.summary.cost for r in plan.routes)
    assert plan.summary.cost == pytest.approx(routes + 7.25)


def test_the_progress_figure_is_labelled_the_search_objective(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = Console(record=True, force_terminal=True, width=120)
    monkeypatch.setattr(common, "console", screen)

    def work(progress: Any) -> int:
        progress(0.1, 123.0)
        time.sleep(0.3)  # the bar redraws every 0.1 s
        return 1

    assert common.run_with_progress("routing", 1.0, work) == 1
    text = screen.export_text()
    assert "search objective 123.00" in text and "cost" not in text


def test_a_route_cut_short_with_stops_left_out_exits_5_after_writing_the_plan(
    tmp_path: Path,
) -> None:
    request = _sixty_stops(time_limit_s=1.0, solution_limit=1, backend="ortools")
    path = _write(tmp_path, request.model_dump(mode="json"))
    out = tmp_path / "result.json"
    done = runner.invoke(app, ["route", str(path), "--out", str(out)])
    assert done.exit_code == 5, done.output
    result = RoutingResult.model_validate_json(out.read_text())
    assert evaluate(request, result).feasible
    assert {u.reason.value for u in result.unassigned} == {"search_time_exhausted"}
    assert "cut short" in done.output


def test_a_route_with_stops_that_fit_nowhere_exits_0(tmp_path: Path) -> None:
    request = _sixty_stops(time_limit_s=1.0, backend="ortools")
    done = runner.invoke(app, ["route", str(_write(tmp_path, request.model_dump(mode="json")))])
    assert done.exit_code == 0, done.output
