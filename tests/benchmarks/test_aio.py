"""The benchmarks' ``aio.run``: works with and without an event loop already running."""

from __future__ import annotations

import asyncio
import threading

from benchmarks import aio


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_without_a_running_loop_it_runs_on_this_thread() -> None:
    assert aio.run(_where()) == threading.current_thread().name


def test_inside_a_running_loop_it_runs_on_a_thread_of_its_own() -> None:
    async def caller() -> str:
        return aio.run(_where())  # asyncio.run here would raise RuntimeError

    name = asyncio.run(caller())
    assert name.startswith("aio-run")
