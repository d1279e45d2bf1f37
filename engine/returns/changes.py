"""Returns on an open transaction: open one for a delivered order, move it through its
lifecycle (:mod:`engine.returns.lifecycle`), restock its goods, and read it back.

Every move checks the lifecycle table, changes the row by compare-and-set on its state (a
writer that lost the race runs its transaction again and finds the new state: 409), appends
a history entry (time, cause, actor, note) and emits ``return.status_changed`` through the
outbox, all in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from engine.book import ledger
from engine.book import orders as orders_sql
from engine.book import tables as bt
from engine.db import aware, stamp
from engine.events.outbox import emit
from engine.returns import lifecycle as lc
from engine.returns import tables as t
from models.book import StockMovementIn
from models.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from models.returns import (
    ReturnEvent,
    ReturnIn,
    ReturnLineRecord,
    ReturnPickup,
    ReturnRecord,
    ReturnStatus,
)
from models.status import EventType, OrderStatus, TransitionCause

#: The mean radius of the Earth, in kilometres.
_EARTH_KM = 6371.0


def body_hash(body: ReturnIn) -> str:
    """A digest of a return's content (what an idempotent replay must match)."""
    text = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def row(conn: Connection, return_id: str, *, lock: bool = False) -> Any:
    """The return's row (404 when there is none); ``lock`` takes its row lock (PostgreSQL)."""
    query = select(t.returns).where(t.returns.c.return_id == return_id)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).first()
    if found is None:
        raise NotFoundError(
            f"no return {return_id!r}",
            [{"field": "return_id", "value": return_id, "message": "unknown"}],
        )
    return found


def reread(conn: Connection, seq: int) -> Any:
    """The return row with this internal key (it exists)."""
    return conn.execute(select(t.returns).where(t.returns.c.seq == seq)).one()


def lines_of(conn: Connection, seq: int) -> list[ReturnLineRecord]:
    """The return's lines, in the order given."""
    c = t.return_lines.c
    rows = conn.execute(
        select(c.line_id, c.sku, c.quantity).where(c.return_seq == seq).order_by(c.position)
    ).all()
    return [ReturnLineRecord(line_id=a, sku=b, quantity=q) for a, b, q in rows]


def record(conn: Connection, found: Any) -> ReturnRecord:
    """A return row as the API shows it, with its lines and history."""
    m = found._mapping
    order_id, channel = conn.execute(
        select(bt.orders.c.order_id, bt.orders.c.channel).where(bt.orders.c.seq == m["order_seq"])
    ).one()
    h = t.history.c
    entries = conn.execute(select(t.history).where(h.return_seq == m["seq"]).order_by(h.id)).all()
    return ReturnRecord(
        id=m["return_id"],
        order_id=order_id,
        channel=channel,
        status=ReturnStatus(m["status"]),
        reason=m["reason"],
        site_id=m["site_id"],
        received_site_id=m["received_site_id"],
        location=(m["lon"], m["lat"]),
        lines=lines_of(conn, m["seq"]),
        pickup=ReturnPickup(
            plan_id=m["plan_id"],
            route_id=m["route_id"],
            stop_id=m["stop_id"],
            picked_up_at=aware(m["picked_up_at"]),
        ),
        created_at=stamp(m["created_at"]),
        updated_at=stamp(m["updated_at"]),
        created_by=m["created_by"],
        history=[
            ReturnEvent(
                at=stamp(e["at"]),
                event=e["event"],
                from_status=None if e["from_status"] is None else ReturnStatus(e["from_status"]),
                to_status=ReturnStatus(e["to_status"]),
                cause=e["cause"],
                actor=e["actor"],
                note=e["note"],
            )
            for e in (entry._mapping for entry in entries)
        ],
    )


