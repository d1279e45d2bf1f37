"""Concurrent writers on one real database, each with a store (and connection pool) of its
own: reservations never take a unit twice, and of two plans that need the same last units
exactly one commits."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from engine.book.store import BookStore
from models.book import OrderIn, OrderLineIn, ReservationIn, StockMovementIn
from models.errors import ConflictError, ErrorCode
from models.status import OrderStatus
from tests.engine.book.conftest import CUSTOMER_AT, Book, assert_balanced

THREADS = 50
UNITS = 20


def _race(stores: list[BookStore], work: Callable[[int, BookStore], Any]) -> list[Any]:
    """Run ``work(i, stores[i])`` in one thread per store, all released at once; each
    thread's answer, or the exception it raised."""
    barrier = threading.Barrier(len(stores))
    answers: list[Any] = [None] * len(stores)

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            answers[i] = work(i, stores[i])
        except Exception as error:  # the test counts the outcomes
            answers[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def _code(answer: Any) -> str:
    return answer.code.value if isinstance(answer, ConflictError) else type(answer).__name__


def test_fifty_reservers_take_exactly_the_stock(url: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", UNITS + 3)
    book.store.set_safety_stock("w1", "A", 3)  # 20 available
    for i in range(THREADS):
        book.order(f"o{i}", "A")
    stores = [BookStore(url) for _ in range(THREADS)]
    try:
        answers = _race(
            stores,
            lambda i, store: store.reserve(
                ReservationIn(order_id=f"o{i}", line_id="l1", site_id="w1", sku="A", quantity=1)
            ),
        )
    finally:
        for store in stores:
            store.close()
    outcomes = Counter("reserved" if not isinstance(a, Exception) else _code(a) for a in answers)
    assert outcomes == {"reserved": UNITS, "insufficient_stock": THREADS - UNITS}, answers
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved, level.available) == (UNITS + 3, UNITS, 0)
    held = sum(o.lines[0].reserved for o in book.store.list_orders(limit=100).orders)
    assert held == UNITS
    assert_balanced(book.store)
    book.store.close()


def test_two_plans_for_the_last_units_commit_once(url: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", 3)
    book.order("x1", "A", 3, channel="east")
    book.order("y1", "A", 3, channel="west")
    plans = [book.plan(channels=["east"])[0], book.plan(channels=["west"])[0]]
    for saved in plans:  # each plan, made alone, ships its order in full
        assert [s.order_id for s in saved.allocation.shipments] == [saved.book_orders[0].order_id]
        assert saved.allocation.unfulfilled == []
    stores = [BookStore(url) for _ in plans]
    try:
        answers = _race(stores, lambda i, store: store.commit_plan(plans[i].id))
    finally:
        for store in stores:
            store.close()
    won = [i for i, a in enumerate(answers) if not isinstance(a, Exception)]
    lost = [i for i, a in enumerate(answers) if isinstance(a, Exception)]
    assert len(won) == 1 and len(lost) == 1, answers
    error = answers[lost[0]]
    assert isinstance(error, ConflictError) and error.code is ErrorCode.STALE_PLAN
    [short] = error.details
    assert (short["site_id"], short["sku"], short["needed"], short["available"]) == (
        "w1",
        "A",
        3,
        0,
    )
    winner, loser = plans[won[0]], plans[lost[0]]
    assert book.store.get_plan(winner.id).status == "committed"
    assert book.store.get_plan(loser.id).status == "draft"
    served = book.store.get_order(winner.book_orders[0].order_id)
    waiting = book.store.get_order(loser.book_orders[0].order_id)
    assert served.status is OrderStatus.ALLOCATED and served.plan_id == winner.id
    assert waiting.status is OrderStatus.READY and waiting.lines[0].reserved == 0
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved, level.available) == (3, 3, 0)
    assert_balanced(book.store)
    book.store.close()


def test_concurrent_replays_of_one_key_store_one_order(url: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", 5)
    body = OrderIn(
        id="o1",
        location=CUSTOMER_AT,
        lines=[OrderLineIn(id="l1", sku="A", quantity=1)],
        payment_status="authorised",
    )
    stores = [BookStore(url) for _ in range(10)]
    try:
        answers = _race(stores, lambda i, store: store.capture(body, idempotency_key="k-1"))
    finally:
        for store in stores:
            store.close()
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert sorted(created for _, created in answers) == [False] * 9 + [True]
    assert {record.id for record, _ in answers} == {"o1"}
    assert [o.id for o in book.store.list_orders().orders] == ["o1"]
    book.store.close()


def test_concurrent_captures_of_one_id_store_one_order(url: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", 5)
    stores = [BookStore(url) for _ in range(10)]
    try:
        answers = _race(stores, lambda i, store: store.capture(_body("o1", i + 1)))
    finally:
        for store in stores:
            store.close()
    outcomes = Counter("stored" if not isinstance(a, Exception) else _code(a) for a in answers)
    assert outcomes == {"stored": 1, "order_exists": 9}, answers
    [order] = book.store.list_orders().orders
    [winner] = [a[0] for a in answers if not isinstance(a, Exception)]
    assert order.lines[0].quantity == winner.lines[0].quantity
    book.store.close()


def test_concurrent_movements_all_count(url: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", 100)
    stores = [BookStore(url) for _ in range(20)]
    try:
        answers = _race(
            stores,
            lambda i, store: store.move_stock(
                StockMovementIn(
                    site_id="w1", sku="A", quantity=1 if i % 2 else -2, kind="adjustment"
                )
            ),
        )
    finally:
        for store in stores:
            store.close()
    assert all(not isinstance(a, Exception) for a in answers), answers
    [level] = book.store.stock(sku="A")
    assert level.on_hand == 100 + 10 * 1 - 10 * 2
    assert len(book.store.movements(sku="A")) == 21
    assert_balanced(book.store)
    book.store.close()


def _body(order_id: str, quantity: int) -> OrderIn:
    return OrderIn(
        id=order_id,
        location=CUSTOMER_AT,
        lines=[OrderLineIn(id="l1", sku="A", quantity=quantity)],
        payment_status="authorised",
    )
