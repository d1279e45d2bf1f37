"""Size caps of the command line: refuse a request too large to hold its travel matrices
before any matrix is built (exit 2 naming the count, the cap and the setting)."""

from __future__ import annotations

from api.settings import Settings
from models.errors import InvalidInputError, detail
from models.plan import PlanRequest
from models.routing import RoutingRequest

#: Bytes per matrix cell: durations and distances, 8 bytes each.
_CELL_BYTES = 16


def matrix_bytes(locations: int) -> int:
    """About how much memory the travel matrices of ``locations`` places need, in bytes."""
    return locations * locations * _CELL_BYTES


def _too_many(field: str, count: int, noun: str, locations: int, cap: int) -> InvalidInputError:
    gib = matrix_bytes(locations) / 2**30
    why = (
        f"{count} {noun} is more than the command line's cap of {cap} "
        f"(ROUTEPLAN_CLI_MAX_STOPS); their travel matrices would need about {gib:,.0f} GiB"
    )
    return InvalidInputError(f"{field}: {why}", [detail(field, f"{count} {noun}", why)])


def check_routing_size(request: RoutingRequest, settings: Settings) -> None:
    """Refuse a routing request with more visits than ``settings.cli_max_stops``."""
    visits = len(request.stops) + 2 * len(request.shipments)
    if visits > settings.cli_max_stops:
        locations = visits + 2 * len(request.vehicles)
        field = "stops" if not request.shipments else "stops and shipments"
        raise _too_many(field, visits, "visits", locations, settings.cli_max_stops)


def check_plan_size(request: PlanRequest, settings: Settings) -> None:
    """Refuse a day plan with more orders than ``settings.cli_max_stops`` (one site may
    route them all)."""
    orders = len(request.orders)
    if orders > settings.cli_max_stops:
        locations = orders + 2 * len(request.fleet)
        raise _too_many("orders", orders, "orders", locations, settings.cli_max_stops)
