"""Returns over the order book's store: every change one transaction of the book
(:meth:`engine.book.store.BookStore._write`: SQLite's write lock taken at the start,
PostgreSQL's rows locked, a change that lost a race run again), the conn-level work in
:mod:`engine.returns.changes`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from engine.book import records as book_records
from engine.book import tables as bt
from engine.book.capture import now_utc
from engine.book.store import BookStore
from engine.returns import changes
from engine.returns import tables as t
from models.errors import ConflictError, ErrorCode, InvalidInputError
from models.returns import ReturnIn, ReturnPage, ReturnRecord, ReturnStatus
from models.status import TransitionCause

#: Most returns on one page of ``GET /v1/returns``.
MAX_PAGE = 500
_API = TransitionCause.API


class ReturnsStore:
    """Returns of one order book (the server's store, or any :class:`BookStore`)."""

    def __init__(self, book: BookStore) -> None:
        self.book = book

    def _replay(self, conn: Connection, seen: Any, digest: str, key: str) -> ReturnRecord:
        if seen._mapping["request_hash"] != digest:
            raise ConflictError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                f"Idempotency-Key {key!r} was used for a different return body",
                [{"field": "Idempotency-Key", "value": key, "message": "used with another body"}],
            )
        return changes.record(conn, changes.reread(conn, seen._mapping["return_seq"]))

    def create(
        self, body: ReturnIn, *, actor: str | None = None, idempotency_key: str | None = None
    ) -> tuple[ReturnRecord, bool]:
        """Open a return for a delivered order; ``(return, created)``. With
        ``idempotency_key``, a replay with the same body answers the stored return
        (``created`` False); the same key with another body is 409 ``idempotency_conflict``."""
        digest = changes.body_hash(body)
        scoped = None if idempotency_key is None else f"{actor or ''}:{idempotency_key}"
        key = idempotency_key or ""

        def seen(conn: Connection) -> Any:
            return conn.execute(select(t.idempotency).where(t.idempotency.c.key == scoped)).first()

        def change(conn: Connection) -> tuple[ReturnRecord, bool]:
            if scoped is not None and (before := seen(conn)) is not None:
                return self._replay(conn, before, digest, key), False
            found = changes.create(conn, body, actor, now_utc())
            if scoped is not None:
                conn.execute(
                    t.idempotency.insert().values(
                        key=scoped,
                        request_hash=digest,
                        return_seq=found._mapping["seq"],
                        created_at=now_utc(),
                    )
                )
            return changes.record(conn, found), True

        try:
            return self.book._write(change)
        except IntegrityError:  # a concurrent request with the same key won the race
            if scoped is None:
                raise
            with self.book._read() as conn:
                before = seen(conn)
                if before is None:
                    raise
                return self._replay(conn, before, digest, key), False

    def get(self, return_id: str) -> ReturnRecord:
        """One return with its history (404 when there is none)."""
        with self.book._read() as conn:
            return changes.record(conn, changes.row(conn, return_id))

    def list_returns(
        self,
        *,
        status: ReturnStatus | None = None,
        order_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> ReturnPage:
        """Returns, oldest first, ``limit`` per page; ``cursor`` is the previous page's
        ``next_cursor``."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError.for_field("limit", limit, f"is not between 1 and {MAX_PAGE}")
        after = book_records.cursor(cursor)
        r = t.returns.c
        query = select(t.returns).where(r.seq > after)
        if status is not None:
            query = query.where(r.status == status.value)
        with self.book._read() as conn:
            if order_id is not None:
                o = bt.orders.c
                seqs = select(o.seq).where(o.order_id == order_id)
                query = query.where(r.order_seq.in_(seqs))
            rows = conn.execute(query.order_by(r.seq).limit(limit + 1)).all()
            page = [changes.record(conn, row) for row in rows[:limit]]
        more = len(rows) > limit
        return ReturnPage(
            returns=page, next_cursor=str(rows[limit - 1]._mapping["seq"]) if more else None
        )

    def _move(
        self,
        return_id: str,
        target: ReturnStatus,
        actor: str | None,
        note: str | None,
        **values: Any,
    ) -> ReturnRecord:
        def change(conn: Connection) -> ReturnRecord:
            found = changes.row(conn, return_id, lock=True)
            moved = changes.move(conn, found, target, _API, actor, now_utc(), note, **values)
            return changes.record(conn, moved)

        return self.book._write(change)

    def approve(
        self, return_id: str, *, actor: str | None = None, note: str | None = None
    ) -> ReturnRecord:
        """``requested`` → ``approved``: the next plan from the book collects it."""
        return self._move(return_id, ReturnStatus.APPROVED, actor, note)

    def reject(
        self, return_id: str, *, actor: str | None = None, note: str | None = None
    ) -> ReturnRecord:
        """``requested`` → ``rejected`` (final; its units may be asked for again)."""
        return self._move(return_id, ReturnStatus.REJECTED, actor, note)

    def receive(
        self,
        return_id: str,
        *,
        site_id: str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> ReturnRecord:
        """The goods are at ``site_id`` (default: the return's site): ``received``."""

        def change(conn: Connection) -> ReturnRecord:
            found = changes.row(conn, return_id, lock=True)
            site = site_id or found._mapping["site_id"]
            if site is None:
                raise InvalidInputError.for_field(
                    "site_id", None, "is needed: the return has no site of its own"
                )
            book_records.known_site(conn, site, "site_id")
            moved = changes.move(
                conn,
                found,
                ReturnStatus.RECEIVED,
                _API,
                actor,
                now_utc(),
                note or f"at site {site}",
                received_site_id=site,
            )
            return changes.record(conn, moved)

        return self.book._write(change)

    def restock(
        self, return_id: str, *, actor: str | None = None, note: str | None = None
    ) -> ReturnRecord:
        """``received`` → ``restocked``: its units back on hand at the receiving site."""

        def change(conn: Connection) -> ReturnRecord:
            found = changes.row(conn, return_id, lock=True)
            return changes.record(conn, changes.restock(conn, found, actor, now_utc(), note))

        return self.book._write(change)

    def dispose(
        self, return_id: str, *, actor: str | None = None, note: str | None = None
    ) -> ReturnRecord:
        """``received`` → ``disposed``: thrown away; no stock movement."""
        return self._move(return_id, ReturnStatus.DISPOSED, actor, note)
