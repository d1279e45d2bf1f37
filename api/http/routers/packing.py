"""``POST /v1/cartons/pack``: pack shipments' units into the cheapest cartons, now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, SettingsDep
from api.http.errors import ApiError, error_responses
from api.http.examples import json_example
from api.http.packing_examples import PACK_REQUEST_EXAMPLES, PACK_RESULT
from engine.packing import pack
from models.errors import ErrorCode
from models.packing import PackRequest, PackResult

#: The most units one request may pack (all its shipments together).
MAX_PACK_UNITS = 2000
#: The most carton types one request may offer.
MAX_CARTON_TYPES = 50

router = APIRouter(
    prefix="/cartons", tags=["cartons"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT]
)


def check_pack_limits(request: PackRequest, max_time_limit_s: float) -> None:
    """422 ``limit_exceeded`` beyond :data:`MAX_PACK_UNITS` units, :data:`MAX_CARTON_TYPES`
    carton types or the sync time limit."""
    units = sum(line.quantity for s in request.shipments for line in s.lines)
    if units > MAX_PACK_UNITS:
        message = f"at most {MAX_PACK_UNITS:,} units per request; this one has {units:,}"
        detail = {"field": "shipments", "value": f"{units} units", "message": message}
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, message, [detail])
    types = len(request.carton_types)
    if types > MAX_CARTON_TYPES:
        message = f"at most {MAX_CARTON_TYPES} carton types per request; this one has {types}"
        detail = {"field": "carton_types", "value": f"{types} types", "message": message}
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, message, [detail])
    limit_s = request.options.time_limit_s
    if limit_s > max_time_limit_s:
        message = (
            f"options.time_limit_s is at most {max_time_limit_s:g} s here "
            "(ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S)"
        )
        detail = {"field": "options.time_limit_s", "value": repr(limit_s), "message": message}
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, message, [detail])


@router.post(
    "/pack",
    response_model=PackResult,
    summary="Pack shipments into cartons",
    responses={
        200: json_example(PACK_RESULT),
        **error_responses(401, 403, 413, 422, 429, 503),
    },
)
async def pack_cartons(
    request: Annotated[PackRequest, Body(openapi_examples=PACK_REQUEST_EXAMPLES)],
    settings: SettingsDep,
) -> PackResult:
    """The cheapest cartons (then the fewest) for each shipment's units, by volume and weight,
    each unit fitting its carton's inner box in some orientation. Volume packing is a
    relaxation of true 3-D packing: use ``options.fill_factor`` below 1 to keep room.

    ``status`` is ``optimal`` when proved, else ``feasible`` with ``lower_bound_cost``. A unit
    that fits no carton type is a 422 naming ``products[sku=...]`` and why. At most
    2,000 units and 50 carton types per request.
    """
    check_pack_limits(request, settings.max_sync_time_limit_s)
    result: PackResult = await run_in_threadpool(pack, request)
    return result
