"""``POST /v1/plans``: plan a whole day synchronously (allocation, then routes per site)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import PLAN_REQUEST_EXAMPLES, PLAN_RESULT, json_example
from api.http.limits import check_plan
from engine.plan.pipeline import plan
from models.plan import PlanRequest, PlanResult

router = APIRouter(prefix="/plans", tags=["plans"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT])


@router.post(
    "",
    response_model=PlanResult,
    summary="Plan a day now",
    responses={200: json_example(PLAN_RESULT), **error_responses(401, 403, 413, 422, 429, 503)},
)
async def plan_day(
    request: Annotated[PlanRequest, Body(openapi_examples=PLAN_REQUEST_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
) -> PlanResult:
    """Allocate the orders to sites, then route each site's vans; shipments come back with
    ETAs (van) or expected dates (carrier), and everything left out with its reason.

    Bounded by ``ROUTEPLAN_MAX_ORDERS`` and ``ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S`` (for the
    allocation and for each site's routing); bigger days: ``POST /v1/jobs`` with ``kind: plan``.
    A site with vans may have at most ``ROUTEPLAN_MAX_STOPS`` orders within
    ``options.local_radius_km`` (each could be one of its stops). Orders are routed by their
    coordinates: an explicit matrix, or a van's ``start_index``/``end_index``, is a 422
    naming the field.
    """
    check_plan(request, settings, sync=True)
    cache = settings.graph_cache_dir()
    answer: PlanResult = await pool.answer(
        "plans", request, lambda: plan(request, matrix_cache_dir=cache), matrix_cache_dir=str(cache)
    )
    return answer
