"""The synchronous solves run in worker processes, so the server's event loop stays free.

A solve is CPU-bound Python and C++ that holds the interpreter lock while it works; run in a
thread of the server, two solves slow every other answer (``/v1/health``, a 404, a 429) two
or three times. So each synchronous endpoint hands its validated request, as JSON text, to a
pool of ``ROUTEPLAN_MAX_SYNC_SOLVES`` worker processes and awaits the answer, also JSON text,
which goes back to the client as it is. The admission in front (``api/http/admission.py``)
lets no more solves in than there are workers.

Workers start from a ``forkserver`` that imported the engine once (so a new worker is warm,
and the server's threads are never forked), and each one is replaced after
``ROUTEPLAN_SYNC_TASKS_PER_CHILD`` solves, which hands the memory a large request took back to
the system. An error the engine raises (invalid input, a solver failure) comes back as the same
error; a worker that dies (killed, out of memory) is a ``solver_failure`` and the pool is
rebuilt. Workers run at a lower priority (``nice`` 5), so that on a machine whose cores
they fill the event loop still answers at once. ``ROUTEPLAN_SYNC_SOLVES_IN=thread`` runs the
solves in a server thread instead (for tests that patch the engine, and for debugging).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
from pydantic import BaseModel
from starlette.responses import Response

from models.errors import SolverError

#: Modules the forkserver imports once, so that each worker starts warm.
PRELOAD = [
    "engine.routing.solve",
    "engine.routing.evaluate",
    "engine.allocation",
    "engine.plan.pipeline",
    "api.formats.vroom",
]

Kind = Literal["routes", "allocations", "plans", "vroom", "check"]


def _lower_priority(niceness: int) -> None:
    """In a new worker: give the server's event loop the CPU first when both want it."""
    with contextlib.suppress(OSError):
        os.nice(niceness)


def _dump(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json(by_alias=True)
    return json.dumps(value)


def work(kind: Kind, text: str, extra: dict[str, Any]) -> str:
    """In a worker: parse the request of ``kind`` from JSON text, run it, answer JSON text."""
    if kind == "routes":
        from engine.routing.solve import solve_routes
        from models.routing import RoutingRequest

        cache = extra.get("matrix_cache_dir")
        return _dump(
            solve_routes(
                RoutingRequest.model_validate_json(text),
                matrix_cache_dir=Path(cache) if cache else None,
            )
        )
    if kind == "allocations":
        from engine.allocation import allocate
        from models.allocation import AllocationRequest

        return _dump(allocate(AllocationRequest.model_validate_json(text)))
    if kind == "plans":
        from engine.plan.pipeline import plan
        from models.plan import PlanRequest

        cache = extra.get("matrix_cache_dir")
        return _dump(
            plan(
                PlanRequest.model_validate_json(text),
                matrix_cache_dir=Path(cache) if cache else None,
            )
        )
    if kind == "vroom":
        from api.formats.vroom import solve_vroom
        from models.vroom import VroomProblem

        return _dump(solve_vroom(VroomProblem.model_validate_json(text), extra["time_limit_s"]))
    if kind == "check":
        from api.http.routers.checks import CheckBody
        from engine.routing.evaluate import evaluate

        body = CheckBody.model_validate_json(text)
        return _dump(evaluate(body.request, body.result))
    raise ValueError(f"unknown solve kind {kind!r}")


class SolvePool:
    """The worker processes of one app (made on first use) and how to hand them a solve."""

    def __init__(
        self,
        workers: int,
        tasks_per_child: int,
        mode: Literal["process", "thread"],
        niceness: int = 5,
    ) -> None:
        self.workers = max(workers, 1)
        self.niceness = niceness
        self.tasks_per_child = max(tasks_per_child, 1)
        self.mode = mode
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    max_tasks_per_child=self.tasks_per_child,
                    initializer=_lower_priority,
                    initargs=(self.niceness,),
                )
            return self._executor

    def _reset(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    async def answer(
        self,
        kind: Kind,
        payload: BaseModel | dict[str, Any],
        in_thread: Callable[[], Any],
        **extra: Any,
    ) -> Any:
        """The answer to a solve: JSON from a worker process (as a response), or, in thread
        mode, what ``in_thread()`` returns (the same solve, run in a server thread)."""
        if self.mode == "thread":
            return await anyio.to_thread.run_sync(in_thread)
        text = _dump(payload)
        pool = self._pool()
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(pool, work, kind, text, extra)
        except BrokenProcessPool as error:
            self._reset(pool)
            raise SolverError(
                "the solve process ended before it answered (killed or out of memory?)"
            ) from error
        return Response(content=answer, media_type="application/json")

    def close(self) -> None:
        """Stop the workers (at the app's shutdown)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
