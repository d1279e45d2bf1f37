"""The cost and service of committed plans (and of the superseded ones, marked so).

From a plan's stored result: its KPIs (``cost``, ``routing_cost``, ``orders``,
``on_time_share``, ``vehicles_used``, ``distance_m``), the cost per order
(``kpis.cost / kpis.orders``) and the routing cost per van stop (``kpis.routing_cost`` over
the deliveries and pickups on its van routes). A plan's day is its ``plan_date``, else the
UTC date it was committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.analytics.days import day_of, in_range
from engine.analytics.orders import SHIPPING_PLANS
from engine.book import tables as bt
from engine.db import aware
from models.analytics import PlanAnalytics, PlansReport

#: The step types that are a van stop (not the start, the end or a break).
VISITS = frozenset({"job", "pickup", "delivery"})


def van_stops(result: Mapping[str, Any]) -> int:
    """The deliveries and pickups on a plan result's van routes."""
    return sum(
        1
        for site in result.get("sites", [])
        for route in site.get("routing", {}).get("routes", [])
        for step in route.get("steps", [])
        if step.get("type") in VISITS
    )


def _ratio(numerator: float, denominator: int) -> float | None:
    """The ratio, or None over nothing."""
    return numerator / denominator if denominator > 0 else None


def plan_analytics(plan: Mapping[str, Any]) -> PlanAnalytics:
    """One plan's row (``id``, ``status``, ``source``, ``plan_date``, ``committed_at`` and
    its stored ``result``)."""
    result = plan["result"]
    kpis = result["kpis"]
    stops = van_stops(result)
    return PlanAnalytics(
        plan_id=plan["id"],
        status=plan["status"],
        source=plan["source"],
        plan_date=plan["plan_date"],
        committed_at=aware(plan["committed_at"]),
        orders=int(kpis["orders"]),
        shipments=int(kpis["shipments"]),
        cost=float(kpis["cost"]),
        cost_per_order=_ratio(float(kpis["cost"]), int(kpis["orders"])),
        routing_cost=float(kpis["routing_cost"]),
        van_stops=stops,
        routing_cost_per_stop=_ratio(float(kpis["routing_cost"]), stops),
        on_time_share=float(kpis["on_time_share"]),
        vehicles_used=int(kpis["vehicles_used"]),
        distance_m=float(kpis["distance_m"]),
    )


def plan_day(plan: Mapping[str, Any]) -> dt.date | None:
    """The plan's day: its date, else the day it was committed."""
    if plan["plan_date"] is not None:
        day: dt.date = plan["plan_date"]
        return day
    return None if plan["committed_at"] is None else day_of(plan["committed_at"])


def summarise(
    plans: Sequence[Mapping[str, Any]], first: dt.date | None, last: dt.date | None
) -> PlansReport:
    """The rows of the plans within the range, and the committed ones' totals."""
    rows = []
    for plan in plans:
        day = plan_day(plan)
        if (first is None and last is None) or (day is not None and in_range(day, first, last)):
            rows.append(plan_analytics(plan))
    committed = [row for row in rows if row.status == "committed"]
    orders = sum(row.orders for row in committed)
    cost = sum(row.cost for row in committed)
    return PlansReport(
        from_date=first,
        to_date=last,
        plans=rows,
        committed_orders=orders,
        committed_cost=cost,
        cost_per_order=_ratio(cost, orders),
    )


def report(conn: Connection, first: dt.date | None, last: dt.date | None) -> PlansReport:
    """The committed and superseded plans of the book within the range, oldest first."""
    p = bt.plans.c
    rows = conn.execute(
        select(p.id, p.status, p.source, p.plan_date, p.committed_at, p.result)
        .where(p.status.in_(SHIPPING_PLANS))
        .order_by(p.committed_at, p.id)
    )
    return summarise([dict(row._mapping) for row in rows], first, last)
