"""Independent searches in child processes, and the child-call mechanism itself."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Any

import pytest

import engine.routing.portfolio as portfolio
import engine.routing.solve as routing_solve
from engine.processes import start_call
from engine.routing.compile import compile_request
from engine.routing.locations import resolve
from engine.routing.portfolio import FileExchange, solve_portfolio, worker_count, worker_seed
from models.routing import RoutingOptions
from solvers.routing.data import VrpSolution
from tests.helpers import line_request, solve_checked

#: What the crashing child search raises; its report must carry it.
CRASH_TEXT = "child search crashed on purpose"


def _square(x: int) -> int:
    return x * x


def _crashing_search(*args: Any) -> VrpSolution:
    """A child search that fails (run in the child process by the portfolio)."""
    raise RuntimeError(CRASH_TEXT)


def test_child_call_returns_the_value() -> None:
    call = start_call(_square, 7)
    assert call is not None
    assert call.collect(time.monotonic() + 30) == 49


def test_child_call_that_raises_gives_none_and_says_why() -> None:
    call = start_call(int, "not a number")
    assert call is not None
    assert call.collect(time.monotonic() + 30) is None
    assert call.error is not None
    assert "exited with code 1" in call.error
    assert "ValueError: invalid literal for int()" in call.error


def test_child_call_that_returns_has_no_error() -> None:
    call = start_call(_square, 3)
    assert call is not None
    assert call.collect(time.monotonic() + 30) == 9
    assert call.error is None


def test_worker_count_follows_the_options() -> None:
    assert worker_count(RoutingOptions(time_limit_s=1)) == 1
    assert worker_count(RoutingOptions(time_limit_s=30, solution_limit=5)) == 1
    assert worker_count(RoutingOptions(time_limit_s=1, workers=1)) == 1


def test_two_workers_give_a_plan_that_passes_the_evaluator() -> None:
    stops = [{"id": i, "x": (i * 37) % 101 - 50, "demand": {"kg": 1 + i % 3}} for i in range(30)]
    vans = [{"id": v, "start_x": 0, "end_x": 0, "capacity": {"kg": 15}} for v in range(4)]
    for backend in ("ortools", "auto"):
        request = line_request(stops, vans, time_limit_s=2.0, workers=2, backend=backend)
        result = solve_checked(request)
        assert result.summary.stops_served == 30
        assert result.stats.worker_errors == []  # the child search gave its plan


def test_portfolio_returns_a_complete_solution() -> None:
    stops = [{"id": i, "x": i * 10} for i in range(1, 8)]
    request = line_request(stops, [{"id": "v", "start_x": 0, "end_x": 0}], workers=2)
    data = compile_request(resolve(request)).data
    options = request.options.model_copy(update={"time_limit_s": 1.5})
    solution = solve_portfolio(data, "ortools", options)
    assert solution.found and len(solution.dropped) == 0
    assert solution.worker_errors == []


def test_a_crashed_child_search_is_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(portfolio, "worker_count", lambda options: 2)
    stops = [{"id": i, "x": i * 10} for i in range(1, 8)]
    request = line_request(stops, [{"id": "v", "start_x": 0, "end_x": 0}], workers=2)
    data = compile_request(resolve(request)).data
    options = request.options.model_copy(update={"time_limit_s": 0.5})
    with caplog.at_level(logging.WARNING, logger="engine.routing.portfolio"):
        solution = solve_portfolio(data, "ortools", options, child_search=_crashing_search)
    assert solution.found and len(solution.dropped) == 0  # the in-process search's plan
    assert len(solution.worker_errors) == 1
    assert "search 1 (ortools)" in solution.worker_errors[0]
    assert f"RuntimeError: {CRASH_TEXT}" in solution.worker_errors[0]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert CRASH_TEXT in caplog.records[0].getMessage()


def test_a_crashed_child_search_reaches_the_result_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portfolio, "worker_count", lambda options: 2)
    crashing = functools.partial(solve_portfolio, child_search=_crashing_search)
    monkeypatch.setattr(routing_solve, "solve_portfolio", crashing)
    stops = [{"id": i, "x": i * 10} for i in range(1, 8)]
    request = line_request(
        stops, [{"id": "v", "start_x": 0, "end_x": 0}], workers=2, backend="ortools"
    )
    result = solve_checked(request)
    assert result.summary.stops_served == 7
    assert len(result.stats.worker_errors) == 1
    assert CRASH_TEXT in result.stats.worker_errors[0]


def test_worker_seeds_are_distinct_reproducible_and_in_range() -> None:
    seeds = [worker_seed(seed, worker) for seed in (0, 1, 7) for worker in range(4)]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**31 for s in seeds)
    assert worker_seed(7, 2) == worker_seed(7, 2)


def test_file_exchange_shares_the_cheapest_plan_of_the_others(tmp_path: Path) -> None:
    first, second, third = (FileExchange(tmp_path, k) for k in range(3))
    assert first.best() is None
    second.publish(120.0, [(0, [1, 2])])
    third.publish(100.0, [(0, [2, 1])])
    first.publish(50.0, [(0, [3])])  # its own plan is never offered back to it
    assert first.best() == (100.0, [(0, [2, 1])])
    third.publish(130.0, [(0, [1])])  # a changed file is read again
    assert first.best() == (120.0, [(0, [1, 2])])
    assert second.best() == (50.0, [(0, [3])])
