"""Marking a committed plan's shipment picked, then packed (each one transaction, on an open
connection), which moves its order along the lifecycle through
:func:`engine.book.orders.move` (the one place the moves are checked, which also writes the
transition and its ``order.status_changed`` event).

- ``picked``: the shipment's order ``allocated`` → ``picking`` (an order split over several
  sites is moved by its first shipment picked; the others only note theirs). A shipment
  picked twice, or whose order cannot become ``picking``, is a 409 ``invalid_transition``.
- ``packed``: the shipment must have been picked; at a site with carton types it must also
  have been cartonised (``POST .../pack``) so that its labels exist, while a site without
  carton types packs in its own way. When every shipment of the order in this plan is
  packed, the order ``picking`` → ``packed``; until then it stays ``picking``. A shipment
  packed twice is a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.book import orders as orders_sql
from engine.db import aware
from engine.picking import tables as t
from engine.picking.catalogue import get_cartons
from engine.picking.pack import note_shipment
from engine.picking.shipments import Shipment, committed_plan, one_shipment, site_shipments
from models.errors import ConflictError, ErrorCode, detail
from models.picking import ShipmentMark
from models.status import OrderStatus, TransitionCause


def _state(conn: Connection, plan_id: str, shipment_id: str) -> dict[str, Any]:
    p = t.pack_shipments.c
    row = conn.execute(
        select(t.pack_shipments).where(p.plan_id == plan_id, p.shipment_id == shipment_id)
    ).first()
    return {} if row is None else dict(row._mapping)


def _refuse(shipment: Shipment, why: str, value: object) -> ConflictError:
    return ConflictError(
        ErrorCode.INVALID_TRANSITION,
        f"shipment {shipment.shipment_id!r} (order {shipment.order_id!r}, "
        f"{shipment.order_status.value}) {why}",
        [detail("shipment_id", value, why)],
    )


def _count(conn: Connection, plan_id: str, shipment_id: str) -> int:
    c = t.cartons.c
    n = conn.execute(
        select(func.count()).where(c.plan_id == plan_id, c.shipment_id == shipment_id)
    ).scalar_one()
    return int(n)


def _mark(conn: Connection, plan_id: str, shipment: Shipment) -> ShipmentMark:
    state = _state(conn, plan_id, shipment.shipment_id)
    row = orders_sql.reread(conn, shipment.order_seq)._mapping
    return ShipmentMark(
        plan_id=plan_id,
        shipment_id=shipment.shipment_id,
        order_id=shipment.order_id,
        channel=shipment.channel,
        order_status=OrderStatus(row["status"]),
        picked_at=aware(state.get("picked_at")),
        packed_at=aware(state.get("packed_at")),
        cartons_count=_count(conn, plan_id, shipment.shipment_id),
    )


def picked(
    conn: Connection, plan_id: str, shipment_id: str, now: datetime, actor: str | None
) -> ShipmentMark:
    """Mark the shipment picked (see the module's docstring)."""
    plan = committed_plan(conn, plan_id, lock=True)
    shipment = one_shipment(conn, plan, shipment_id)
    if _state(conn, plan_id, shipment_id).get("picked_at") is not None:
        raise _refuse(shipment, "is already picked", shipment_id)
    if shipment.order_status is not OrderStatus.PICKING:
        orders_sql.move(
            conn,
            shipment.row,
            OrderStatus.PICKING,
            TransitionCause.EVENT,
            actor,
            now,
            reason=f"plan {plan_id}: shipment {shipment_id} picked",
        )
    note_shipment(conn, plan_id, shipment, picked_at=now, picked_by=actor)
    return _mark(conn, plan_id, shipment)


def packed(
    conn: Connection, plan_id: str, shipment_id: str, now: datetime, actor: str | None
) -> ShipmentMark:
    """Mark the shipment packed (see the module's docstring)."""
    plan = committed_plan(conn, plan_id, lock=True)
    shipment = one_shipment(conn, plan, shipment_id)
    state = _state(conn, plan_id, shipment_id)
    if state.get("packed_at") is not None:
        raise _refuse(shipment, "is already packed", shipment_id)
    if state.get("picked_at") is None:
        raise _refuse(shipment, "is not picked yet: POST .../picked first", shipment_id)
    has_types = bool(get_cartons(conn, shipment.site_id).carton_types)
    if has_types and state.get("cartonised_at") is None:
        raise _refuse(
            shipment,
            "has no cartons: its site packs into carton types, so POST "
            f"/v1/plans/{plan_id}/sites/{shipment.site_id}/pack first",
            shipment_id,
        )
    note_shipment(conn, plan_id, shipment, packed_at=now, packed_by=actor)
    if _all_packed(conn, plan, shipment):
        orders_sql.move(
            conn,
            orders_sql.reread(conn, shipment.order_seq),
            OrderStatus.PACKED,
            TransitionCause.EVENT,
            actor,
            now,
            reason=f"plan {plan_id}: shipment {shipment_id} packed",
        )
    return _mark(conn, plan_id, shipment)


def _all_packed(conn: Connection, plan: Any, shipment: Shipment) -> bool:
    """Whether every shipment of the order in this plan is now marked packed."""
    sites = {
        str(s["site_id"])
        for s in plan["result"]["shipments"]
        if str(s["order_id"]) == shipment.plan_order_id
    }
    ids = {
        s.shipment_id
        for site_id in sites
        for s in site_shipments(conn, plan, site_id)
        if s.order_seq == shipment.order_seq
    }
    p = t.pack_shipments.c
    done = conn.execute(
        select(p.shipment_id).where(
            p.plan_id == plan["id"],
            p.shipment_id.in_(sorted(ids)),
            p.packed_at.is_not(None),
        )
    ).all()
    return {row[0] for row in done} == ids
