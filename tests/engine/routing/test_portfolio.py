"""Independent searches in child processes, and the child-call mechanism itself."""

from __future__ import annotations

import time
from pathlib import Path

from engine.processes import start_call
from engine.routing.compile import compile_request
from engine.routing.locations import resolve
from engine.routing.portfolio import FileExchange, solve_portfolio, worker_count, worker_seed
from models.routing import RoutingOptions
from tests.helpers import line_request, solve_checked


def _square(x: int) -> int:
    return x * x


def test_child_call_returns_the_value() -> None:
    call = start_call(_square, 7)
    assert call is not None
    assert call.collect(time.monotonic() + 30) == 49


def test_child_call_that_raises_gives_none() -> None:
    call = start_call(int, "not a number")
    assert call is not None
    assert call.collect(time.monotonic() + 30) is None


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


def test_portfolio_returns_a_complete_solution() -> None:
    stops = [{"id": i, "x": i * 10} for i in range(1, 8)]
    request = line_request(stops, [{"id": "v", "start_x": 0, "end_x": 0}], workers=2)
    data = compile_request(resolve(request)).data
    options = request.options.model_copy(update={"time_limit_s": 1.5})
    solution = solve_portfolio(data, "ortools", options)
    assert solution.found and len(solution.dropped) == 0


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
