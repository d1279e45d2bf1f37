"""Rows of the order book as the API shows them (movements, reservations), and the small
checks the store's calls share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.book import tables as t
from engine.db import aware, stamp
from models.book import Reservation, StockMovement
from models.errors import InvalidInputError, NotFoundError


def cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInputError.for_field("cursor", cursor, "is not a cursor this API gave")
    return int(cursor)


def known_site(
    conn: Connection, site_id: str, field: str, missing: type[Exception] = InvalidInputError
) -> None:
    row = conn.execute(select(t.sites.c.site_id).where(t.sites.c.site_id == site_id)).first()
    if row is None:
        if missing is NotFoundError:
            raise NotFoundError(
                f"no site {site_id!r}", [{"field": field, "value": site_id, "message": "unknown"}]
            )
        raise InvalidInputError.for_field(field, site_id, "is not a site (PUT /v1/sites/{id})")


def order_names(conn: Connection, seqs: set[int]) -> dict[int, str]:
    if not seqs:
        return {}
    o = t.orders.c
    return dict(conn.execute(select(o.seq, o.order_id).where(o.seq.in_(seqs))).all())


def movement(conn: Connection, row: Any) -> StockMovement:
    m = row._mapping
    names = order_names(conn, {m["order_seq"]} if m["order_seq"] else set())
    return StockMovement(
        id=m["id"],
        site_id=m["site_id"],
        sku=m["sku"],
        kind=m["kind"],
        quantity=m["quantity"],
        delta=m["delta"],
        on_hand_after=m["on_hand_after"],
        reference=m["reference"],
        order_id=names.get(m["order_seq"]),
        at=stamp(m["at"]),
        actor=m["actor"],
    )


def reservation(conn: Connection, reservation_id: str) -> Reservation:
    row = conn.execute(
        select(t.reservations, t.orders.c.order_id, t.orders.c.channel)
        .join(t.orders, t.orders.c.seq == t.reservations.c.order_seq)
        .where(t.reservations.c.id == reservation_id)
    ).first()
    if row is None:
        raise NotFoundError(
            f"no reservation {reservation_id!r}",
            [{"field": "id", "value": reservation_id, "message": "unknown"}],
        )
    m = row._mapping
    return Reservation(
        id=m["id"],
        order_id=m["order_id"],
        channel=m["channel"],
        line_id=m["line_id"],
        site_id=m["site_id"],
        sku=m["sku"],
        quantity=m["quantity"],
        status=m["status"],
        plan_id=m["plan_id"],
        created_at=stamp(m["created_at"]),
        ended_at=aware(m["ended_at"]),
        created_by=m["created_by"],
    )
