"""Plans: ``POST /v1/plans`` plans a day now (given in full, or from the order book) and
stores it as a draft; ``GET /v1/plans`` lists them; ``GET /v1/plans/{id}`` reads one back;
``POST /v1/plans/{id}/commit`` reserves its stock and moves its orders, all or nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import Discriminator, Tag
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.http import book_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, BookDep, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import PLAN_REQUEST_EXAMPLES, PLAN_RESULT, json_example
from api.http.limits import check_plan
from api.http.solve_pool import SolvePool
from api.settings import Settings
from engine.book.planning import book_plan_request
from engine.plan.pipeline import plan
from models.book import (
    BookPlanRequest,
    CommitResult,
    PlanPage,
    PlanRecord,
    PlanState,
    PlanSummary,
)
from models.errors import InvalidInputError
from models.plan import PlanRequest, PlanResult
from models.replan import ReplanRequest

_EXAMPLES = {
    **PLAN_REQUEST_EXAMPLES,
    "from_book": {
        "summary": "Tomorrow's ready orders and free stock of one site, one van",
        "value": ex.BOOK_PLAN_REQUEST,
    },
}

router = APIRouter(prefix="/plans", tags=["plans"], dependencies=API_KEY_SECURITY)


def _shape(value: Any) -> str:
    """``book`` for a body that asks for the book's orders, else ``full``."""
    if isinstance(value, dict):
        return "book" if "from_book" in value else "full"
    return "book" if hasattr(value, "from_book") else "full"


AnyPlanRequest = Annotated[
    Annotated[PlanRequest, Tag("full")] | Annotated[BookPlanRequest, Tag("book")],
    Discriminator(_shape),
]


async def _solve(request: PlanRequest, settings: Settings, pool: SolvePool) -> PlanResult:
    check_plan(request, settings, sync=True)
    cache = settings.graph_cache_dir()
    answer = await pool.answer(
        "plans", request, lambda: plan(request, matrix_cache_dir=cache), matrix_cache_dir=str(cache)
    )
    if isinstance(answer, Response):
        return PlanResult.model_validate_json(bytes(answer.body))
    result: PlanResult = answer
    return result


@router.post(
    "",
    response_model=PlanRecord,
    summary="Plan a day now",
    dependencies=SYNC_SLOT,
    responses={200: json_example(PLAN_RESULT), **error_responses(401, 403, 413, 422, 429, 503)},
)
async def plan_day(
    request: Annotated[AnyPlanRequest, Body(openapi_examples=_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
    book: BookDep,
) -> PlanRecord:
    """Allocate the orders to sites, then route each site's vans; shipments come back with
    ETAs (van) or expected dates (carrier), and everything left out with its reason. The
    plan is stored as a draft (its ``id``).

    The orders, sites and stock are given in full, or taken from the book with
    ``{"from_book": {"date", "site_ids"}, "fleet": [...]}``: every ready (or backordered)
    paid order due that day, and the stock not yet reserved; commit it with
    ``POST /v1/plans/{id}/commit``.

    Bounded by ``ROUTEPLAN_MAX_ORDERS`` and ``ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S`` (for the
    allocation and for each site's routing); bigger days: ``POST /v1/jobs`` with ``kind: plan``.
    A site with vans may have at most ``ROUTEPLAN_MAX_STOPS`` orders within
    ``options.local_radius_km`` (each could be one of its stops). Orders are routed by their
    coordinates: an explicit matrix, or a van's ``start_index``/``end_index``, is a 422
    naming the field.
    """
    actor = creator_name()
    if isinstance(request, BookPlanRequest):
        snap = await run_in_threadpool(book.plan_snapshot, request.from_book)
        full, refs = book_plan_request(snap, request)
        result = await _solve(full, settings, pool)
        body = request.model_dump(mode="json")
        return await run_in_threadpool(
            lambda: book.save_plan("book", body, result, refs, actor=actor)
        )
    result = await _solve(request, settings, pool)
    body = request.model_dump(mode="json")
    return await run_in_threadpool(lambda: book.save_plan("request", body, result, actor=actor))


@router.get(
    "",
    response_model=PlanPage,
    summary="List stored plans",
    responses={200: json_example(ex.PLAN_PAGE), **error_responses(401, 403, 422, 503)},
)
def list_plans(
    book: BookDep,
    status: Annotated[PlanState | None, Query(description="draft, committed, superseded")] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=18, pattern="^[0-9]+$", description="next_cursor of the last page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PlanPage:
    """Drafts, committed and superseded plans, newest first, with their KPIs; read one
    whole with ``GET /v1/plans/{id}``."""
    rows, next_cursor = book.plan_summaries(status, cursor, limit)
    return PlanPage(plans=[PlanSummary.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{plan_id}",
    response_model=PlanRecord,
    summary="A stored plan",
    responses={200: json_example(PLAN_RESULT), **error_responses(401, 403, 404, 422, 503)},
)
def get_plan(
    plan_id: Annotated[str, Path(min_length=1, max_length=64)], book: BookDep
) -> PlanRecord:
    """A plan as it was made, with its state (draft or committed)."""
    return book.get_plan(plan_id)


@router.post(
    "/{plan_id}/commit",
    response_model=CommitResult,
    summary="Commit a plan",
    responses={
        200: json_example(ex.COMMIT_RESULT),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def commit_plan(
    plan_id: Annotated[str, Path(min_length=1, max_length=64)], book: BookDep
) -> CommitResult:
    """Reserve every unit the plan ships, in one transaction: its orders become
    ``allocated`` (those it could not serve ``backordered``, with the allocation's reason).
    If stock or orders changed since it was made: 409 ``stale_plan`` with the short lines,
    and nothing is reserved."""
    return book.commit_plan(plan_id, actor=creator_name())


@router.post(
    "/{plan_id}/replan",
    response_model=PlanRecord,
    summary="Re-plan a committed plan during the day",
    dependencies=SYNC_SLOT,
    responses={200: json_example(PLAN_RESULT), **error_responses(401, 403, 404, 409, 422, 503)},
)
async def replan_plan(
    plan_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Annotated[ReplanRequest, Body(openapi_examples=ex.REPLAN_EXAMPLES)],
    settings: SettingsDep,
    book: BookDep,
) -> PlanRecord:
    """Route the rest of the day again from ``at``, with orders of the book added and
    cancelled ones taken out; the answer is a new draft whose ``replan`` says what it kept
    and changed. Each van restarts from where it is: its stops done stay as they were, the
    stop it is at comes first (locked), goods on board stay on it (resequenced, never moved);
    vans still at their site may swap stops when that saves more than
    ``options.reassign_penalty`` each, and only they take the added orders. Commit it with
    ``POST /v1/plans/{new id}/commit``: the routes keep their ids, the replaced plan becomes
    ``superseded``; a route that moved on since (a stop done or reached): 409 ``stale_plan``.

    Only a committed plan made from the book is re-planned (409 otherwise); an added order
    must be ready or backordered and paid, a cancelled one must not be out on a van."""
    limit_s = request.options.routing_time_limit_s
    if limit_s is not None and limit_s > settings.max_sync_time_limit_s:
        raise InvalidInputError.for_field(
            "options.routing_time_limit_s",
            limit_s,
            f"is more than this server searches in one request "
            f"({settings.max_sync_time_limit_s} s: ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S)",
        )
    actor = creator_name()
    cache = settings.graph_cache_dir()
    return await run_in_threadpool(
        lambda: book.replan(plan_id, request, actor=actor, matrix_cache_dir=cache)
    )
