"""``POST /v1/routes``: plan routes synchronously (small problems, bounded time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import ROUTES_REQUEST_EXAMPLES, ROUTES_RESULT, json_example
from api.http.limits import check_routing
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest, RoutingResult

router = APIRouter(prefix="/routes", tags=["routes"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT])


@router.post(
    "",
    response_model=RoutingResult,
    summary="Plan routes now",
    responses={200: json_example(ROUTES_RESULT), **error_responses(401, 403, 413, 422, 429, 503)},
)
async def plan_routes(
    request: Annotated[RoutingRequest, Body(openapi_examples=ROUTES_REQUEST_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
) -> RoutingResult:
    """Solve within ``options.time_limit_s`` (at most ``ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S``).

    At most ``ROUTEPLAN_MAX_STOPS`` visits (stops, plus two per shipment),
    ``ROUTEPLAN_MAX_VEHICLES`` vehicles and ``ROUTEPLAN_MAX_MATRIX_CELLS`` cells of an
    explicit matrix; beyond, 422 ``limit_exceeded``, counted before the body is parsed.

    The result carries the independent evaluator's verdict in ``evaluation``. Stops that
    could not be served are listed in ``unassigned`` with a reason. Longer searches: use
    ``POST /v1/jobs`` with ``kind: routes``.
    """
    check_routing(request, settings, sync=True)
    cache = settings.graph_cache_dir()
    answer: RoutingResult = await pool.answer(
        "routes",
        request,
        lambda: solve_routes(request, matrix_cache_dir=cache),
        matrix_cache_dir=str(cache),
    )
    return answer
