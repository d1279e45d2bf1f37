"""The benchmarks' ``aio.run``: works with and without an event loop already running.

Each case runs on a fresh thread, so it does not depend on what this test worker's main
thread runs (Playwright's sync API keeps a loop running there once a browser test ran)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from benchmarks import aio

T = TypeVar("T")


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def _on_a_fresh_thread(call: Callable[[], T]) -> tuple[str, T]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fresh") as pool:
        return pool.submit(lambda: (threading.current_thread().name, call())).result()


def test_without_a_running_loop_it_runs_on_this_thread() -> None:
    caller, ran_on = _on_a_fresh_thread(lambda: aio.run(_where()))
    assert ran_on == caller


def test_inside_a_running_loop_it_runs_on_a_thread_of_its_own() -> None:
    async def inside() -> str:
        return aio.run(_where())  # asyncio.run here would raise RuntimeError

    caller, ran_on = _on_a_fresh_thread(lambda: asyncio.run(inside()))
    assert ran_on.startswith("aio-run") and ran_on != caller