def _history(
    conn: Connection,
    m: Any,
    event: str,
    from_status: ReturnStatus | None,
    to_status: ReturnStatus,
    cause: TransitionCause,
    actor: str | None,
    now: datetime,
    note: str | None,
) -> None:
    """Append one history entry; a change of state also emits ``return.status_changed``."""
    conn.execute(
        t.history.insert().values(
            return_seq=m["seq"],
            at=now,
            event=event,
            from_status=None if from_status is None else from_status.value,
            to_status=to_status.value,
            cause=cause.value,
            actor=actor,
            note=note,
        )
    )
    if event != "status":
        return
    order_id, channel = conn.execute(
        select(bt.orders.c.order_id, bt.orders.c.channel).where(bt.orders.c.seq == m["order_seq"])
    ).one()
    data = {
        "return_id": m["return_id"],
        "order_id": order_id,
        "channel": channel,
        "from": None if from_status is None else from_status.value,
        "to": to_status.value,
        "cause": cause.value,
        "note": note,
    }
    emit(conn, EventType.RETURN_STATUS_CHANGED, data, now)


def move(
    conn: Connection,
    found: Any,
    target: ReturnStatus,
    cause: TransitionCause,
    actor: str | None,
    now: datetime,
    note: str | None = None,
    **values: Any,
) -> Any:
    """Move the return of ``found`` to ``target`` (409 ``invalid_transition`` unless the
    table allows it), with its history entry and event; the row as it now is."""
    m = found._mapping
    current = ReturnStatus(m["status"])
    lc.check(m["return_id"], current, target)
    r = t.returns.c
    done = conn.execute(
        update(t.returns)
        .where(r.seq == m["seq"], r.status == current.value)
        .values(status=target.value, updated_at=now, **values)
    )
    if done.rowcount != 1:  # changed since it was read: do it all again on the new state
        raise ledger.RetryTransactionError()
    _history(conn, m, "status", current, target, cause, actor, now, note)
    return reread(conn, m["seq"])


def note_event(
    conn: Connection,
    found: Any,
    event: str,
    cause: TransitionCause,
    actor: str | None,
    now: datetime,
    note: str | None = None,
) -> None:
    """Keep something that happened to the return without a change of state (``picked_up``)."""
    m = found._mapping
    status = ReturnStatus(m["status"])
    _history(conn, m, event, status, status, cause, actor, now, note)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two [lon, lat] points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def nearest_site(sites: list[tuple[str, tuple[float, float]]], at: tuple[float, float]) -> str:
    """The id of the site nearest ``at`` (ties: the smallest id); ``sites`` is not empty."""
    return min(sites, key=lambda s: (_distance_km(s[1], at), s[0]))[0]


def shipping_site(conn: Connection, order: Any) -> str | None:
    """The site that shipped the order (the most units of its consumed reservations), else
    the book's site nearest its delivery location, else None."""
    res = bt.reservations.c
    shipped = conn.execute(
        select(res.site_id, func.sum(res.quantity))
        .where(res.order_seq == order["seq"], res.status == "consumed")
        .group_by(res.site_id)
    ).all()
    if shipped:
        return str(min(shipped, key=lambda s: (-int(s[1]), s[0]))[0])
    s = bt.sites.c
    sites = [(a, (lon, lat)) for a, lon, lat in conn.execute(select(s.site_id, s.lon, s.lat))]
    return nearest_site(sites, (order["lon"], order["lat"])) if sites else None


def returned_units(conn: Connection, order_seq: int) -> dict[str, int]:
    """Units of each order line already in the order's returns (rejected ones aside)."""
    r, c = t.returns.c, t.return_lines.c
    rows = conn.execute(
        select(c.line_id, func.sum(c.quantity))
        .join(t.returns, r.seq == c.return_seq)
        .where(r.order_seq == order_seq, r.status.in_([s.value for s in lc.COUNTED]))
        .group_by(c.line_id)
    ).all()
    return {line_id: int(units) for line_id, units in rows}


