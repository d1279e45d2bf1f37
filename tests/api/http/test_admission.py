"""Admission to the synchronous solves (issue 11, finding 1): waiting holds no thread.

Before, ``sync_solve_slot`` waited for its semaphore inside one of anyio's 40 worker
threads; with more waiting requests than threads, the requests holding a slot had no thread
to solve on and ``/v1/health`` queued behind them. The real-server tests start uvicorn on
127.0.0.1 and assert on the order of the answers, not on wall times.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.admission import SolveSlots, WaitingLineFullError
from benchmarks import aio
from benchmarks.load import LoadServer
from tests.api.payloads import assert_error_shape, routes_request

# --- the slots alone ------------------------------------------------------------------


def test_a_freed_slot_goes_to_the_first_waiter_in_order() -> None:
    async def scenario() -> list[str]:
        slots = SolveSlots(capacity=1, max_waiting=5, wait_s=10)
        order: list[str] = []
        assert await slots.acquire_async()

        async def wait(name: str) -> None:
            assert await slots.acquire_async()
            order.append(name)
            slots.release()

        tasks = [asyncio.create_task(wait(name)) for name in "abc"]
        await asyncio.sleep(0.01)
        assert (slots.running, slots.waiting) == (1, 3)
        slots.release()
        await asyncio.gather(*tasks)
        assert (slots.running, slots.waiting) == (0, 0)
        return order

    assert aio.run(scenario()) == ["a", "b", "c"]


def test_a_full_waiting_line_refuses_at_once_and_a_timeout_leaves_the_line() -> None:
    async def scenario() -> None:
        slots = SolveSlots(capacity=1, max_waiting=1, wait_s=0.05)
        assert await slots.acquire_async()
        waiter = asyncio.create_task(slots.acquire_async(timeout_s=30))
        await asyncio.sleep(0.01)
        with pytest.raises(WaitingLineFullError):
            await slots.acquire_async(timeout_s=30)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await slots.acquire_async() is False  # waited wait_s, then gave up
        assert (slots.running, slots.waiting) == (1, 0)
        slots.release()
        assert slots.running == 0
        with pytest.raises(ValueError, match="released more"):
            slots.release()

    aio.run(scenario())


def test_a_slot_released_from_another_thread_wakes_a_waiter_in_the_loop() -> None:
    slots = SolveSlots(capacity=1, max_waiting=1, wait_s=30)
    assert slots.acquire(timeout=1)  # held by this (non-loop) thread
    assert slots.acquire(timeout=0.01) is False  # the blocking form times out too

    async def scenario() -> bool:
        waiter = asyncio.create_task(slots.acquire_async())
        await asyncio.sleep(0.01)
        threading.Thread(target=slots.release).start()
        return await waiter

    assert aio.run(scenario()) is True
    assert (slots.running, slots.waiting) == (1, 0)


# --- a real server ----------------------------------------------------------------------


def _server(tmp_path: Path, **settings: Any) -> LoadServer:
    env = {f"ROUTEPLAN_{name.upper()}": str(value) for name, value in settings.items()}
    return LoadServer(f"sqlite:///{tmp_path / 'jobs.db'}", tmp_path, env)


@pytest.fixture
def one_slot_server(tmp_path: Path) -> Iterator[LoadServer]:
    """One solve at once, four may wait (for a long time): the rest get 429 at once."""
    with _server(tmp_path, max_sync_solves=1, max_sync_waiting=4, sync_wait_s=120) as server:
        yield server


async def _burst(url: str, solves: int, time_limit_s: float) -> list[tuple[str, int, int]]:
    """``solves`` concurrent sync requests while health is polled: every answer in the order
    it came, as (kind, status, solve requests still unanswered)."""
    body = routes_request(time_limit_s=time_limit_s, stops=10)
    answers: list[tuple[str, int, int]] = []
    bodies: list[dict[str, Any]] = []
    pending = solves
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def solve() -> None:
            nonlocal pending
            response = await http.post("/v1/routes", json=body)
            pending -= 1
            answers.append(("solve", response.status_code, pending))
            if response.status_code != 200:
                bodies.append(
                    {"retry_after": response.headers.get("retry-after"), **response.json()}
                )

        async def health() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=120) as own:
                while pending:
                    response = await own.get("/v1/health")
                    answers.append(("health", response.status_code, pending))
                    await asyncio.sleep(0.05)

        await asyncio.gather(health(), *(solve() for _ in range(solves)))
    for error in bodies:
        assert error.pop("retry_after") == "5"
        assert_error_shape(error, "busy")
    return answers


def test_health_answers_while_many_sync_solves_wait(one_slot_server: LoadServer) -> None:
    answers = aio.run(_burst(one_slot_server.url, solves=64, time_limit_s=1.0))
    solves = [status for kind, status, _ in answers if kind == "solve"]
    assert len(solves) == 64
    assert set(solves) <= {200, 429}, solves  # no 5xx, nothing else
    # One running and four waiting are solved; late arrivals may join the line as it moves,
    # but most are refused.
    assert solves.count(200) >= 5 and solves.count(429) >= 40
    health = [(status, pending) for kind, status, pending in answers if kind == "health"]
    assert {status for status, _ in health} == {200}
    # Health keeps answering while admitted solves are still queued behind the running one.
    assert sum(1 for _, pending in health if pending >= 2) >= 3, answers


def test_the_429s_of_a_full_line_come_before_any_solve_finishes(
    one_slot_server: LoadServer,
) -> None:
    answers = aio.run(_burst(one_slot_server.url, solves=12, time_limit_s=1.0))
    statuses = [status for kind, status, _ in answers if kind == "solve"]
    assert sorted(statuses) == [200] * 5 + [429] * 7
    first_solved = statuses.index(200)
    assert statuses[:first_solved] == [429] * 7  # refused at once, not after a wait


def test_a_request_that_waits_past_sync_wait_s_gets_429(tmp_path: Path) -> None:
    with _server(tmp_path, max_sync_solves=1, max_sync_waiting=4, sync_wait_s=0.2) as server:
        answers = aio.run(_burst(server.url, solves=3, time_limit_s=1.0))
        statuses = sorted(status for kind, status, _ in answers if kind == "solve")
        assert statuses == [200, 429, 429]
        # Nobody is left in the line or holding a slot: the next request is solved.
        body = routes_request(time_limit_s=0.5, stops=4)
        assert httpx.post(f"{server.url}/v1/routes", json=body, timeout=60).status_code == 200
