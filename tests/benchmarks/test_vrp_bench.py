"""The VRP benchmark harness: .sol files, peer plans through the evaluator, the CLI."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from benchmarks.instances import load_bks, read_instance, read_solution, to_request, write_solution
from benchmarks.vrp_bench import (
    QUICK_INSTANCES,
    BenchConfig,
    collect_instances,
    default_solvers,
    instance_set,
    plan_result,
)
from benchmarks.vrp_peers import RUNNERS, SolverRun, available_solvers
from engine.routing.evaluate import evaluate

runner = CliRunner()
ISSUE_COLUMNS = [
    "instance",
    "n",
    "solver",
    "cost",
    "bks",
    "gap_pct",
    "vehicles",
    "seconds",
    "feasible",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _instance(shared_data: Path, name: str):
    folder = shared_data / "vrp" / ("cvrp" if name.startswith("X-") else "vrptw")
    path = folder / (f"{name}.vrp" if name.startswith("X-") else f"{name}.txt")
    return read_instance(path, load_bks(folder)), path.with_suffix(".sol")


def _route_cost(distances: np.ndarray, routes: list[list[int]]) -> float:
    """Total distance of depot-to-depot routes, straight from the instance's matrix."""
    total = 0.0
    for route in routes:
        nodes = [0, *route, 0]
        total += float(sum(distances[a, b] for a, b in itertools.pairwise(nodes)))
    return total


def test_write_solution_writes_vrplib_routes_then_cost(tmp_path: Path) -> None:
    path = write_solution(tmp_path / "a.sol", [[3, 1], [], [2]], 827.30000001, decimals=1)
    assert path.read_text() == "Route #1: 3 1\nRoute #2: 2\nCost 827.3\n"
    assert read_solution(path) == ([[3, 1], [2]], 827.3)


def test_write_solution_writes_integer_costs_without_decimals(tmp_path: Path) -> None:
    path = write_solution(tmp_path / "b.sol", [[1]], 27591.0)
    assert path.read_text().splitlines()[-1] == "Cost 27591"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("X-n101-k25", "X"), ("C101", "C1"), ("C205", "C2"), ("R112", "R1"), ("RC208", "RC2")],
)
def test_instance_set_names_x_and_solomon_classes(name: str, expected: str) -> None:
    assert instance_set(name) == expected


@pytest.mark.parametrize("name", ["X-n101-k25", "C101", "RC208"])
def test_best_known_solution_through_the_engine_is_feasible_at_its_cost(
    shared_data: Path, name: str
) -> None:
    instance, sol = _instance(shared_data, name)
    routes, stated = read_solution(sol)
    request = to_request(instance, time_limit_s=1)
    result = plan_result(request, routes, SolverRun(routes, 0.0, "bks", stated), "bks")
    verdict = evaluate(request, result)
    assert verdict.feasible, verdict.violations[:3]
    assert not result.unassigned
    assert verdict.cost == pytest.approx(instance.bks, abs=1e-6)
    assert _route_cost(instance.distances, routes) == pytest.approx(stated, abs=1e-6)


def test_plan_result_lists_clients_no_route_visits_as_unassigned(shared_data: Path) -> None:
    instance, sol = _instance(shared_data, "X-n101-k25")
    routes, _ = read_solution(sol)
    left_out = routes[0].pop()
    request = to_request(instance)
    result = plan_result(request, routes, SolverRun(routes, 0.0, "test"), "test")
    assert [u.id for u in result.unassigned] == [left_out]
    # feasible as a plan, but not complete: the evaluator may only flag the client left out
    verdict = evaluate(request, result)
    assert all(v.stop_id == left_out for v in verdict.violations), verdict.violations


def test_plan_result_rejects_a_client_the_instance_lacks(shared_data: Path) -> None:
    instance, _ = _instance(shared_data, "C101")
    with pytest.raises(ValueError, match="no routable stop"):
        plan_result(to_request(instance), [[1, 999]], SolverRun([[1, 999]], 0.0, "x"), "x")


def test_collect_instances_rejects_unknown_names(shared_data: Path) -> None:
    with pytest.raises(ValueError, match="X-n9-k1"):
        collect_instances([shared_data / "vrp" / "cvrp"], ["X-n101-k25", "X-n9-k1"])


