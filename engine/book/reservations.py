"""Reservations by hand, on an open transaction: hold units of a site's stock for one order
line (checked against the order's state, the line and the stock), or give them back."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.book import ledger, records
from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.capture import now_utc
from models.book import Reservation, ReservationIn
from models.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from models.status import OrderStatus, TransitionCause


def reserve(conn: Connection, want: ReservationIn, actor: str | None) -> Reservation:
    """Hold units of a site's stock for an order line, in the open transaction."""
    row = orders_sql.find(conn, want.order_id, want.channel, lock=True)
    m = row._mapping
    status = OrderStatus(m["status"])
    if status not in lc.RESERVABLE:
        states = ", ".join(sorted(s.value for s in lc.RESERVABLE))
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"order {m['order_id']!r} is {status.value}: stock is reserved for orders "
            f"that are {states}",
            [
                {
                    "field": "order_id",
                    "value": want.order_id,
                    "message": f"is {status.value}",
                }
            ],
        )
    line = conn.execute(
        select(t.order_lines).where(
            t.order_lines.c.order_seq == m["seq"], t.order_lines.c.line_id == want.line_id
        )
    ).first()
    if line is None:
        raise InvalidInputError.for_field(
            "line_id", want.line_id, f"is not a line of order {want.order_id!r}"
        )
    if line._mapping["sku"] != want.sku:
        raise InvalidInputError.for_field(
            "sku",
            want.sku,
            f"is not the sku of line {want.line_id!r} ({line._mapping['sku']!r})",
        )
    open_units = (
        line._mapping["quantity"]
        - line._mapping["shipped"]
        - orders_sql.active_units(conn, m["seq"], want.line_id)
    )
    if want.quantity > open_units:
        raise InvalidInputError.for_field(
            "quantity",
            want.quantity,
            f"is more than the {open_units} unit(s) of the line not yet reserved",
        )
    records.known_site(conn, want.site_id, "site_id")
    now = now_utc()
    if not ledger.take(conn, want.site_id, want.sku, want.quantity, now):
        if not ledger.sku_known(conn, want.sku):
            raise InvalidInputError.for_field("sku", want.sku, "is in no site's ledger")
        free = ledger.available(conn, want.site_id, want.sku)
        raise ledger.insufficient(want.site_id, want.sku, want.quantity, free)
    need = ledger.Need(m["seq"], want.line_id, want.site_id, want.sku, want.quantity)
    (reservation_id,) = ledger.add_reservations(conn, [need], now, None, actor)
    conn.execute(update(t.orders).where(t.orders.c.seq == m["seq"]).values(updated_at=now))
    return records.reservation(conn, reservation_id)


def release(conn: Connection, reservation_id: str, actor: str | None) -> Reservation:
    """Give an active reservation back, in the open transaction."""
    row = conn.execute(select(t.reservations).where(t.reservations.c.id == reservation_id)).first()
    if row is None:
        raise NotFoundError(
            f"no reservation {reservation_id!r}",
            [{"field": "id", "value": reservation_id, "message": "unknown"}],
        )
    now = now_utc()
    if not ledger.release_one(conn, row, now):
        status = row._mapping["status"]
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"reservation {reservation_id!r} is {status}; only an active one is released",
            [{"field": "status", "value": status, "message": "not active"}],
        )
    seq = row._mapping["order_seq"]
    order = orders_sql.reread(conn, seq)
    r = t.reservations.c
    left = conn.execute(
        select(r.id).where(r.order_seq == seq, r.status == "active").limit(1)
    ).first()
    if order._mapping["status"] == OrderStatus.ALLOCATED.value and left is None:
        orders_sql.move(  # allocated means stock held: with none left, it is ready
            conn,
            order,
            OrderStatus.READY,
            TransitionCause.API,
            actor,
            now,
            reason=f"its last reservation ({reservation_id}) was released",
        )
    return records.reservation(conn, reservation_id)
