"""``POST /v1/vroom``: a VROOM problem in, VROOM's output shape out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from api.formats.vroom import default_time_limit_s, solve_vroom
from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, PoolDep, SettingsDep
from api.http.errors import error_responses
from api.http.examples import VROOM_PROBLEM_EXAMPLES, VROOM_SOLUTION, json_example
from api.http.limits import check_vroom
from models.vroom import VroomProblem

router = APIRouter(prefix="/vroom", tags=["vroom"], dependencies=[*API_KEY_SECURITY, *SYNC_SLOT])


@router.post(
    "",
    summary="Solve a VROOM problem (drop-in for VROOM's HTTP API)",
    responses={200: json_example(VROOM_SOLUTION), **error_responses(401, 403, 413, 422, 429, 503)},
)
async def solve_vroom_problem(
    problem: Annotated[VroomProblem, Body(openapi_examples=VROOM_PROBLEM_EXAMPLES)],
    settings: SettingsDep,
    pool: PoolDep,
) -> dict[str, Any]:
    """Answer as VROOM would: ``code`` 0, ``summary``, ``routes`` with ``steps``, ``unassigned``.

    Differences: each unassigned job also carries ``reason`` and ``message``; the answer
    adds ``evaluation`` (the independent evaluator's verdict) and ``status``. Locations given
    only as ``[lon, lat]`` use haversine travel times (VROOM would ask OSRM); custom
    ``matrices`` are used as given. ``options.l`` is the search time in seconds (default:
    1 s + 0.02 s per job). Shipments, plan mode and custom cost matrices are refused with
    422, naming the field.
    """
    check_vroom(problem, settings)
    limit_s = default_time_limit_s(problem, settings.max_sync_time_limit_s)
    answer: dict[str, Any] = await pool.answer(
        "vroom", problem, lambda: solve_vroom(problem, limit_s), time_limit_s=limit_s
    )
    return answer
