"""The store of events and webhooks: subscriptions, the outbox read back, and the deliveries
the worker (:mod:`engine.events.delivery`) claims and settles.

A claim is exclusive: on PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED``
(another worker takes the next ones), on SQLite the claiming transaction holds the write
lock (``BEGIN IMMEDIATE``); on both, the claim itself is a compare-and-set on the delivery's
``attempt``, which it counts up, and it moves ``next_attempt_at`` a lease ahead, so that a
worker that dies mid-try leaves its deliveries to be claimed again when the lease ends.
Settling a try is a compare-and-set on the same ``attempt``, with its row in the attempts
log, in one transaction. Everything is in the database: a restarted server carries on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.db import (
    Breaker,
    Entry,
    aware,
    ensure_schema,
    stamp,
    store_engines,
)
from engine.events import tables as et
from models.errors import NotFoundError
from models.events import Attempt, Delivery, DeliveryList, Event, EventPage, Webhook, WebhookIn

#: Deliveries a worker may claim (when due).
CLAIMABLE = ("pending", "failed")
#: Most rows of one page of events or deliveries.
MAX_PAGE = 1000
_UNAVAILABLE = "the events' database is unreachable; retry later"


def now_utc() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    """A delivery taken by one worker for one try: where to POST what, and with which key."""

    delivery_id: str
    attempt: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


def event_body(event: Event) -> bytes:
    """The body a webhook receives: ``{id, type, created_at, data}`` as compact JSON."""
    document = event.model_dump(mode="json", exclude={"seq"})
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _event(row: Any) -> Event:
    m = row._mapping
    return Event(
        id=m["id"], seq=m["seq"], type=m["type"], created_at=stamp(m["created_at"]), data=m["data"]
    )


def _webhook(row: Any) -> Webhook:
    m = row._mapping
    return Webhook(
        id=m["id"],
        url=m["url"],
        events=m["events"],
        created_at=stamp(m["created_at"]),
        disabled_at=aware(m["disabled_at"]),
        created_by=m["created_by"],
    )


class EventStore:
    """Webhooks, the outbox and deliveries in SQL (the database of the order book)."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 3.0,
        statement_timeout_s: float = 5.0,
        retry_s: float = 1.0,
        lazy: bool = False,
    ) -> None:
        self.url = url
        timeouts = {
            "connect_timeout_s": connect_timeout_s,
            "statement_timeout_s": statement_timeout_s,
        }
        self.engine, self._writes = store_engines(url, **timeouts, unavailable=_UNAVAILABLE)
        self._guard = Entry(
            Breaker(retry_s, "the events' database"),
            lambda: ensure_schema(self.engine, **timeouts),
            _UNAVAILABLE,
        )
        if not lazy:
            with self._read():
                pass

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._guard(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._guard(), self._writes.begin() as conn:
            yield conn

    def close(self) -> None:
        """Close the connections."""
        self.engine.dispose()
        if self._writes is not self.engine:
            self._writes.dispose()

    # ------------------------------------------------------------------ webhooks

    def create_webhook(self, hook: WebhookIn, *, actor: str | None = None) -> Webhook:
        """Store a new webhook; it receives the events emitted from now on."""
        hook_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(
                et.webhooks.insert().values(
                    id=hook_id,
                    url=hook.url,
                    events=[str(kind) for kind in hook.events],
                    secret=hook.secret,
                    created_at=now_utc(),
                    created_by=actor,
                )
            )
        return self.get_webhook(hook_id)

    def _hook_row(self, conn: Connection, hook_id: str) -> Any:
        row = conn.execute(select(et.webhooks).where(et.webhooks.c.id == hook_id)).first()
        if row is None:
            raise NotFoundError(
                f"no webhook {hook_id!r}", [{"field": "id", "value": hook_id, "message": "none"}]
            )
        return row

    def get_webhook(self, hook_id: str) -> Webhook:
        """One webhook (404 when there is none)."""
        with self._read() as conn:
            return _webhook(self._hook_row(conn, hook_id))

    def list_webhooks(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        w = et.webhooks.c
        with self._read() as conn:
            rows = conn.execute(select(et.webhooks).order_by(w.created_at, w.id)).all()
        return [_webhook(row) for row in rows]

    def disable_webhook(self, hook_id: str) -> Webhook:
        """Stop a webhook: it gets no new events, and its unfinished deliveries are ``dead``
        (404 when there is none; disabling twice keeps the first time)."""
        now = now_utc()
        w, d = et.webhooks.c, et.deliveries.c
        with self._write() as conn:
            self._hook_row(conn, hook_id)
            conn.execute(
                update(et.webhooks)
                .where(w.id == hook_id, w.disabled_at.is_(None))
                .values(disabled_at=now)
            )
            conn.execute(
                update(et.deliveries)
                .where(d.webhook_id == hook_id, d.status.in_(CLAIMABLE))
                .values(status="dead", error="the webhook was disabled")
            )
        return self.get_webhook(hook_id)

    def deliveries(self, hook_id: str, limit: int = 100) -> DeliveryList:
        """A webhook's deliveries, newest first, each with its tries (404: no webhook)."""
        d, a, e = et.deliveries.c, et.attempts.c, et.events.c
        with self._read() as conn:
            self._hook_row(conn, hook_id)
            rows = conn.execute(
                select(et.deliveries, e.type.label("event_type"))
                .join(et.events, e.seq == d.event_seq)
                .where(d.webhook_id == hook_id)
                .order_by(d.event_seq.desc())
                .limit(min(limit, MAX_PAGE))
            ).all()
            ids = [row.id for row in rows]
            tries: dict[str, list[Attempt]] = {key: [] for key in ids}
            if ids:
                for row in conn.execute(
                    select(et.attempts).where(a.delivery_id.in_(ids)).order_by(a.id)
                ).all():
                    tries[row.delivery_id].append(
                        Attempt(
                            attempt=row.attempt,
                            at=stamp(row.at),
                            http_status=row.http_status,
                            error=row.error,
                            duration_ms=row.duration_ms,
                        )
                    )
        return DeliveryList(
            webhook_id=hook_id,
            deliveries=[
                Delivery(
                    id=row.id,
                    webhook_id=row.webhook_id,
                    event_id=row.event_id,
                    event_type=row.event_type,
                    status=row.status,
                    attempt=row.attempt,
                    http_status=row.http_status,
                    error=row.error,
                    next_attempt_at=(
                        aware(row.next_attempt_at) if row.status in CLAIMABLE else None
                    ),
                    created_at=stamp(row.created_at),
                    delivered_at=aware(row.delivered_at),
                    attempts=tries[row.id],
                )
                for row in rows
            ],
        )

    # ------------------------------------------------------------------ the outbox

    def events(self, after: int = 0, limit: int = 100) -> EventPage:
        """The events after ``seq`` ``after``, oldest first."""
        e = et.events.c
        with self._read() as conn:
            rows = conn.execute(
                select(et.events).where(e.seq > after).order_by(e.seq).limit(min(limit, MAX_PAGE))
            ).all()
        found = [_event(row) for row in rows]
        return EventPage(events=found, next_after=found[-1].seq if found else after)

    def event_seq(self, event_id: str) -> int | None:
        """The place in the outbox of the event ``event_id`` (None: no such event)."""
        with self._read() as conn:
            seq = conn.execute(select(et.events.c.seq).where(et.events.c.id == event_id)).scalar()
        return None if seq is None else int(seq)

    def last_seq(self) -> int:
        """The place of the newest event (0: none yet)."""
        with self._read() as conn:
            seq = conn.execute(select(et.events.c.seq).order_by(et.events.c.seq.desc())).scalar()
        return 0 if seq is None else int(seq)

    # ------------------------------------------------------------------ the worker's side

    def claim(self, now: datetime, batch: int, lease_s: float) -> list[Claim]:
        """Take up to ``batch`` due deliveries of active webhooks for one try each (counted
        now); no other worker gets them until ``lease_s`` has passed."""
        d, w, e = et.deliveries.c, et.webhooks.c, et.events.c
        with self._write() as conn:
            due = conn.execute(
                select(d.id, d.attempt)
                .where(
                    d.status.in_(CLAIMABLE),
                    d.next_attempt_at <= now,
                    d.webhook_id.in_(select(w.id).where(w.disabled_at.is_(None))),
                )
                .order_by(d.next_attempt_at, d.event_seq)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            taken: dict[str, int] = {}
            for delivery_id, attempt in due:
                done = conn.execute(
                    update(et.deliveries)
                    .where(
                        d.id == delivery_id,
                        d.attempt == attempt,
                        d.status.in_(CLAIMABLE),
                        d.next_attempt_at <= now,
                    )
                    .values(attempt=attempt + 1, next_attempt_at=now + timedelta(seconds=lease_s))
                )
                if done.rowcount == 1:
                    taken[delivery_id] = attempt + 1
            if not taken:
                return []
            rows = conn.execute(
                select(
                    d.id.label("delivery_id"),
                    w.url,
                    w.secret,
                    e.seq,
                    e.id,
                    e.type,
                    e.created_at,
                    e.data,
                )
                .select_from(et.deliveries)
                .join(et.webhooks, w.id == d.webhook_id)
                .join(et.events, e.seq == d.event_seq)
                .where(d.id.in_(list(taken)))
                .order_by(d.event_seq)
            ).all()
        claims = []
        for row in rows:
            event = _event(row)
            claims.append(
                Claim(
                    delivery_id=row.delivery_id,
                    attempt=taken[row.delivery_id],
                    url=row.url,
                    secret=row.secret,
                    event_id=event.id,
                    event_type=event.type.value,
                    body=event_body(event),
                )
            )
        return claims

    def settle(
        self,
        claim: Claim,
        *,
        http_status: int | None,
        error: str | None,
        duration_ms: int,
        now: datetime,
        max_attempts: int,
        backoff_s: Callable[[int], float],
    ) -> str:
        """Record one try of a claimed delivery; its status afterwards (``delivered``, or
        ``failed`` with the next try due after ``backoff_s(attempt)``, or ``dead`` after
        ``max_attempts``). A claim that lapsed meanwhile (taken again, or the webhook
        disabled) only logs its try."""
        d = et.deliveries.c
        delivered = error is None
        if delivered:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": now}
        elif claim.attempt >= max_attempts:
            values = {"status": "dead"}
        else:
            due = now + timedelta(seconds=backoff_s(claim.attempt))
            values = {"status": "failed", "next_attempt_at": due}
        with self._write() as conn:
            conn.execute(
                et.attempts.insert().values(
                    delivery_id=claim.delivery_id,
                    attempt=claim.attempt,
                    at=now,
                    http_status=http_status,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            done = conn.execute(
                update(et.deliveries)
                .where(
                    d.id == claim.delivery_id,
                    d.attempt == claim.attempt,
                    d.status.in_(CLAIMABLE),
                )
                .values(http_status=http_status, error=error, **values)
            )
            if done.rowcount == 1:
                return str(values["status"])
            status = conn.execute(select(d.status).where(d.id == claim.delivery_id)).scalar()
        return str(status)