def _resolve_lines(conn: Connection, order_row: Any, body: ReturnIn) -> dict[str, tuple[str, int]]:
    """line id -> (sku, units going back) of the order's lines that ``body`` names; 422
    naming the line for an unknown line, a sku naming no or several lines, or more units
    than were delivered less those already returned."""
    order = order_row._mapping
    lines = {ln.id: ln for ln in orders_sql.record(conn, order_row).lines}
    wanted: dict[str, int] = defaultdict(int)
    first_index: dict[str, int] = {}
    for i, line in enumerate(body.lines):
        if line.line_id is not None:
            if line.line_id not in lines:
                raise InvalidInputError.for_field(
                    f"lines[{i}].line_id",
                    line.line_id,
                    f"is not a line of order {order['order_id']}",
                )
            if line.sku is not None and lines[line.line_id].sku != line.sku:
                raise InvalidInputError.for_field(
                    f"lines[{i}].sku", line.sku, f"is not the sku of line {line.line_id}"
                )
            line_id = line.line_id
        else:
            named = [ln.id for ln in lines.values() if ln.sku == line.sku]
            if len(named) != 1:
                why = (
                    "is on no line of the order"
                    if not named
                    else f"is on lines {named}: give line_id"
                )
                raise InvalidInputError.for_field(f"lines[{i}].sku", line.sku, why)
            line_id = named[0]
        wanted[line_id] += line.quantity
        first_index.setdefault(line_id, i)
    already = returned_units(conn, order["seq"])
    for line_id, units in wanted.items():
        delivered = lines[line_id].shipped
        left = delivered - already.get(line_id, 0)
        if units > left:
            raise InvalidInputError.for_field(
                f"lines[{first_index[line_id]}].quantity",
                units,
                f"is more than line {line_id} may return: {delivered} delivered, "
                f"{already.get(line_id, 0)} already returned, at most {max(left, 0)}",
            )
    return {line_id: (lines[line_id].sku, units) for line_id, units in wanted.items()}


def create(conn: Connection, body: ReturnIn, actor: str | None, now: datetime) -> Any:
    """Open a return (``requested``) for a delivered order; its row. 409 when the order is
    not delivered; 422 naming the line when a line asks too much (see :func:`_resolve_lines`)."""
    order_row = orders_sql.find(conn, body.order_id, body.channel, lock=True)
    order = order_row._mapping
    if order["status"] != OrderStatus.DELIVERED.value:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"order {order['order_id']!r} is {order['status']}; only a delivered order is returned",
            [{"field": "order_id", "value": order["order_id"], "message": "not delivered"}],
        )
    wanted = _resolve_lines(conn, order_row, body)
    seq = conn.execute(
        t.returns.insert()
        .values(
            return_id=f"ret_{uuid.uuid4().hex[:16]}",
            order_seq=order["seq"],
            status=ReturnStatus.REQUESTED.value,
            reason=body.reason,
            site_id=shipping_site(conn, order),
            lon=order["lon"],
            lat=order["lat"],
            created_at=now,
            updated_at=now,
            created_by=actor,
        )
        .returning(t.returns.c.seq)
    ).scalar_one()
    conn.execute(
        t.return_lines.insert(),
        [
            {"return_seq": seq, "line_id": line_id, "position": k, "sku": sku, "quantity": units}
            for k, (line_id, (sku, units)) in enumerate(wanted.items())
        ],
    )
    found = reread(conn, seq)
    m = found._mapping
    _history(
        conn,
        m,
        "status",
        None,
        ReturnStatus.REQUESTED,
        TransitionCause.API,
        actor,
        now,
        body.reason,
    )
    return found


def restock(
    conn: Connection, found: Any, actor: str | None, now: datetime, note: str | None
) -> Any:
    """Put a received return's units back on hand at its receiving site: one ``receipt``
    movement per line (reference ``return:<id>``, the order named), then ``restocked``."""
    m = found._mapping
    lc.check(m["return_id"], ReturnStatus(m["status"]), ReturnStatus.RESTOCKED)
    site_id = m["received_site_id"] or m["site_id"]
    for line in lines_of(conn, m["seq"]):
        movement = StockMovementIn(
            site_id=site_id,
            sku=line.sku,
            kind="receipt",
            quantity=line.quantity,
            reference=f"return:{m['return_id']}",
        )
        entry, _after = ledger.apply_movement(conn, movement, now, actor)
        conn.execute(
            update(bt.movements).where(bt.movements.c.id == entry).values(order_seq=m["order_seq"])
        )
    return move(conn, found, ReturnStatus.RESTOCKED, TransitionCause.API, actor, now, note)
