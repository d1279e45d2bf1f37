"""Per-order checks before solving: a failed order gets a reason, the others go on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Self

from models.allocation import AllocationRequest, Order, UnfulfilledLine
from models.errors import InvalidInputError, detail


class AllocationInputError(InvalidInputError):
    """A request-level problem (sites, stock, settings): names the field, value and why."""

    def __init__(self, field: str, value: object, why: str) -> None:
        super().__init__(f"{field}: {value!r} {why}", [detail(field, value, why)])
        self.field, self.value, self.why = field, value, why

    @classmethod
    def for_field(cls, field: str, value: Any, why: str) -> Self:
        """The same as the constructor."""
        return cls(field, value, why)


@dataclass
class Validated:
    """Orders that go on to the solver, and the unfulfilled lines of the others."""

    valid: list[Order] = field(default_factory=list)
    rejected: list[UnfulfilledLine] = field(default_factory=list)


def reject_order(order: Order, reason: str, detail: str) -> list[UnfulfilledLine]:
    """One unfulfilled entry per line of ``order`` (one entry if it has no lines)."""
    if not order.lines:
        return [UnfulfilledLine(order_id=order.id, reason=reason, detail=detail)]  # type: ignore[arg-type]
    return [
        UnfulfilledLine(
            order_id=order.id,
            line_id=line.id,
            sku=line.sku,
            quantity=max(line.quantity, 0),
            reason=reason,
            detail=detail,  # type: ignore[arg-type]
        )
        for line in order.lines
    ]


def check_request(request: AllocationRequest) -> None:
    """Request-level checks on sites and stock; raises :class:`AllocationInputError`."""
    seen: set[object] = set()
    for i, site in enumerate(request.sites):
        if site.id in seen:
            raise AllocationInputError(f"sites[{i}].id", site.id, "is a duplicate site id")
        seen.add(site.id)
        lon, lat = site.location
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise AllocationInputError(
                f"sites[{i}].location", [lon, lat], "is not [lon, lat] within ±180/±90"
            )
    pairs: set[tuple[object, str]] = set()
    for i, rec in enumerate(request.stock):
        if rec.site_id not in seen:
            raise AllocationInputError(f"stock[{i}].site_id", rec.site_id, "is not a known site")
        if (rec.site_id, rec.sku) in pairs:
            raise AllocationInputError(
                f"stock[{i}]", f"{rec.site_id}/{rec.sku}", "is a duplicate (site, sku) record"
            )
        pairs.add((rec.site_id, rec.sku))


def order_problem(order: Order, skus: set[str]) -> str | None:
    """Why ``order`` cannot be allocated as given, or ``None``."""
    if not order.lines:
        return "order has no lines"
    line_ids: set[object] = set()
    for line in order.lines:
        if line.id in line_ids:
            return f"duplicate line id {line.id!r}"
        line_ids.add(line.id)
        if line.quantity <= 0:
            return f"line {line.id!r}: quantity {line.quantity} must be > 0"
        if line.sku not in skus:
            return f"line {line.id!r}: unknown sku {line.sku!r}"
    if order.location is None:
        return "location is missing"
    lon, lat = order.location
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        return f"location [{lon}, {lat}] is not [lon, lat] within ±180/±90"
    if lon == 0 and lat == 0:
        return "location [0, 0] is a placeholder, not an address"
    return None


def validate_orders(request: AllocationRequest) -> Validated:
    """Split orders into valid ones and rejected lines (invalid or payment not authorised)."""
    skus = set(request.skus) if request.skus is not None else {s.sku for s in request.stock}
    out = Validated()
    seen: set[object] = set()
    for order in request.orders:
        if order.id in seen:
            out.rejected += reject_order(order, "invalid_order", f"duplicate order id {order.id!r}")
            continue
        seen.add(order.id)
        problem = order_problem(order, skus)
        if problem is not None:
            out.rejected += reject_order(order, "invalid_order", problem)
        elif order.payment_status != "authorised":
            out.rejected += reject_order(
                order, "payment_not_authorised", f"payment is {order.payment_status}: held"
            )
        else:
            out.valid.append(order)
    return out
