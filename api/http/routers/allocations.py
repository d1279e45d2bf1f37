"""``POST /v1/allocations``: allocate order lines to sites synchronously."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import ALLOCATION_REQUEST_EXAMPLES, ALLOCATION_RESULT, json_example
from api.http.limits import check_allocation_limits
from engine.allocation import allocate
from models.allocation import AllocationRequest, AllocationResult

router = APIRouter(
    prefix="/allocations", tags=["allocations"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT]
)


@router.post(
    "",
    response_model=AllocationResult,
    summary="Allocate orders to sites now",
    responses={
        200: json_example(ALLOCATION_RESULT),
        **error_responses(401, 403, 413, 422, 429, 503),
    },
)
async def allocate_orders(
    request: Annotated[AllocationRequest, Body(openapi_examples=ALLOCATION_REQUEST_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
) -> AllocationResult:
    """Ship every order line from a site with stock, or say why not (``unfulfilled``).

    At most ``ROUTEPLAN_MAX_ORDERS`` orders and ``ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S`` seconds;
    bigger problems: ``POST /v1/jobs`` with ``kind: allocation``. A bad order never rejects
    the others: it comes back unfulfilled with the reason ``invalid_order``.
    """
    check_allocation_limits(request, settings, sync=True)
    answer: AllocationResult = await pool.answer("allocations", request, lambda: allocate(request))
    return answer
