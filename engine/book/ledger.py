"""The stock ledger and reservations, on an open transaction.

Each (site, sku) has one balance row in ``routeplan_stock``. Every change of it is one
conditional ``UPDATE`` in the caller's transaction, next to the ledger entry or reservation
that explains it, so the balance always equals the sums: ``on_hand`` = the sum of the
movements' deltas, ``reserved`` = the sum of the active reservations.

Reserving is ``UPDATE ... SET reserved = reserved + q WHERE on_hand - reserved -
safety_stock >= q``: the database checks and takes in one statement, under its row lock
(PostgreSQL re-reads the row after waiting for a concurrent writer; SQLite runs one writer
at a time), so concurrent requests never take the same unit twice. The table's CHECK
constraints (``reserved <= on_hand``, ``on_hand >= 0``) refuse an oversold balance even if
this code had a bug.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from engine.book import tables as t
from engine.db import stamp
from models.book import SiteRecord, StockLevel, StockMovementIn
from models.errors import ConflictError, ErrorCode, InvalidInputError


@dataclass(frozen=True)
class Need:
    """Units of a sku at a site wanted for one order line."""

    order_seq: int
    line_id: str
    site_id: str
    sku: str
    quantity: int


def level(row: Any) -> StockLevel:
    """A balance row as the API shows it."""
    m = row._mapping
    free = m["on_hand"] - m["reserved"] - m["safety_stock"]
    return StockLevel(
        site_id=m["site_id"],
        sku=m["sku"],
        on_hand=m["on_hand"],
        reserved=m["reserved"],
        safety_stock=m["safety_stock"],
        available=max(0, free),
    )


def _where(site_id: str, sku: str) -> Any:
    return and_(t.stock.c.site_id == site_id, t.stock.c.sku == sku)


def balance(conn: Connection, site_id: str, sku: str, *, lock: bool = False) -> Any:
    """The balance row of (site, sku), or None; ``lock`` takes its row lock (PostgreSQL)."""
    query = select(t.stock).where(_where(site_id, sku))
    if lock:
        query = query.with_for_update()
    return conn.execute(query).first()


def available(conn: Connection, site_id: str, sku: str) -> int:
    """Units of sku at site that may be reserved now (0 when there is no row)."""
    row = balance(conn, site_id, sku)
    return 0 if row is None else level(row).available


def ensure_row(conn: Connection, site_id: str, sku: str, now: datetime) -> None:
    """Make the balance row of (site, sku) if it is missing (harmless when it exists, even
    when another transaction makes it at the same moment)."""
    values = {
        "site_id": site_id,
        "sku": sku,
        "on_hand": 0,
        "reserved": 0,
        "safety_stock": 0,
        "updated_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(t.stock).values(**values).on_conflict_do_nothing())


def take(conn: Connection, site_id: str, sku: str, quantity: int, now: datetime) -> bool:
    """Reserve ``quantity`` units of (site, sku) if that many are available; whether it did."""
    c = t.stock.c
    done = conn.execute(
        update(t.stock)
        .where(_where(site_id, sku), c.on_hand - c.reserved - c.safety_stock >= quantity)
        .values(reserved=c.reserved + quantity, updated_at=now)
    )
    return done.rowcount == 1


def insufficient(site_id: str, sku: str, quantity: int, free: int) -> ConflictError:
    """The 409 ``insufficient_stock`` for a reservation that did not fit."""
    return ConflictError(
        ErrorCode.INSUFFICIENT_STOCK,
        f"site {site_id!r} has {free} unit(s) of {sku!r} available; {quantity} asked for",
        [
            {
                "field": "quantity",
                "value": quantity,
                "message": f"{free} available",
                "available": free,
                "site_id": site_id,
                "sku": sku,
            }
        ],
    )


def add_reservations(
    conn: Connection, needs: Iterable[Need], now: datetime, plan_id: str | None, actor: str | None
) -> list[str]:
    """Insert one active reservation per need (their units already taken); their ids."""
    rows: list[dict[str, Any]] = [
        {
            "id": str(uuid.uuid4()),
            "order_seq": need.order_seq,
            "line_id": need.line_id,
            "site_id": need.site_id,
            "sku": need.sku,
            "quantity": need.quantity,
            "status": "active",
            "plan_id": plan_id,
            "created_at": now,
            "created_by": actor,
        }
        for need in needs
    ]
    if rows:
        conn.execute(t.reservations.insert(), rows)
    return [str(row["id"]) for row in rows]


def _active(conn: Connection, order_seq: int) -> list[Any]:
    r = t.reservations.c
    return list(
        conn.execute(
            select(t.reservations)
            .where(r.order_seq == order_seq, r.status == "active")
            .order_by(r.site_id, r.sku, r.id)  # one lock order for every transaction
        ).all()
    )


def release_one(conn: Connection, row: Any, now: datetime) -> bool:
    """Give one active reservation's units back; False if it was no longer active."""
    r = t.reservations.c
    m = row._mapping
    done = conn.execute(
        update(t.reservations)
        .where(r.id == m["id"], r.status == "active")
        .values(status="released", ended_at=now)
    )
    if done.rowcount != 1:
        return False
    c = t.stock.c
    conn.execute(
        update(t.stock)
        .where(_where(m["site_id"], m["sku"]))
        .values(reserved=c.reserved - m["quantity"], updated_at=now)
    )
    return True


def release_order(conn: Connection, order_seq: int, now: datetime) -> int:
    """Give back every active reservation of an order; units released."""
    units = 0
    for row in _active(conn, order_seq):
        if release_one(conn, row, now):
            units += int(row._mapping["quantity"])
    return units


