"""The job kinds: each maps a request (JSON) to a result (JSON), reporting progress.

A kind is registered as ``"module:function"`` so that a fresh worker process can import it.
The function takes the request as JSON data, a progress callback
``progress(fraction 0-1 or None, best cost so far or None)`` and the :class:`JobContext` of
the server that runs it, and returns the result as JSON data. It raises
:class:`models.errors.InvalidInputError` or a pydantic ``ValidationError`` for input it
cannot use (the job fails with ``invalid_input``).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class JobContext:
    """What the server running the jobs tells every handler, taken from its own settings
    (the engine reads no settings). ``matrix_cache_dir``: where road graphs of OSM extracts
    are cached (None: :data:`engine.matrices.DEFAULT_GRAPH_CACHE_DIR`); ``database_url``:
    the order book's database (plans from the book); ``max_orders``: the most orders a plan
    from the book may take (None: no cap)."""

    matrix_cache_dir: Path | None = None
    database_url: str | None = None
    max_orders: int | None = None


#: ``progress(fraction of the work done 0-1 or None, best cost so far or None)``.
JobProgress = Callable[[float | None, float | None], None]
#: A job kind's entry point: ``handler(request, progress, context)``.
JobHandler = Callable[[dict[str, Any], JobProgress, JobContext], dict[str, Any]]

#: Seconds between progress reports of a routing job while the search finds nothing better.
TICK_S = 0.5

#: kind → ``"module:function"`` of its handler.
KINDS: dict[str, str] = {
    "routes": "engine.jobs.kinds:run_routes",
    "allocation": "engine.jobs.kinds:run_allocation",
    "plan": "engine.jobs.kinds:run_plan",
    "book_plan": "engine.jobs.kinds:run_book_plan",
}


def register(kind: str, target: str) -> None:
    """Add (or replace) a job kind; ``target`` is ``"module:function"``."""
    if ":" not in target:
        raise ValueError(f"a job kind's target is 'module:function', got {target!r}")
    KINDS[kind] = target


def load(target: str) -> JobHandler:
    """Import a handler from its ``"module:function"`` name."""
    module_name, _, name = target.partition(":")
    handler: JobHandler = getattr(importlib.import_module(module_name), name)
    return handler


def run_routes(
    request: dict[str, Any], progress: JobProgress, context: JobContext
) -> dict[str, Any]:
    """Plan routes for a :class:`models.routing.RoutingRequest` given as JSON data.

    Progress is the share of the time limit used, reported on every improvement and at
    least every :data:`TICK_S` seconds.
    """
    from engine.routing.solve import solve_routes
    from models.routing import RoutingRequest

    parsed = RoutingRequest.model_validate(request)
    limit_s = parsed.options.time_limit_s
    began = time.monotonic()
    best: list[float] = []
    done = threading.Event()

    def on_progress(elapsed_s: float, best_cost: float) -> None:
        best.append(best_cost)
        progress(min(elapsed_s / limit_s, 1.0), best_cost)

    def tick() -> None:
        while not done.wait(TICK_S):
            progress(min((time.monotonic() - began) / limit_s, 0.99), best[-1] if best else None)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        result = solve_routes(
            parsed, on_progress=on_progress, matrix_cache_dir=context.matrix_cache_dir
        )
    finally:
        done.set()
        ticker.join()
    progress(1.0, result.summary.cost)
    return result.model_dump(mode="json")


def run_allocation(
    request: dict[str, Any], progress: JobProgress, _context: JobContext
) -> dict[str, Any]:
    """Allocate a :class:`models.allocation.AllocationRequest` given as JSON data.

    Progress is the share of the time limit used, reported at each stage of the pipeline.
    """
    from engine.allocation import allocate
    from models.allocation import AllocationRequest

    parsed = AllocationRequest.model_validate(request)
    limit_s = parsed.options.time_limit_s

    def on_stage(_stage: str, elapsed_s: float) -> None:
        progress(min(elapsed_s / limit_s, 0.99), None)

    result = allocate(parsed, progress=on_stage)
    progress(1.0, result.totals.objective)
    return result.model_dump(mode="json")


def run_plan(request: dict[str, Any], progress: JobProgress, context: JobContext) -> dict[str, Any]:
    """Plan the day for a :class:`models.plan.PlanRequest` given as JSON data.

    Progress: allocation is the first third of the work, routing the sites the rest.
    """
    from engine.plan.pipeline import plan
    from models.plan import PlanRequest

    parsed = PlanRequest.model_validate(request)

    def on_stage(stage: str, _elapsed_s: float) -> None:
        progress(0.33 if stage == "allocated" else None, None)

    result = plan(parsed, on_progress=on_stage, matrix_cache_dir=context.matrix_cache_dir)
    progress(1.0, result.kpis.cost)
    return result.model_dump(mode="json")


def run_book_plan(
    request: dict[str, Any], progress: JobProgress, context: JobContext
) -> dict[str, Any]:
    """Plan a day from the order book (a :class:`models.book.BookPlanRequest` as JSON data)
    and store it as a draft; the result is the stored :class:`models.book.PlanRecord`.

    Progress: the snapshot is the first tenth, allocation the next third, routing the rest.
    """
    from engine.book.planning import book_plan_request
    from engine.book.store import BookStore
    from engine.plan.pipeline import plan
    from models.book import BookPlanRequest
    from models.errors import InvalidInputError

    if context.database_url is None:
        raise InvalidInputError("this server has no order book to plan from")
    parsed = BookPlanRequest.model_validate(request)
    store = BookStore(context.database_url, lazy=True)
    try:
        snap = store.plan_snapshot(parsed.from_book)
        full, refs = book_plan_request(snap, parsed)
        if context.max_orders is not None and len(full.orders) > context.max_orders:
            raise InvalidInputError.for_field(
                "request.from_book",
                f"{len(full.orders)} orders",
                f"is more than this server plans at once ({context.max_orders}: "
                "ROUTEPLAN_MAX_ORDERS); select fewer sites or channels",
            )
        progress(0.1, None)

        def on_stage(stage: str, _elapsed_s: float) -> None:
            progress(0.4 if stage == "allocated" else None, None)

        result = plan(full, on_progress=on_stage, matrix_cache_dir=context.matrix_cache_dir)
        record = store.save_plan("book", parsed.model_dump(mode="json"), result, refs)
    finally:
        store.close()
    progress(1.0, result.kpis.cost)
    return record.model_dump(mode="json")
