"""The order book's store: orders, payments, sites, the stock ledger, reservations, plans.

Every change is one transaction (:meth:`BookStore._write`): SQLite takes its write lock at
the start (``BEGIN IMMEDIATE``, so two writers never both read and then both write), and
PostgreSQL locks the order rows a change reads (``SELECT ... FOR UPDATE``) and takes stock
by conditional updates (:mod:`engine.book.ledger`). A transaction that loses a race (a
compare-and-set that no longer matches, a deadlock, a serialisation failure) runs again
from the start, a few times. A database that cannot be reached is a
:class:`StoreUnavailableError` (503); the schema is brought to the head of the migrations by
the first call that reaches it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.book import (
    capture,
    ledger,
    payments,
    planning,
    plans,
    records,
    replans,
    reservations,
)
from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.capture import body_hash, now_utc
from engine.book.payments import PAID, gateway
from engine.book.planning import Snapshot
from engine.db import (
    Breaker,
    Entry,
    ensure_schema,
    stamp,
    store_engines,
)
from engine.plan.replan import replan as replan_plan
from models.book import (
    BookOrderRef,
    BookSelection,
    CommitResult,
    OrderHistory,
    OrderIn,
    OrderPage,
    OrderRecord,
    PaymentUpdate,
    PlanRecord,
    Reservation,
    ReservationIn,
    SiteIn,
    SiteRecord,
    StockLevel,
    StockMovement,
    StockMovementIn,
    Transition,
)
from models.errors import (
    ConflictError,
    ErrorCode,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    StoreUnavailableError,
)
from models.plan import PlanResult
from models.replan import ReplanRequest
from models.status import HoldReason, OrderStatus, PaymentState, TransitionCause

T = TypeVar("T")
#: How many times a transaction that lost a race runs again.
RETRIES = 8
#: PostgreSQL's codes for a deadlock and a serialisation failure: try again.
_RETRY_SQLSTATES = {"40P01", "40001"}
#: What a failure to reach the book's database says.
_UNREACHABLE = "the order book's database is unreachable; retry later"
#: Most orders on one page of ``GET /v1/orders``.
MAX_PAGE = 500


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ledger.RetryTransactionError):
        return True
    if isinstance(error, DBAPIError):
        code = getattr(error.orig, "sqlstate", None)
        return code in _RETRY_SQLSTATES
    return False


class BookStore:
    """The order book in SQL (SQLite file by default, PostgreSQL by URL)."""

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
        self._guard = Entry(
            Breaker(retry_s, "the order book's database"),
            lambda: ensure_schema(self.engine, **self._timeouts),
            "the order book's database is unreachable; retry later",
        )
        self._timeouts = {
            "connect_timeout_s": connect_timeout_s,
            "statement_timeout_s": statement_timeout_s,
        }
        # reads never take SQLite's write lock; writes take it when they begin
        self.engine, self._writes = store_engines(
            url,
            **self._timeouts,
            unavailable="the order book's database is unreachable; retry later",
        )
        sqlite = self.engine.dialect.name == "sqlite"
        self._writer = threading.Lock() if sqlite else None
        self._wait_s = 2 * statement_timeout_s
        if not lazy:
            with self._read():
                pass

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for reading (one transaction, rolled back at the end)."""
        with self._guard(), self.engine.connect() as conn:
            yield conn

    def _write(self, change: Callable[[Connection], T]) -> T:
        """Run ``change`` in one transaction, committed when it returns; run it again when it
        lost a race. On SQLite the writers of this process take turns on a lock first (the
        database has one writer at a time anyway; waiting here, in line, spares them
        SQLite's busy loop, where one writer can starve past its timeout)."""
        with self._turn(), self._guard():
            for attempt in range(RETRIES):
                try:
                    with self._writes.begin() as conn:
                        return change(conn)
                except Exception as error:
                    if attempt == RETRIES - 1 or not _retryable(error):
                        raise
                    time.sleep(0.002 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=self._wait_s):
            raise StoreUnavailableError(
                f"the order book's database was busy for {self._wait_s:.0f} s; retry later"
            )
        try:
            yield
        finally:
            self._writer.release()

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self._read() as conn:
                conn.execute(select(1))
        except Exception:
            return False
        return True

    def close(self) -> None:
        """Close the connections."""
        self.engine.dispose()
        if self._writes is not self.engine:
            self._writes.dispose()

    # ------------------------------------------------------------------ orders

    def capture(
        self, order: OrderIn, *, actor: str | None = None, idempotency_key: str | None = None
    ) -> tuple[OrderRecord, bool]:
        """Store a new order (then ``ready`` or ``on_hold``); ``(order, created)``.

        With ``idempotency_key``, a replay with the same content returns the stored order
        (``created`` False); the same key with other content is 409 ``idempotency_conflict``.
        Without one, an id the channel already has is 409 ``order_exists``.
        """
        gateway(order.payment_gateway)
        digest = body_hash(order)
        scoped = None if idempotency_key is None else f"{actor or ''}:{idempotency_key}"
        order_id = order.id or f"ord_{uuid.uuid4().hex[:16]}"

        def change(conn: Connection) -> tuple[OrderRecord, bool]:
            if scoped is not None:
                seen = conn.execute(
                    select(t.idempotency).where(t.idempotency.c.key == scoped)
                ).first()
                if seen is not None:
                    return capture.replay(conn, seen, digest, idempotency_key or "")
            existing = conn.execute(
                select(t.orders).where(
                    t.orders.c.channel == order.channel, t.orders.c.order_id == order_id
                )
            ).first()
            if existing is not None:
                raise ConflictError(
                    ErrorCode.ORDER_EXISTS,
                    f"channel {order.channel!r} already has order {order_id!r}",
                    [{"field": "id", "value": order_id, "message": "already in the book"}],
                )
            row = capture.insert(conn, order, order_id, actor)
            if scoped is not None:
                conn.execute(
                    t.idempotency.insert().values(
                        key=scoped,
                        request_hash=digest,
                        order_seq=row._mapping["seq"],
                        created_at=now_utc(),
                    )
                )
            return orders_sql.record(conn, row), True

        try:
            return self._write(change)
        except IntegrityError:  # a concurrent capture of the same key or id won the race
            if scoped is None:
                raise ConflictError(
                    ErrorCode.ORDER_EXISTS,
                    f"channel {order.channel!r} already has order {order_id!r}",
                    [{"field": "id", "value": order_id, "message": "already in the book"}],
                ) from None
            with self._read() as conn:
                seen = conn.execute(
                    select(t.idempotency).where(t.idempotency.c.key == scoped)
                ).first()
                if seen is None:
                    raise
                return capture.replay(conn, seen, digest, idempotency_key or "")

    def capture_many(
        self, orders: list[OrderIn], *, actor: str | None = None
    ) -> list[tuple[OrderRecord, bool]]:
        """Store several orders in one transaction: all of them, or none; ``(order,
        created)`` each, in the order given.

        An order whose channel already has its id with the same content (location, address,
        lines, dates, priority, windows, service, shipping terms, gateway; not its payment,
        which moves on after capture) is a replay (``created`` False); with other content it
        is 409 ``order_exists``, one detail ``orders[i].id`` per such order, and nothing is
        stored.
        """
        for order in orders:
            gateway(order.payment_gateway)
        order_ids = [order.id or f"ord_{uuid.uuid4().hex[:16]}" for order in orders]

        def same(order: OrderIn, stored: OrderRecord) -> bool:
            keep = {"id", "payment_status", "payment_reference"}
            had = OrderIn.model_validate(
                {
                    "channel": stored.channel,
                    "location": stored.location,
                    "address": stored.address,
                    "lines": [
                        {"id": ln.id, "sku": ln.sku, "quantity": ln.quantity} for ln in stored.lines
                    ],
                    "placed_at": stored.placed_at,
                    "promised_date": stored.promised_date,
                    "priority": stored.priority,
                    "delivery_windows": stored.delivery_windows,
                    "service_s": stored.service_s,
                    "ship_complete": stored.ship_complete,
                    "max_shipments": stored.max_shipments,
                    "payment_gateway": stored.payment_gateway,
                }
            )
            return bool(order.model_dump(exclude=keep) == had.model_dump(exclude=keep))

        def change(conn: Connection) -> list[tuple[OrderRecord, bool]]:
            out: list[tuple[OrderRecord, bool]] = []
            clashes: list[dict[str, Any]] = []
            for i, (order, order_id) in enumerate(zip(orders, order_ids, strict=True)):
                existing = conn.execute(
                    select(t.orders).where(
                        t.orders.c.channel == order.channel, t.orders.c.order_id == order_id
                    )
                ).first()
                if existing is None:
                    row = capture.insert(conn, order, order_id, actor)
                    out.append((orders_sql.record(conn, row), True))
                    continue
                stored = orders_sql.record(conn, existing)
                if same(order, stored):
                    out.append((stored, False))
                else:
                    clashes.append(
                        {
                            "field": f"orders[{i}].id",
                            "value": order_id,
                            "message": f"channel {order.channel!r} already has this order "
                            "with other content",
                        }
                    )
            if clashes:
                names = ", ".join(repr(c["value"]) for c in clashes[:5])
                more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
                raise ConflictError(
                    ErrorCode.ORDER_EXISTS,
                    f"{len(clashes)} order(s) already in the book with other content: "
                    f"{names}{more}; nothing was stored",
                    clashes,
                )
            return out

        try:
            return self._write(change)
        except IntegrityError:  # a concurrent capture of one of the ids won the race
            return self._write(change)

    def get_order(self, order_id: str, channel: str | None = None) -> OrderRecord:
        """One order (404 when there is none)."""
        with self._read() as conn:
            return orders_sql.record(conn, orders_sql.find(conn, order_id, channel))

    def list_orders(
        self,
        *,
        status: OrderStatus | None = None,
        channel: str | None = None,
        site_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> OrderPage:
        """Orders, oldest first, ``limit`` per page; ``cursor`` is the previous page's
        ``next_cursor``."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError.for_field("limit", limit, f"is not between 1 and {MAX_PAGE}")
        after = records.cursor(cursor)
        o = t.orders.c
        query = select(t.orders).where(o.seq > after)
        if status is not None:
            query = query.where(o.status == status.value)
        if channel is not None:
            query = query.where(o.channel == channel)
        if site_id is not None:
            r = t.reservations.c
            held = select(r.order_seq).where(
                r.site_id == site_id, r.status.in_(["active", "consumed"])
            )
            query = query.where(o.seq.in_(held))
        with self._read() as conn:
            rows = conn.execute(query.order_by(o.seq).limit(limit + 1)).all()
            page = orders_sql.records(conn, rows[:limit])
        more = len(rows) > limit
        return OrderPage(
            orders=page, next_cursor=str(rows[limit - 1]._mapping["seq"]) if more else None
        )

    def history(self, order_id: str, channel: str | None = None) -> OrderHistory:
        """Every transition of an order, oldest first."""
        with self._read() as conn:
            row = orders_sql.find(conn, order_id, channel)
            tr = t.transitions.c
            rows = conn.execute(
                select(t.transitions).where(tr.order_seq == row._mapping["seq"]).order_by(tr.id)
            ).all()
        return OrderHistory(
            order_id=row._mapping["order_id"],
            channel=row._mapping["channel"],
            transitions=[
                Transition(
                    at=stamp(m["at"]),
                    from_status=OrderStatus(m["from_status"]) if m["from_status"] else None,
                    to_status=OrderStatus(m["to_status"]),
                    cause=TransitionCause(m["cause"]),
                    actor=m["actor"],
                    reason=m["reason"],
                )
                for m in (r._mapping for r in rows)
            ],
        )

    def set_payment(
        self,
        order_id: str,
        update_: PaymentUpdate,
        *,
        channel: str | None = None,
        actor: str | None = None,
    ) -> OrderRecord:
        """Record what the order's gateway says of its payment, and move the order: paid
        orders on hold for payment become ``ready``; a decline or refund before shipping
        puts the order on hold (its reservations given back)."""

        return self._write(
            lambda conn: payments.apply_payment(conn, order_id, channel, update_, actor)
        )

    def change_status(
        self,
        order_id: str,
        target: OrderStatus,
        *,
        channel: str | None = None,
        cause: TransitionCause = TransitionCause.API,
        actor: str | None = None,
        reason: str | None = None,
    ) -> OrderRecord:
        """Move an order to ``target`` as the lifecycle table allows (409 otherwise).

        ``ready`` needs a paid order and clears its warnings (a release from hold);
        ``on_hold`` is a manual hold; ``allocated`` and ``backordered`` come from plan
        commits only."""
        if target not in lc.DIRECT:
            allowed = ", ".join(sorted(s.value for s in lc.DIRECT))
            how = "by capture" if target is OrderStatus.RECEIVED else "by plan commits"
            raise InvalidInputError.for_field(
                "status", target.value, f"is set {how} only; ask for one of {allowed}"
            )

        def change(conn: Connection) -> OrderRecord:
            row = orders_sql.find(conn, order_id, channel, lock=True)
            m = row._mapping
            now = now_utc()
            extra: dict[str, Any] = {}
            hold = None
            unpaid = PaymentState(m["payment_status"]) not in PAID
            if target in (OrderStatus.READY, OrderStatus.SHIPPED) and unpaid:
                raise InvalidTransitionError(
                    m["order_id"],
                    m["status"],
                    target.value,
                    f"its payment is {m['payment_status']} (only authorised or captured "
                    "orders are planned and shipped)",
                )
            if target is OrderStatus.READY:
                extra["warnings"] = []
            if target is OrderStatus.ON_HOLD:
                hold = HoldReason.MANUAL
            row = orders_sql.move(
                conn,
                row,
                target,
                cause,
                actor,
                now,
                reason=reason,
                hold_reason=hold,
                detail=reason if hold else None,
                **extra,
            )
            return orders_sql.record(conn, row)

        return self._write(change)

    def cancel(
        self,
        order_id: str,
        *,
        channel: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> OrderRecord:
        """Cancel an order before it ships; its reservations are given back."""
        return self.change_status(
            order_id, OrderStatus.CANCELLED, channel=channel, actor=actor, reason=reason
        )

    # ------------------------------------------------------------------ sites and stock

    def put_site(self, site_id: str, site: SiteIn) -> tuple[SiteRecord, bool]:
        """Create or replace a site; ``(site, created)``."""

        def change(conn: Connection) -> tuple[SiteRecord, bool]:
            now = now_utc()
            values = {
                "kind": site.kind,
                "lon": site.location[0],
                "lat": site.location[1],
                "capacity_orders": site.capacity_orders,
                "capacity_units": site.capacity_units,
                "handling_cost_per_unit": site.handling_cost_per_unit,
                "opening_hours": [w.model_dump(mode="json") for w in site.opening_hours],
                "online": site.online,
                "channels": list(site.channels),
                "updated_at": now,
            }
            s = t.sites.c
            done = conn.execute(update(t.sites).where(s.site_id == site_id).values(**values))
            created = done.rowcount == 0
            if created:
                conn.execute(t.sites.insert().values(site_id=site_id, created_at=now, **values))
            return ledger.site_record(
                conn.execute(select(t.sites).where(s.site_id == site_id)).one()
            ), created

        try:
            return self._write(change)
        except IntegrityError:  # created at the same moment by another call: now an update
            return self._write(change)

    def get_site(self, site_id: str) -> SiteRecord:
        """One site (404 when there is none)."""
        with self._read() as conn:
            row = conn.execute(select(t.sites).where(t.sites.c.site_id == site_id)).first()
        if row is None:
            raise NotFoundError(
                f"no site {site_id!r}",
                [{"field": "site_id", "value": site_id, "message": "unknown"}],
            )
        return ledger.site_record(row)

    def list_sites(self) -> list[SiteRecord]:
        """Every site, by id."""
        with self._read() as conn:
            rows = conn.execute(select(t.sites).order_by(t.sites.c.site_id)).all()
        return [ledger.site_record(row) for row in rows]

    def move_stock(self, movement: StockMovementIn, *, actor: str | None = None) -> StockMovement:
        """Apply a receipt, adjustment or count (one ledger entry) and answer it."""

        def change(conn: Connection) -> StockMovement:
            records.known_site(conn, movement.site_id, "site_id")
            if (
                movement.kind == "adjustment"
                and movement.quantity < 0
                and ledger.balance(conn, movement.site_id, movement.sku) is None
            ):
                raise InvalidInputError.for_field(
                    "sku", movement.sku, f"has no stock at site {movement.site_id!r} to adjust"
                )
            entry, _after = ledger.apply_movement(conn, movement, now_utc(), actor)
            row = conn.execute(select(t.movements).where(t.movements.c.id == entry)).one()
            return records.movement(conn, row)

        return self._write(change)

    def set_safety_stock(self, site_id: str, sku: str, units: int) -> StockLevel:
        """Set how many units of a sku a site keeps back."""

        def change(conn: Connection) -> StockLevel:
            records.known_site(conn, site_id, "site_id", missing=NotFoundError)
            ledger.set_safety(conn, site_id, sku, units, now_utc())
            row = ledger.balance(conn, site_id, sku)
            return ledger.level(row)

        return self._write(change)

    def stock(self, *, site_id: str | None = None, sku: str | None = None) -> list[StockLevel]:
        """Stock levels, by site and sku."""
        s = t.stock.c
        query = select(t.stock)
        if site_id is not None:
            query = query.where(s.site_id == site_id)
        if sku is not None:
            query = query.where(s.sku == sku)
        with self._read() as conn:
            rows = conn.execute(query.order_by(s.site_id, s.sku)).all()
        return [ledger.level(row) for row in rows]

    def movements(
        self, *, site_id: str | None = None, sku: str | None = None, limit: int = 100
    ) -> list[StockMovement]:
        """The newest ledger entries first."""
        mv = t.movements.c
        query = select(t.movements)
        if site_id is not None:
            query = query.where(mv.site_id == site_id)
        if sku is not None:
            query = query.where(mv.sku == sku)
        with self._read() as conn:
            rows = conn.execute(query.order_by(mv.id.desc()).limit(limit)).all()
            return [records.movement(conn, row) for row in rows]

    def ledger_mismatches(self) -> list[dict[str, Any]]:
        """Balances that differ from their ledger and reservations (none: it balances)."""
        with self._read() as conn:
            return ledger.mismatches(conn)

    # ------------------------------------------------------------------ reservations

    def reserve(self, want: ReservationIn, *, actor: str | None = None) -> Reservation:
        """Hold units of a site's stock for an order line: 409 ``insufficient_stock`` (with
        what is available) when they are not there."""

        return self._write(lambda conn: reservations.reserve(conn, want, actor))

    def release(self, reservation_id: str, *, actor: str | None = None) -> Reservation:
        """Give an active reservation's units back (a released or consumed one is 409); an
        allocated order left with none becomes ``ready`` again."""

        return self._write(lambda conn: reservations.release(conn, reservation_id, actor))

    def list_reservations(
        self,
        *,
        order_id: str | None = None,
        channel: str | None = None,
        site_id: str | None = None,
        status: str | None = None,
        limit: int = 500,
    ) -> list[Reservation]:
        """Reservations, oldest first: of one order, one site, in one status."""
        r = t.reservations.c
        query = select(r.id).order_by(r.created_at, r.id).limit(limit)
        with self._read() as conn:
            if order_id is not None:
                seq = orders_sql.find(conn, order_id, channel)._mapping["seq"]
                query = query.where(r.order_seq == seq)
            if site_id is not None:
                query = query.where(r.site_id == site_id)
            if status is not None:
                query = query.where(r.status == status)
            ids = conn.execute(query).scalars().all()
            return [records.reservation(conn, reservation_id) for reservation_id in ids]

    def get_reservation(self, reservation_id: str) -> Reservation:
        """One reservation (404 when there is none)."""
        with self._read() as conn:
            return records.reservation(conn, reservation_id)

    # ------------------------------------------------------------------ plans

    def plan_snapshot(self, selection: BookSelection) -> Snapshot:
        """The orders, sites and stock a plan from the book takes, read at one instant."""
        with self._read() as conn:
            return planning.snapshot(conn, selection)

    def save_plan(
        self,
        source: str,
        request: dict[str, Any],
        result: PlanResult,
        refs: list[BookOrderRef] | None = None,
        *,
        actor: str | None = None,
    ) -> PlanRecord:
        """Store a plan as a draft; the stored plan."""
        plan_id = str(uuid.uuid4())
        rows = [ref.model_dump() for ref in refs or []]

        def change(conn: Connection) -> PlanRecord:
            plans.insert(conn, plan_id, source, request, result, rows, now_utc(), actor)
            return plans.record(conn, plan_id)

        return self._write(change)

    def replan(
        self,
        plan_id: str,
        body: ReplanRequest,
        *,
        actor: str | None = None,
        matrix_cache_dir: Path | None = None,
    ) -> PlanRecord:
        """Re-plan a committed plan at ``body.at`` and store the new draft (see
        :mod:`engine.plan.replan`); commit it as any plan."""
        with self._read() as conn:
            inp, new_refs = replans.replan_input(conn, plan_id, body)
            parent = plans.plan_row(conn, plan_id)._mapping
        result = replan_plan(inp, matrix_cache_dir=matrix_cache_dir)
        kept = [r for r in parent["book_orders"] if r["plan_order_id"] not in inp.cancelled]
        refs = [BookOrderRef.model_validate(r) for r in kept + new_refs]
        request = {
            "replan": body.model_dump(mode="json"),
            "book": replans.book_body(parent["source"], parent["request"]).model_dump(mode="json"),
        }
        return self.save_plan("replan", request, result, refs, actor=actor)

    def get_plan(self, plan_id: str) -> PlanRecord:
        """A stored plan (404 when there is none)."""
        with self._read() as conn:
            return plans.record(conn, plan_id)

    def plan_summaries(
        self, status: str | None, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of stored plans, newest first (:func:`engine.book.plans.summaries`)."""
        with self._read() as conn:
            return plans.summaries(conn, status, cursor, limit)

    def commit_plan(self, plan_id: str, *, actor: str | None = None) -> CommitResult:
        """Reserve all of a draft plan's stock and move its orders, or nothing
        (409 ``stale_plan``): see :mod:`engine.book.plans`."""
        return self._write(lambda conn: replans.commit_any(conn, plan_id, now_utc(), actor))
