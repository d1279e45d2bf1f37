"""The outbox: events are written in the transaction of their change (a rolled-back change
leaves none), and each is fanned out once to every webhook that wants it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError

from engine.book.store import BookStore
from engine.events import tables as et
from engine.events.outbox import emit, emit_many
from engine.events.store import EventStore
from models.book import OrderIn, StockMovementIn
from models.errors import ConflictError
from models.events import WebhookIn
from models.status import EventType
from tests.engine.book.conftest import Book

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
SECRET = "whsec-0123456789abcdef"


def _count(url: str, table: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _hook(store: EventStore, events: list[str]) -> str:
    made = store.create_webhook(
        WebhookIn.model_validate(
            {"url": "http://127.0.0.1:9/h", "events": events, "secret": SECRET}
        )
    )
    return made.id


def test_a_rolled_back_transaction_leaves_no_event(url: str, store: EventStore) -> None:
    _hook(store, ["*"])
    engine = create_engine(url)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            emit(conn, EventType.ORDER_CREATED, {"order_id": "1"}, NOW)
            raise RuntimeError("the change failed after its event")
        with engine.begin() as conn:
            kept = emit(conn, EventType.ORDER_CREATED, {"order_id": "2"}, NOW)
    finally:
        engine.dispose()
    page = store.events()
    assert [event.id for event in page.events] == [kept]
    assert page.events[0].data == {"order_id": "2"}
    assert _count(url, et.deliveries) == 1


def test_a_captured_order_emits_its_transitions_then_created(store: EventStore) -> None:
    book = BookStore(store.url)
    try:
        book.capture(
            OrderIn.model_validate(
                {
                    "id": "o-1",
                    "channel": "web",
                    "location": [4.9, 52.3],
                    "lines": [{"id": "1", "sku": "mug", "quantity": 2}],
                }
            )
        )
        with pytest.raises(ConflictError):  # the same id again: refused, so no event
            book.capture(
                OrderIn.model_validate(
                    {
                        "id": "o-1",
                        "channel": "web",
                        "location": [4.9, 52.3],
                        "lines": [{"id": "1", "sku": "mug", "quantity": 2}],
                    }
                )
            )
    finally:
        book.close()
    events = store.events().events
    assert [(e.type, e.data.get("from"), e.data.get("to")) for e in events] == [
        (EventType.ORDER_STATUS_CHANGED, None, "received"),
        (EventType.ORDER_STATUS_CHANGED, "received", "on_hold"),
        (EventType.ORDER_CREATED, None, None),
    ]
    assert events[1].data == {
        "order_id": "o-1",
        "channel": "web",
        "from": "received",
        "to": "on_hold",
        "cause": "capture",
        "reason": "payment_pending",
    }
    assert events[2].data["order_id"] == "o-1" and events[2].data["status"] == "on_hold"
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert len({e.id for e in events}) == 3


def test_a_stale_commit_leaves_no_event_and_a_good_one_emits_its_moves(
    store: EventStore,
) -> None:
    """A plan commit refused as stale rolls back with nothing emitted; a good commit emits
    each order's move to ``allocated`` and ``plan.committed`` with what it reserved."""
    book = Book(BookStore(store.url))
    try:
        book.site()
        book.receive("mug", 2)
        book.order("o-1", "mug", 2)
        stale, _ = book.plan()
        book.store.move_stock(StockMovementIn(site_id="w1", sku="mug", quantity=1, kind="count"))
        before = store.last_seq()
        with pytest.raises(ConflictError):
            book.store.commit_plan(stale.id)
        assert store.last_seq() == before
        book.receive("mug", 1)
        fresh, _ = book.plan()
        book.store.commit_plan(fresh.id)
    finally:
        book.store.close()
    events = store.events(after=before).events
    assert [(e.type, e.data.get("to")) for e in events] == [
        (EventType.ORDER_STATUS_CHANGED, "allocated"),
        (EventType.PLAN_COMMITTED, None),
    ]
    assert events[0].data["order_id"] == "o-1" and events[0].data["cause"] == "plan_commit"
    assert events[1].data == {"plan_id": fresh.id, "orders": 1, "units": 2}


def test_fan_out_writes_one_delivery_per_wanting_hook(url: str, store: EventStore) -> None:
    every = _hook(store, ["*"])
    plans_only = _hook(store, ["plan.committed"])
    gone = _hook(store, ["*"])
    store.disable_webhook(gone)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            ids = emit_many(
                conn,
                [
                    (EventType.ORDER_CREATED, {"order_id": "1"}),
                    (EventType.PLAN_COMMITTED, {"plan_id": "p", "orders": 1, "units": 2}),
                ],
                NOW,
            )
        with engine.connect() as conn:
            pairs = set(
                conn.execute(select(et.deliveries.c.webhook_id, et.deliveries.c.event_id)).all()
            )
        assert pairs == {(every, ids[0]), (every, ids[1]), (plans_only, ids[1])}
        with pytest.raises(IntegrityError), engine.begin() as conn:  # never twice
            conn.execute(
                et.deliveries.insert().values(
                    id="another",
                    webhook_id=every,
                    event_id=ids[0],
                    event_seq=1,
                    attempt=0,
                    status="pending",
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
            )
    finally:
        engine.dispose()


def test_a_webhook_made_later_gets_only_later_events(url: str, store: EventStore) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            emit(conn, EventType.ORDER_CREATED, {"order_id": "before"}, NOW)
        hook = _hook(store, ["*"])
        with engine.begin() as conn:
            after = emit(conn, EventType.ORDER_CREATED, {"order_id": "after"}, NOW)
    finally:
        engine.dispose()
    assert [d.event_id for d in store.deliveries(hook).deliveries] == [after]


def test_the_migrated_tables_are_there(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    EventStore(url).close()  # migrates on first contact
    assert _count(url, et.events) == 0 and _count(url, et.webhooks) == 0
