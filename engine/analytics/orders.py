"""Orders per day per site and channel.

An order's day is the UTC date of its ``placed_at`` (else of when the book captured it).
Its site is the one that ships it in the last committed (or since superseded) plan that
holds it: the site shipping most of its units when the plan splits it (ties: the first
site id), ``unplanned`` when no such plan holds it. Each order counts once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.analytics.days import day_of, days, start_of
from engine.book import tables as bt
from models.analytics import UNPLANNED, DayCount, OrderDayCount, OrdersReport
from models.errors import NotFoundError

#: The plan states whose shipments say which site served an order.
SHIPPING_PLANS = ("committed", "superseded")


@dataclass(frozen=True)
class PlacedOrder:
    """One order as the counts see it."""

    day: dt.date
    channel: str
    site_id: str


def primary_sites(shipments: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each plan order id's site: the one shipping most of its units (ties: the first id)."""
    units: dict[str, Counter[str]] = defaultdict(Counter)
    for shipment in shipments:
        quantity = sum(int(line.get("quantity", 0)) for line in shipment.get("lines", []))
        units[str(shipment["order_id"])][str(shipment["site_id"])] += quantity
    return {
        order_id: min(per_site, key=lambda site: (-per_site[site], site))
        for order_id, per_site in units.items()
    }


def order_sites(plans: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """(channel, order id) → site, from plans (``book_orders`` and ``result``) given in the
    order they were committed: a later plan's answer wins."""
    out: dict[tuple[str, str], str] = {}
    for plan in plans:
        sites = primary_sites((plan.get("result") or {}).get("shipments", []))
        for ref in plan.get("book_orders") or []:
            site = sites.get(str(ref["plan_order_id"]))
            if site is not None:
                out[(str(ref["channel"]), str(ref["order_id"]))] = site
    return out


def shipping_plans(conn: Connection) -> list[Mapping[str, Any]]:
    """The committed and superseded plans, in the order they were committed."""
    p = bt.plans.c
    rows = conn.execute(
        select(p.id, p.book_orders, p.result)
        .where(p.status.in_(SHIPPING_PLANS))
        .order_by(p.committed_at, p.id)
    )
    return [dict(row._mapping) for row in rows]


def read_orders(conn: Connection, first: dt.date, last: dt.date) -> list[PlacedOrder]:
    """The orders placed from ``first`` to ``last`` (UTC days), each with its site."""
    o = bt.orders.c
    when = func.coalesce(o.placed_at, o.created_at)
    # a day either side: a time stored with another offset is placed by its UTC date below
    rows = conn.execute(
        select(o.channel, o.order_id, o.placed_at, o.created_at).where(
            when >= start_of(first - dt.timedelta(days=1)),
            when < start_of(last + dt.timedelta(days=2)),
        )
    ).all()
    sites = order_sites(shipping_plans(conn)) if rows else {}
    out = []
    for row in rows:
        day = day_of(row.placed_at if row.placed_at is not None else row.created_at)
        if first <= day <= last:
            site = sites.get((row.channel, row.order_id), UNPLANNED)
            out.append(PlacedOrder(day, row.channel, site))
    return out


def check_site(conn: Connection, site_id: str | None) -> None:
    """404 naming ``site_id`` when the book has no such site (``unplanned`` is one)."""
    if site_id is None or site_id == UNPLANNED:
        return
    found = conn.execute(select(bt.sites.c.site_id).where(bt.sites.c.site_id == site_id)).first()
    if found is None:
        raise NotFoundError(
            f"no site {site_id!r}",
            [{"field": "site_id", "value": site_id, "message": "unknown site"}],
        )


def count(
    orders: Sequence[PlacedOrder],
    first: dt.date,
    last: dt.date,
    site_id: str | None = None,
    channel: str | None = None,
) -> OrdersReport:
    """The counts per (day, site, channel), and per day, of the orders that match."""
    kept = [
        order
        for order in orders
        if first <= order.day <= last
        and (site_id is None or order.site_id == site_id)
        and (channel is None or order.channel == channel)
    ]
    per_key = Counter((o.day, o.site_id, o.channel) for o in kept)
    per_day = Counter(o.day for o in kept)
    return OrdersReport(
        from_date=first,
        to_date=last,
        site_id=site_id,
        channel=channel,
        total=len(kept),
        rows=[
            OrderDayCount(date=day, site_id=site, channel=ch, orders=n)
            for (day, site, ch), n in sorted(per_key.items())
        ],
        per_day=[DayCount(date=day, orders=per_day.get(day, 0)) for day in days(first, last)],
    )


def report(
    conn: Connection,
    first: dt.date,
    last: dt.date,
    site_id: str | None = None,
    channel: str | None = None,
) -> OrdersReport:
    """Orders per day per site and channel from the book (404 for an unknown site)."""
    check_site(conn, site_id)
    return count(read_orders(conn, first, last), first, last, site_id, channel)
