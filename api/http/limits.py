"""The per-request caps from the settings: too many visits, vehicles, orders or matrix cells,
too long a search, a provider that is not open over HTTP. Each breach is a 422
``limit_exceeded`` naming the field and the setting.

These run on the parsed models; :mod:`api.http.body_caps` counts the same things on the raw
body first, so an oversized request is refused before any model of it is built. A plan's
inputs that a plan cannot use (an explicit matrix, a van's ``start_index``) are a 422
``invalid_input`` here, before the pipeline runs.
"""

from __future__ import annotations

from typing import Any

from api.http.errors import ApiError
from api.settings import Settings
from engine.plan.pipeline import plan_input_problems, site_stop_bounds
from models.allocation import AllocationRequest
from models.book import BookPlanRequest
from models.errors import ErrorCode
from models.matrices import ExplicitMatrix, MatrixSpec
from models.plan import PlanRequest
from models.routing import RoutingRequest
from models.vroom import VroomProblem


def _raise(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, problems[0]["message"], problems)


def cap_problem(field: str, value: str, what: str, cap: int, setting: str) -> dict[str, Any]:
    """The detail of a count over its cap: ``at most {cap} {what} per request ({setting})``."""
    return {
        "field": field,
        "value": value,
        "message": f"at most {cap:,} {what} per request (ROUTEPLAN_{setting})",
    }


def visits_problem(
    stops: int, shipments: int, settings: Settings, prefix: str = "", stops_key: str = "stops"
) -> list[dict[str, Any]]:
    """A problem when the visits (stops plus two per shipment) exceed ``max_stops``."""
    visits = stops + 2 * shipments
    if visits <= settings.max_stops:
        return []
    field = f"{prefix}shipments" if shipments else f"{prefix}{stops_key}"
    value = f"{stops} {stops_key} + 2 x {shipments} shipments = {visits} visits"
    what = f"visits ({stops_key}, plus two per shipment)"
    return [cap_problem(field, value, what, settings.max_stops, "MAX_STOPS")]


def _vehicles_problem(count: int, settings: Settings, field: str) -> list[dict[str, Any]]:
    if count <= settings.max_vehicles:
        return []
    return [
        cap_problem(field, f"{count} vehicles", "vehicles", settings.max_vehicles, "MAX_VEHICLES")
    ]


def _cells_problem(rows: int, settings: Settings, field: str) -> list[dict[str, Any]]:
    if rows * rows <= settings.max_matrix_cells:
        return []
    value = f"{rows} x {rows} = {rows * rows} cells"
    return [
        cap_problem(field, value, "matrix cells", settings.max_matrix_cells, "MAX_MATRIX_CELLS")
    ]


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
    problems = visits_problem(len(request.stops), len(request.shipments), settings, prefix)
    problems += _vehicles_problem(len(request.vehicles), settings, f"{prefix}vehicles")
    if isinstance(request.matrix, ExplicitMatrix):
        problems += _cells_problem(request.matrix.size, settings, f"{prefix}matrix.durations_s")
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
    problems = visits_problem(len(problem.jobs), len(problem.shipments), settings, "", "jobs")
    problems += _vehicles_problem(len(problem.vehicles), settings, "vehicles")
    for profile, matrix in (problem.matrices or {}).items():
        for name in ("durations", "distances"):
            rows = getattr(matrix, name)
            if rows is not None:
                problems += _cells_problem(len(rows), settings, f"matrices.{profile}.{name}")
    if problem.matrix is not None:
        problems += _cells_problem(len(problem.matrix), settings, "matrix")
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
            cap_problem(
                f"{prefix}orders",
                f"{len(request.orders)} orders",
                "orders",
                settings.max_orders,
                "MAX_ORDERS",
            )
        )
    cap_s = settings.max_sync_time_limit_s if sync else settings.max_time_limit_s
    if request.options.time_limit_s > cap_s:
        problems.append(
            _time_problem(
                f"{prefix}options.time_limit_s", request.options.time_limit_s, cap_s, sync
            )
        )
    _raise(problems)


def _plan_inputs(request: PlanRequest, prefix: str) -> None:
    """422 ``invalid_input`` for what a plan cannot use, before anything runs."""
    problems = [{**p, "field": prefix + p["field"]} for p in plan_input_problems(request)]
    if problems:
        first = problems[0]
        raise ApiError(
            422,
            ErrorCode.INVALID_INPUT,
            f"{first['field']} = {first['value']}: {first['message']}",
            problems,
        )


def _site_problems(request: PlanRequest, settings: Settings, prefix: str) -> list[dict[str, Any]]:
    """Problems for sites whose vans could get more stops than ``max_stops``: every order
    within ``local_radius_km`` of a site with vans may become one of its stops."""
    problems = []
    for site_id, stops in site_stop_bounds(request).items():
        if stops > settings.max_stops:
            problems.append(
                {
                    "field": f"{prefix}orders",
                    "value": f"{stops} orders within {request.options.local_radius_km:g} km "
                    f"of site {site_id!r}",
                    "message": f"at most {settings.max_stops:,} orders within "
                    "options.local_radius_km of one site with vans, as each may be a stop of "
                    "its routes (ROUTEPLAN_MAX_STOPS); lower the radius or plan in parts",
                }
            )
    return problems


def check_plan(request: PlanRequest, settings: Settings, *, sync: bool, prefix: str = "") -> None:
    """Reject a day plan with inputs a plan cannot use (422 ``invalid_input``), or beyond the
    caps: orders, stops per site, vans, search times, matrix provider."""
    _plan_inputs(request, prefix)
    check_allocation_limits(request.allocation_request(), settings, sync=sync, prefix=prefix)
    problems = _vehicles_problem(len(request.fleet), settings, f"{prefix}fleet")
    problems += _site_problems(request, settings, prefix)
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


def check_book_plan(
    request: BookPlanRequest, settings: Settings, *, sync: bool, prefix: str = ""
) -> None:
    """The caps a plan from the book can be checked against before its orders are read:
    vans, search times, matrix provider (its orders are counted once the book is read)."""
    problems = _vehicles_problem(len(request.fleet), settings, f"{prefix}fleet")
    cap_s = settings.max_sync_time_limit_s if sync else settings.max_time_limit_s
    for field, limit_s in (
        ("options.routing_time_limit_s", request.options.routing_time_limit_s),
        ("allocation_options.time_limit_s", request.allocation_options.time_limit_s),
    ):
        if limit_s > cap_s:
            problems.append(_time_problem(f"{prefix}{field}", limit_s, cap_s, sync))
    problems += _provider_problems(
        request.options.matrix, settings, f"{prefix}options.matrix.provider"
    )
    _raise(problems)