def test_bench_config_rejects_unknown_solvers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown solver"):
        BenchConfig([tmp_path / "a.vrp"], ["gurobi"], 1.0, tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--instances", "/nonexistent/vrp"], "does not exist"),
        (["--solvers", "routeplan,gurobi"], "unknown solver"),
        (["--only", "X-n101-k25,NOPE"], "NOPE"),
        (["--time-limit", "0"], "--time-limit"),
    ],
)
def test_bench_vrp_exits_2_on_bad_input(
    shared_data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["bench", "vrp", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out" / "results.csv").exists()


def test_bench_vrp_names_an_unavailable_peer_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = {**available_solvers(), "vroom": "vroom needs pyvroom, not installed"}
    monkeypatch.setattr("api.cli.bench_vrp.available_solvers", lambda: missing)
    result = runner.invoke(
        app, ["bench", "vrp", "--solvers", "vroom", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "vroom is unavailable: vroom needs pyvroom" in result.output


def test_default_solvers_skip_unavailable_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = {**available_solvers(), "vroom": "not installed"}
    monkeypatch.setattr("benchmarks.vrp_bench.available_solvers", lambda: missing)
    runnable, skipped = default_solvers()
    assert "vroom" not in runnable and "routeplan" in runnable
    assert skipped == {"vroom": "not installed"}


@pytest.fixture(scope="module")
def quick_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``routeplan bench vrp --quick`` at 1 s per run, with every solver available here."""
    out = tmp_path_factory.mktemp("bench-quick")
    result = runner.invoke(app, ["bench", "vrp", "--quick", "--time-limit", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_quick_bench_writes_one_feasible_row_per_instance_and_solver(quick_run: Path) -> None:
    with (quick_run / "results.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header[: len(ISSUE_COLUMNS)] == ISSUE_COLUMNS
    rows = _rows(quick_run)
    solvers = [s for s, why in available_solvers().items() if why is None]
    assert {(r["instance"], r["solver"]) for r in rows} == {
        (i, s) for i in QUICK_INSTANCES for s in solvers
    }
    for row in rows:
        assert row["feasible"] == "True", row
        assert float(row["gap_pct"]) == pytest.approx(
            100 * (float(row["cost"]) - float(row["bks"])) / float(row["bks"]), abs=1e-3
        )
        assert float(row["seconds"]) < 30


def test_quick_bench_sol_files_reproduce_the_reported_costs(
    quick_run: Path, shared_data: Path
) -> None:
    rows = _rows(quick_run)
    for row in rows:
        sol = quick_run / "solutions" / row["solver"] / f"{row['instance']}.sol"
        lines = sol.read_text().splitlines()
        assert all(line.startswith("Route #") for line in lines[:-1])
        assert lines[-1].startswith("Cost ")
        routes, stated = read_solution(sol)
        instance, _ = _instance(shared_data, row["instance"])
        # independent of the engine: every client once, capacity, cost from the matrix
        visited = sorted(c for route in routes for c in route)
        assert visited == list(range(1, instance.n_customers + 1))
        demand = instance.data["demand"]
        assert all(sum(demand[c] for c in r) <= instance.data["capacity"] for r in routes)
        cost = _route_cost(instance.distances, routes)
        assert cost == pytest.approx(float(row["cost"]), abs=1e-6)
        assert stated == pytest.approx(cost, abs=0.05)
    # and once more through the evaluator, for a peer's plan
    instance, _ = _instance(shared_data, "C101")
    routes, stated = read_solution(quick_run / "solutions" / "pyvrp" / "C101.sol")
    request = to_request(instance)
    verdict = evaluate(request, plan_result(request, routes, SolverRun(routes, 0, "x"), "x"))
    assert verdict.feasible
    assert verdict.cost == pytest.approx(stated, abs=1e-6)


def test_quick_bench_writes_summary_and_plots(quick_run: Path) -> None:
    summary = (quick_run / "summary.md").read_text()
    assert "Mean gap to best-known" in summary
    assert "| X |" in summary and "| C1 |" in summary
    for name in ("gap.png", "convergence.png"):
        assert (quick_run / name).read_bytes()[:8] == PNG_MAGIC
    with (quick_run / "convergence.csv").open() as handle:
        samples = list(csv.DictReader(handle))
    assert {s["solver"] for s in samples} >= {"routeplan", "pyvrp"}


def _one_client_runner(instance: object, time_limit_s: float, seed: int) -> SolverRun:
    """A fake solver whose plan serves client 1 alone: feasible routes, 99 clients left out."""
    return SolverRun([[1]], 0.01, "fake", claimed_cost=1.0)


def _crashing_runner(instance: object, time_limit_s: float, seed: int) -> SolverRun:
    raise RuntimeError("fake solver crashed")


@pytest.mark.parametrize(
    ("runner_fn", "note"),
    [(_one_client_runner, "99 clients not served"), (_crashing_runner, "fake solver crashed")],
)
@pytest.mark.parametrize(
    ("flags", "exit_code"), [(["--quick"], 1), (["--strict"], 1), ([], 0)], ids=str
)
def test_bench_vrp_strict_and_quick_exit_1_on_an_unserved_or_failed_run(
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    runner_fn: object,
    note: str,
    flags: list[str],
    exit_code: int,
) -> None:
    monkeypatch.setitem(RUNNERS, "routeplan", runner_fn)
    folder = shared_data / "vrp" / "vrptw"
    args = ["bench", "vrp", *flags, "--instances", str(folder), "--only", "C101"]
    result = runner.invoke(app, [*args, "--solvers", "routeplan", "--out", str(tmp_path)])
    assert result.exit_code == exit_code, result.output
    rows = _rows(tmp_path)
    assert [(r["solver"], r["feasible"]) for r in rows] == [("routeplan", "False")]
    if exit_code:
        text = " ".join(result.output.split())  # rich wraps long lines
        assert text.count("failed: ") == 1
        assert "failed: C101 · routeplan: " in text and note in text.split("failed: ")[1]
