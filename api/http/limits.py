"""The per-request caps from the settings: too many stops, too long a search, a provider
that is not open over HTTP. Each breach is a 422 ``limit_exceeded`` naming the field and
the setting."""

from __future__ import annotations

from typing import Any

from api.http.errors import ApiError
from api.settings import Settings
from models.allocation import AllocationRequest
from models.errors import ErrorCode
from models.matrices import MatrixSpec
from models.plan import PlanRequest
from models.routing import RoutingRequest
from models.vroom import VroomProblem


def _raise(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, problems[0]["message"], problems)


def _time_problem(field: str, value: float, cap_s: float, sync: bool) -> dict[str, Any]:
    setting = "ROUTEPLAN_MAX_SYNC_TIME_LIMIT_S" if sync else "ROUTEPLAN_MAX_TIME_LIMIT_S"
    hint = "; use POST /v1/jobs for longer searches" if sync else ""
    return {
        "field": field,
        "value": repr(value),
        "message": f"{field} is at most {cap_s:g} s here ({setting}){hint}",
    }


def _provider_problems(
    matrix: MatrixSpec | None, settings: Settings, field: str
) -> list[dict[str, Any]]:
    """A problem when the matrix provider is not open over HTTP on this server."""
    provider = matrix.provider if matrix is not None else "haversine"
    allowed = settings.api_matrix_provider_set()
    if provider in allowed:
        return []
    return [
        {
            "field": field,
            "value": repr(provider),
            "message": f"matrix provider {provider!r} is not enabled on this server "
            f"(enabled: {', '.join(sorted(allowed))}; ROUTEPLAN_API_MATRIX_PROVIDERS)",
        }
    ]


def check_routing(
    request: RoutingRequest, settings: Settings, *, sync: bool, prefix: str = ""
) -> None:
    """Reject a routing request beyond the caps (sync requests have the tighter time cap)."""
    problems = []
    if len(request.stops) > settings.max_stops:
        problems.append(
            {
                "field": f"{prefix}stops",
                "value": f"{len(request.stops)} stops",
                "message": f"at most {settings.max_stops} stops per request (ROUTEPLAN_MAX_STOPS)",
            }
        )
    cap_s = settings.max_sync_time_limit_s if sync else settings.max_time_limit_s
    if request.options.time_limit_s > cap_s:
        problems.append(
            _time_problem(
                f"{prefix}options.time_limit_s", request.options.time_limit_s, cap_s, sync
            )
        )
    problems += _provider_problems(request.matrix, settings, f"{prefix}matrix.provider")
    _raise(problems)


def check_vroom(problem: VroomProblem, settings: Settings) -> None:
    """Reject a VROOM problem beyond the caps."""
    problems = []
    if len(problem.jobs) > settings.max_stops:
        problems.append(
            {
                "field": "jobs",
                "value": f"{len(problem.jobs)} jobs",
                "message": f"at most {settings.max_stops} jobs per request (ROUTEPLAN_MAX_STOPS)",
            }
        )
    limit = problem.options.l
    if limit is not None and limit > settings.max_sync_time_limit_s:
        problems.append(_time_problem("options.l", limit, settings.max_sync_time_limit_s, True))
    _raise(problems)


def check_allocation_limits(
    request: AllocationRequest, settings: Settings, *, sync: bool, prefix: str = ""
) -> None:
    """Reject an allocation request beyond the caps."""
    problems = []
    if len(request.orders) > settings.max_orders:
        problems.append(
            {
                "field": f"{prefix}orders",
                "value": f"{len(request.orders)} orders",
                "message": f"at most {settings.max_orders} orders per request "
                "(ROUTEPLAN_MAX_ORDERS)",
            }
        )
    cap_s = settings.max_sync_time_limit_s if sync else settings.max_time_limit_s
    if request.options.time_limit_s > cap_s:
        problems.append(
            _time_problem(
                f"{prefix}options.time_limit_s", request.options.time_limit_s, cap_s, sync
            )
        )
    _raise(problems)


def check_plan(request: PlanRequest, settings: Settings, *, sync: bool, prefix: str = "") -> None:
    """Reject a day plan beyond the caps: orders, search times, matrix provider."""
    check_allocation_limits(request.allocation_request(), settings, sync=sync, prefix=prefix)
    problems = []
    cap_s = settings.max_sync_time_limit_s if sync else settings.max_time_limit_s
    limit_s = request.options.routing_time_limit_s
    if limit_s > cap_s:
        problems.append(
            _time_problem(f"{prefix}options.routing_time_limit_s", limit_s, cap_s, sync)
        )
    problems += _provider_problems(
        request.options.matrix, settings, f"{prefix}options.matrix.provider"
    )
    _raise(problems)
