"""A committed plan's shipments at a site, as the floor works them: their book orders, lines,
van stops and the plan's cost of each (read on an open transaction).

A shipment's id is ``<plan order id>@<site id>``, the stop id that dispatch stored at commit
(:mod:`engine.dispatch.routes`), so the van and its stop's position come from
``routeplan_route_stops``; shipments that no van carries (``carrier``, ``unrouted``) have
neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.book import tables as bt
from engine.dispatch import tables as dt
from engine.picking.catalogue import require_site
from models.errors import ConflictError, ErrorCode, NotFoundError, detail
from models.status import OrderStatus


@dataclass(frozen=True)
class Line:
    """Units of one order line in a shipment."""

    line_id: str
    sku: str
    units: int


@dataclass
class Shipment:
    """One shipment of a committed plan at a site, with what the book knows of its order."""

    shipment_id: str
    plan_order_id: str
    site_id: str
    order_id: str
    channel: str
    order_seq: int
    order_status: OrderStatus
    mode: str
    lines: list[Line]
    shipment_cost: float
    address: str | None = None
    vehicle_id: str | None = None
    route_id: str | None = None
    position: int | None = None
    row: Any = field(default=None, repr=False)


def shipment_id_of(plan_order_id: str, site_id: str) -> str:
    """The id of a plan order's shipment from a site (its van stop's id)."""
    return f"{plan_order_id}@{site_id}"


def committed_plan(conn: Connection, plan_id: str, *, lock: bool = False) -> Any:
    """The plan's row: 404 when there is none, 409 ``invalid_transition`` for a draft (its
    shipments are not reserved, and may never be: commit it first)."""
    query = select(bt.plans).where(bt.plans.c.id == plan_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"no plan {plan_id!r}", [detail("plan_id", plan_id, "unknown")])
    status = row._mapping["status"]
    if status != "committed":
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"plan {plan_id!r} is a {status}, not committed: commit it before picking or "
            "packing its shipments",
            [detail("plan.status", status, "is not committed")],
        )
    return row._mapping


def _stops(conn: Connection, plan_id: str, site_id: str) -> dict[str, tuple[str, str, int]]:
    """The van stops of the plan's routes at the site: stop id -> (route, van, position)."""
    r, s = dt.routes.c, dt.route_stops.c
    rows = conn.execute(
        select(s.stop_id, r.route_id, r.vehicle_id, s.position)
        .join(dt.routes, r.route_id == s.route_id)
        .where(r.plan_id == plan_id, r.site_id == site_id, s.kind == "job")
    ).all()
    return {stop_id: (route_id, vehicle, position) for stop_id, route_id, vehicle, position in rows}


def _orders(conn: Connection, refs: list[dict[str, str]]) -> dict[str, Any]:
    """The book rows of the plan's orders, by plan order id."""
    wanted = {(ref["channel"], ref["order_id"]): ref["plan_order_id"] for ref in refs}
    if not wanted:
        return {}
    o = bt.orders.c
    rows = conn.execute(
        select(bt.orders).where(o.order_id.in_(sorted({k[1] for k in wanted})))
    ).all()
    out: dict[str, Any] = {}
    for row in rows:
        key = (row._mapping["channel"], row._mapping["order_id"])
        if key in wanted:
            out[wanted[key]] = row
    return out


def site_shipments(conn: Connection, plan: Any, site_id: str) -> list[Shipment]:
    """The committed plan's shipments from the site, in the plan's order (404 for a site the
    book does not have; none for a site the plan sends nothing from)."""
    require_site(conn, site_id)
    result = plan["result"]
    costs = {
        (str(s["order_id"]), str(s["site_id"])): float(s["cost_total"])
        for s in result["allocation"]["shipments"]
    }
    stops = _stops(conn, plan["id"], site_id)
    orders = _orders(conn, plan["book_orders"])
    out: list[Shipment] = []
    for planned in result["shipments"]:
        if str(planned["site_id"]) != site_id:
            continue
        plan_order_id = str(planned["order_id"])
        row = orders.get(plan_order_id)
        if row is None:  # the book's order is gone: nothing to pick for it
            continue
        m = row._mapping
        shipment_id = shipment_id_of(plan_order_id, site_id)
        route_id, vehicle_id, position = stops.get(shipment_id, (None, None, None))
        out.append(
            Shipment(
                shipment_id=shipment_id,
                plan_order_id=plan_order_id,
                site_id=site_id,
                order_id=m["order_id"],
                channel=m["channel"],
                order_seq=m["seq"],
                order_status=OrderStatus(m["status"]),
                mode=str(planned["mode"]) if route_id is None else "van",
                lines=[
                    Line(str(line["line_id"]), str(line["sku"]), int(line["quantity"]))
                    for line in planned["lines"]
                ],
                shipment_cost=costs.get((plan_order_id, site_id), 0.0),
                address=m["address"],
                vehicle_id=vehicle_id,
                route_id=route_id,
                position=position,
                row=row,
            )
        )
    return out


def one_shipment(conn: Connection, plan: Any, shipment_id: str) -> Shipment:
    """The committed plan's shipment with this id (404 when the plan has none)."""
    _order, sep, site_id = shipment_id.rpartition("@")
    if sep:
        sites = {str(s["site_id"]) for s in plan["result"]["shipments"]}
        if site_id in sites:
            for shipment in site_shipments(conn, plan, site_id):
                if shipment.shipment_id == shipment_id:
                    return shipment
    raise NotFoundError(
        f"plan {plan['id']!r} has no shipment {shipment_id!r}",
        [detail("shipment_id", shipment_id, "not a shipment of the plan ('<order>@<site>')")],
    )