def consume_order(conn: Connection, order_seq: int, now: datetime, actor: str | None) -> int:
    """Ship an order's active reservations: the units leave on hand (a ``shipment`` entry
    each) and count as shipped on their lines; units shipped."""
    units = 0
    r, c, lines = t.reservations.c, t.stock.c, t.order_lines.c
    for row in _active(conn, order_seq):
        m = row._mapping
        quantity = int(m["quantity"])
        conn.execute(
            update(t.reservations)
            .where(r.id == m["id"], r.status == "active")
            .values(status="consumed", ended_at=now)
        )
        after = conn.execute(
            update(t.stock)
            .where(_where(m["site_id"], m["sku"]))
            .values(on_hand=c.on_hand - quantity, reserved=c.reserved - quantity, updated_at=now)
            .returning(c.on_hand)
        ).scalar_one()
        conn.execute(
            t.movements.insert().values(
                site_id=m["site_id"],
                sku=m["sku"],
                kind="shipment",
                quantity=quantity,
                delta=-quantity,
                on_hand_after=after,
                reference=f"reservation {m['id']}",
                order_seq=order_seq,
                at=now,
                actor=actor,
            )
        )
        conn.execute(
            update(t.order_lines)
            .where(lines.order_seq == order_seq, lines.line_id == m["line_id"])
            .values(shipped=lines.shipped + quantity)
        )
        units += quantity
    return units


def sku_known(conn: Connection, sku: str) -> bool:
    """Whether any site has ever had the sku in its ledger."""
    return (
        conn.execute(select(t.stock.c.sku).where(t.stock.c.sku == sku).limit(1)).first() is not None
    )


def apply_movement(
    conn: Connection, movement: StockMovementIn, now: datetime, actor: str | None
) -> tuple[int, int]:
    """Apply a receipt, adjustment or count to its balance and write its ledger entry;
    ``(entry id, on hand after)``. A change that would leave fewer units on hand than are
    reserved (or fewer than 0) is a 422 naming the quantity."""
    site_id, sku = movement.site_id, movement.sku
    ensure_row(conn, site_id, sku, now)
    row = balance(conn, site_id, sku, lock=True)
    assert row is not None
    m = row._mapping
    delta = movement.quantity - m["on_hand"] if movement.kind == "count" else movement.quantity
    after = m["on_hand"] + delta
    if after < m["reserved"]:
        what = "counted" if movement.kind == "count" else f"{after} would be on hand"
        raise InvalidInputError.for_field(
            "quantity",
            movement.quantity,
            f"is refused: {what}, below the {m['reserved']} unit(s) reserved of {sku!r} at "
            f"{site_id!r} (release reservations first)",
        )
    c = t.stock.c
    done = conn.execute(
        update(t.stock)
        .where(_where(site_id, sku), c.on_hand == m["on_hand"], c.on_hand + delta >= c.reserved)
        .values(on_hand=c.on_hand + delta, updated_at=now)
    )
    if done.rowcount != 1:  # another writer changed it between the read and the write
        raise RetryTransactionError()
    entry = conn.execute(
        t.movements.insert()
        .values(
            site_id=site_id,
            sku=sku,
            kind=movement.kind,
            quantity=movement.quantity,
            delta=delta,
            on_hand_after=after,
            reference=movement.reference,
            at=now,
            actor=actor,
        )
        .returning(t.movements.c.id)
    ).scalar_one()
    return int(entry), int(after)


def set_safety(conn: Connection, site_id: str, sku: str, units: int, now: datetime) -> None:
    """Set the safety stock of (site, sku)."""
    ensure_row(conn, site_id, sku, now)
    conn.execute(
        update(t.stock).where(_where(site_id, sku)).values(safety_stock=units, updated_at=now)
    )


def mismatches(conn: Connection) -> list[dict[str, Any]]:
    """Balance rows that differ from their ledger: on hand against the sum of the
    movements, reserved against the sum of the active reservations (none: it balances)."""
    mv, rs = t.movements.c, t.reservations.c
    moved = dict(
        ((site, sku), int(total))
        for site, sku, total in conn.execute(
            select(mv.site_id, mv.sku, func.sum(mv.delta)).group_by(mv.site_id, mv.sku)
        ).all()
    )
    held = dict(
        ((site, sku), int(total))
        for site, sku, total in conn.execute(
            select(rs.site_id, rs.sku, func.sum(rs.quantity))
            .where(rs.status == "active")
            .group_by(rs.site_id, rs.sku)
        ).all()
    )
    out = []
    for row in conn.execute(select(t.stock)).all():
        m = row._mapping
        key = (m["site_id"], m["sku"])
        if m["on_hand"] != moved.get(key, 0) or m["reserved"] != held.get(key, 0):
            out.append(
                {
                    "site_id": key[0],
                    "sku": key[1],
                    "on_hand": m["on_hand"],
                    "movements": moved.get(key, 0),
                    "reserved": m["reserved"],
                    "active_reservations": held.get(key, 0),
                }
            )
    return out


def site_record(row: Any) -> SiteRecord:
    """A site row as the API shows it."""
    m = row._mapping
    return SiteRecord(
        id=m["site_id"],
        kind=m["kind"],
        location=(m["lon"], m["lat"]),
        capacity_orders=m["capacity_orders"],
        capacity_units=m["capacity_units"],
        handling_cost_per_unit=m["handling_cost_per_unit"],
        opening_hours=m["opening_hours"],
        online=m["online"],
        channels=m["channels"],
        created_at=stamp(m["created_at"]),
        updated_at=stamp(m["updated_at"]),
    )


class RetryTransactionError(Exception):
    """A compare-and-set lost a race: the store runs the whole transaction again."""
