"""The outbox: every event is a row of ``routeplan_events`` written in the same transaction
as the change it reports, so an event exists exactly when its change was committed.

:func:`emit` also writes, in that same transaction, one delivery row for each active webhook
that subscribes to the event's type (unique per webhook and event), so no delivery is lost
or made twice whatever the delivery worker does. A webhook made later sees the events from
then on. Plain SQLAlchemy Core on the caller's connection: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.events import tables as et
from models.status import EventType

#: A webhook's ``events`` entry that subscribes to every type.
ALL_EVENTS = "*"
#: A delivery waiting for its first (or next) attempt.
PENDING = "pending"


def _subscribers(conn: Connection) -> list[tuple[str, set[str]]]:
    """The active webhooks: (id, the event types they want)."""
    w = et.webhooks.c
    rows = conn.execute(select(w.id, w.events).where(w.disabled_at.is_(None))).all()
    return [(row.id, set(row.events)) for row in rows]


def emit_many(
    conn: Connection, items: Sequence[tuple[EventType, Mapping[str, Any]]], now: datetime
) -> list[str]:
    """Append events ``(type, data)`` to the outbox, with a delivery row for each webhook
    that wants them; their ids, in order."""
    if not items:
        return []
    ids = [str(uuid.uuid4()) for _ in items]
    written = conn.execute(
        et.events.insert().returning(et.events.c.seq, sort_by_parameter_order=True),
        [
            {"id": event_id, "type": kind.value, "created_at": now, "data": dict(data)}
            for event_id, (kind, data) in zip(ids, items, strict=True)
        ],
    )
    seqs = list(written.scalars())
    hooks = _subscribers(conn)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "webhook_id": hook_id,
            "event_id": event_id,
            "event_seq": seq,
            "attempt": 0,
            "status": PENDING,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, seq, (kind, _data) in zip(ids, seqs, items, strict=True)
        for hook_id, wanted in hooks
        if ALL_EVENTS in wanted or kind.value in wanted
    ]
    if rows:
        conn.execute(et.deliveries.insert(), rows)
    return ids


def emit(conn: Connection, type: EventType, data: Mapping[str, Any], now: datetime) -> str:
    """Append one event to the outbox (in the caller's transaction); its id."""
    return emit_many(conn, [(type, data)], now)[0]
