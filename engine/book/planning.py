"""Planning from the book: what the book holds for a day, turned into a plan request.

:func:`snapshot` reads, in one transaction, the orders a plan takes (``ready`` or
``backordered``, paid, of the selected channels), the selected sites and their stock;
:func:`book_plan_request` turns them into a :class:`models.plan.PlanRequest` for the
existing allocate → route pipeline (``engine/plan/pipeline.py``):

- stock: what may still be reserved: ``on_hand - reserved`` with the safety stock kept back;
- orders: each line's units not yet reserved or shipped; an order's id in the plan is its
  book id, or ``channel:id`` when two channels of the day use the same id;
- delivery windows: clock times become seconds from the day start; an order whose windows
  all lie after the day waits for its day; one whose windows all ended before it is taken
  without windows (its promise was missed, it goes as soon as it can);
- vans without a shift of their own work within their site's opening hours;
- returns: the approved ones become the plan's pickups (:mod:`engine.returns.planning`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.ledger import level, site_record
from engine.book.payments import PAID
from engine.returns import planning as returns_planning
from models.allocation import Order, OrderLine, Site, StockRecord
from models.book import (
    BookOrderRef,
    BookPlanRequest,
    BookSelection,
    OrderRecord,
    SiteRecord,
    StockLevel,
)
from models.common import TimeWindow
from models.errors import InvalidInputError
from models.plan import FleetVehicle, OrderDelivery, PlanRequest

#: The length of the planned day, in seconds.
DAY_S = 86_400


@dataclass(frozen=True)
class Snapshot:
    """The part of the book one plan takes, read at one instant."""

    orders: list[OrderRecord]
    sites: list[SiteRecord]
    stock: list[StockLevel]
    returns: list[returns_planning.ToCollect] = field(default_factory=list)


def snapshot(conn: Connection, selection: BookSelection) -> Snapshot:
    """Read the plannable orders, the selected sites and their stock."""
    s = t.sites.c
    query = select(t.sites).order_by(s.site_id)
    if selection.site_ids is not None:
        query = query.where(s.site_id.in_(selection.site_ids))
    sites = [site_record(row) for row in conn.execute(query).all()]
    if selection.site_ids is not None:
        missing = sorted(set(selection.site_ids) - {site.id for site in sites})
        if missing:
            raise InvalidInputError.for_field(
                "from_book.site_ids", missing, "names sites the book does not have"
            )
    site_ids = [site.id for site in sites]
    stock_rows = conn.execute(
        select(t.stock)
        .where(t.stock.c.site_id.in_(site_ids))
        .order_by(t.stock.c.site_id, t.stock.c.sku)
    ).all()
    o = t.orders.c
    order_query = (
        select(t.orders)
        .where(
            o.status.in_([s.value for s in lc.PLANNABLE]),
            o.payment_status.in_([p.value for p in PAID]),
        )
        .order_by(o.priority.desc(), o.seq)
    )
    if selection.channels is not None:
        order_query = order_query.where(o.channel.in_(selection.channels))
    orders = orders_sql.records(conn, conn.execute(order_query).all())
    return Snapshot(
        orders=orders,
        sites=sites,
        stock=[level(row) for row in stock_rows],
        returns=returns_planning.to_collect(conn),
    )


def day_windows(order: OrderRecord, day_start: dt.datetime) -> tuple[bool, list[TimeWindow]]:
    """Whether the order is due on the day, and its windows in seconds from the day start."""
    if not order.delivery_windows:
        return True, []
    day_end = day_start + dt.timedelta(seconds=DAY_S)
    windows = []
    for window in order.delivery_windows:
        if window.end < day_start or window.start > day_end:
            continue
        start_s = max(0.0, (window.start - day_start).total_seconds())
        end_s = min(float(DAY_S), (window.end - day_start).total_seconds())
        windows.append(TimeWindow(start_s=start_s, end_s=end_s))
    if windows:
        return True, windows
    if all(window.end < day_start for window in order.delivery_windows):
        return True, []  # every window has passed: deliver as soon as possible
    return False, []


def book_plan_request(
    snap: Snapshot, request: BookPlanRequest
) -> tuple[PlanRequest, list[BookOrderRef]]:
    """The plan request for the day, and which book order each of its order ids names."""
    date = request.from_book.date
    day_start = request.day_start or dt.datetime.combine(date, dt.time(0), tzinfo=dt.UTC)
    taken: list[tuple[OrderRecord, list[OrderLine], list[TimeWindow]]] = []
    for order in snap.orders:
        due, windows = day_windows(order, day_start)
        if not due:
            continue
        lines = [
            OrderLine(id=line.id, sku=line.sku, quantity=open_units)
            for line in order.lines
            if (open_units := line.quantity - line.shipped - line.reserved) > 0
        ]
        if lines:
            taken.append((order, lines, windows))
    uses = Counter(order.id for order, _, _ in taken)
    refs: list[BookOrderRef] = []
    orders: list[Order] = []
    deliveries: list[OrderDelivery] = []
    for order, lines, windows in taken:
        plan_id = order.id if uses[order.id] == 1 else f"{order.channel}:{order.id}"
        refs.append(BookOrderRef(plan_order_id=plan_id, channel=order.channel, order_id=order.id))
        orders.append(
            Order(
                id=plan_id,
                channel=order.channel,
                location=order.location,
                created_date=order.placed_at.date() if order.placed_at else None,
                promised_date=order.promised_date,
                priority=order.priority,
                payment_status="authorised",
                ship_complete=order.ship_complete,
                max_shipments=order.max_shipments,
                lines=lines,
            )
        )
        if windows or order.service_s is not None:
            deliveries.append(
                OrderDelivery(order_id=plan_id, time_windows=windows, service_s=order.service_s)
            )
    hours = {site.id: site.opening_hours for site in snap.sites}
    fleet: list[FleetVehicle] = []
    for vehicle in request.fleet:
        opening = hours.get(str(vehicle.site_id), [])
        if vehicle.shift is None and opening:
            shift = TimeWindow(start_s=opening[0].start_s, end_s=opening[-1].end_s)
            vehicle = vehicle.model_copy(update={"shift": shift})
        fleet.append(vehicle)
    try:
        plan_request = _plan_request(request, date, day_start, snap, orders, fleet, deliveries)
        pickups = returns_planning.pickups(snap.returns, snap.sites, day_start)
        if pickups:  # their sites are the plan's own, as checked here
            plan_request = plan_request.model_copy(update={"pickups": pickups})
    except ValidationError as error:
        raise InvalidInputError.from_validation(
            error, "the plan made from the book is invalid"
        ) from None
    return plan_request, refs


def _plan_request(
    request: BookPlanRequest,
    date: dt.date,
    day_start: dt.datetime,
    snap: Snapshot,
    orders: list[Order],
    fleet: list[FleetVehicle],
    deliveries: list[OrderDelivery],
) -> PlanRequest:
    return PlanRequest(
        plan_date=date,
        day_start=day_start,
        sites=[
            Site(
                id=site.id,
                kind=site.kind,
                location=site.location,
                capacity_orders=site.capacity_orders,
                capacity_units=site.capacity_units,
                handling_cost_per_unit=site.handling_cost_per_unit,
                online=site.online,
                channels=site.channels,
            )
            for site in snap.sites
        ],
        stock=[
            StockRecord(
                site_id=level_.site_id,
                sku=level_.sku,
                on_hand=level_.on_hand - level_.reserved,
                safety_stock=min(level_.safety_stock, level_.on_hand - level_.reserved),
            )
            for level_ in snap.stock
        ],
        orders=orders,
        products=request.products,
        fleet=fleet,
        deliveries=deliveries,
        costs=request.costs,
        allocation_options=request.allocation_options,
        options=request.options,
    )
