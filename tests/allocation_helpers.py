"""Small named allocation instances and a helper that allocates and checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.allocation import allocate, evaluate_allocation
from models.allocation import (
    AllocationOptions,
    AllocationRequest,
    AllocationResult,
    CostSettings,
    Order,
    OrderLine,
    Site,
    StockRecord,
)

DAY = dt.date(2024, 3, 1)
SP = (-46.63, -23.55)  # São Paulo
RIO = (-43.20, -22.90)  # Rio, ~360 km away
BH = (-43.94, -19.92)  # Belo Horizonte


def site(sid: str, where: tuple[float, float], **kw: Any) -> Site:
    return Site(id=sid, location=where, **kw)


def order(oid: Any, where: tuple[float, float] | None, *lines: tuple[str, int], **kw: Any) -> Order:
    return Order(
        id=oid,
        location=where,
        lines=[OrderLine(id=i + 1, sku=sku, quantity=q) for i, (sku, q) in enumerate(lines)],
        **kw,
    )


def stock(sid: str, sku: str, on_hand: int, safety: int = 0) -> StockRecord:
    return StockRecord(site_id=sid, sku=sku, on_hand=on_hand, safety_stock=safety)


def request(
    sites: list[Site],
    stocks: list[StockRecord],
    orders: list[Order],
    method: str = "mip",
    costs: CostSettings | None = None,
    **opts: Any,
) -> AllocationRequest:
    return AllocationRequest(
        plan_date=DAY,
        sites=sites,
        stock=stocks,
        orders=orders,
        costs=costs or CostSettings(),
        options=AllocationOptions(
            method=method, time_limit_s=opts.pop("time_limit_s", 2.0), **opts
        ),
    )


def solve_checked(req: AllocationRequest) -> AllocationResult:
    """Allocate and insist that the independent checker finds nothing wrong."""
    result = allocate(req)
    verdict = evaluate_allocation(req, result, DAY)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert result.evaluation is not None and result.evaluation.feasible
    return result


def shipped(result: AllocationResult) -> dict[tuple[Any, Any], int]:
    """Units shipped per (order id, site id)."""
    out: dict[tuple[Any, Any], int] = {}
    for sh in result.shipments:
        out[(sh.order_id, sh.site_id)] = sum(ln.quantity for ln in sh.lines)
    return out


def reasons(result: AllocationResult) -> dict[tuple[Any, Any], str]:
    """Reason per (order id, line id) of unfulfilled lines."""
    return {(u.order_id, u.line_id): u.reason for u in result.unfulfilled}
