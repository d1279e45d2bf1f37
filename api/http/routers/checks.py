"""``POST /v1/routes/check``: judge a plan made anywhere with the independent evaluator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import CHECK_BODY_EXAMPLES, CHECK_VERDICT, json_example
from api.http.limits import check_routing
from engine.routing.evaluate import evaluate
from models.common import StrictModel
from models.routing import Evaluation, RoutingRequest, RoutingResult

router = APIRouter(prefix="/routes", tags=["routes"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT])


class CheckBody(StrictModel):
    """A routing request and a plan for it (made by routeplan or anything else)."""

    request: RoutingRequest
    result: RoutingResult


@router.post(
    "/check",
    response_model=Evaluation,
    summary="Check a plan against its request",
    responses={200: json_example(CHECK_VERDICT), **error_responses(401, 413, 422, 429, 503)},
)
async def check_plan(
    body: Annotated[CheckBody, Body(openapi_examples=CHECK_BODY_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
) -> Evaluation:
    """Recompute every number of ``result`` from ``request`` and check every constraint.

    Answers the evaluator's verdict: ``feasible``, the ``violations`` (each with a code, the
    vehicle and the stop it concerns) and the recomputed cost, distance and duration. An
    infeasible plan is a 200 with ``feasible: false``; a body that is not a request and a
    result is a 422 naming the field. Same caps as ``POST /v1/routes`` (nothing is solved).
    """
    check_routing(body.request, settings, sync=True, prefix="request.")
    answer: Evaluation = await pool.answer(
        "check", body, lambda: evaluate(body.request, body.result)
    )
    return answer
