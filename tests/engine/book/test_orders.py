"""Capture and replay, ids across channels, durability, and the payment gate."""

from __future__ import annotations

import pytest

from engine.book.store import BookStore
from models.book import BookSelection, OrderIn, PaymentUpdate, ReservationIn, SiteIn
from models.errors import ConflictError, ErrorCode, NotFoundError
from models.status import HoldReason, OrderStatus, PaymentState
from tests.engine.book.conftest import CUSTOMER_AT, DAY, SITE_AT, Book, assert_balanced


def _order(order_id: str | None, sku: str, quantity: int = 1, **fields: object) -> OrderIn:
    return OrderIn.model_validate(
        {
            "id": order_id,
            "location": CUSTOMER_AT,
            "lines": [{"id": "l1", "sku": sku, "quantity": quantity}],
            "payment_status": "authorised",
            **fields,
        }
    )


def _count(store: BookStore) -> int:
    return len(store.list_orders(limit=500).orders)


def test_replay_with_the_same_key_and_body_gives_the_same_order(book: Book) -> None:
    book.receive("A", 5)
    body = _order(None, "A", 2)  # no id: the book makes one, and the replay must find it
    first, created = book.store.capture(body, idempotency_key="k-1")
    again, created_again = book.store.capture(body, idempotency_key="k-1")
    assert created and not created_again
    assert again.id == first.id and again.channel == first.channel
    assert _count(book.store) == 1


def test_the_same_key_with_another_body_is_a_conflict(book: Book) -> None:
    book.receive("A", 5)
    book.store.capture(_order("o1", "A", 2), idempotency_key="k-1")
    with pytest.raises(ConflictError) as caught:
        book.store.capture(_order("o1", "A", 3), idempotency_key="k-1")
    assert caught.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert book.store.get_order("o1").lines[0].quantity == 2
    assert _count(book.store) == 1


def test_an_id_again_without_a_key_is_order_exists(book: Book) -> None:
    book.receive("A", 5)
    book.store.capture(_order("o1", "A"))
    with pytest.raises(ConflictError) as caught:
        book.store.capture(_order("o1", "A"))
    assert caught.value.code is ErrorCode.ORDER_EXISTS
    assert caught.value.details[0]["field"] == "id"
    assert _count(book.store) == 1


def test_one_id_in_two_channels_needs_the_channel(book: Book) -> None:
    book.receive("A", 5)
    book.store.capture(_order("o1", "A", 1, channel="web"))
    book.store.capture(_order("o1", "A", 2, channel="phone"))
    with pytest.raises(ConflictError) as caught:
        book.store.get_order("o1")
    assert caught.value.code is ErrorCode.AMBIGUOUS_ORDER
    assert book.store.get_order("o1", channel="web").lines[0].quantity == 1
    assert book.store.get_order("o1", channel="phone").lines[0].quantity == 2
    with pytest.raises(NotFoundError):
        book.store.get_order("o1", channel="api")


def test_an_accepted_order_is_found_by_a_new_store(url: str) -> None:
    first = BookStore(url)
    first.put_site("w1", SiteIn(location=SITE_AT))
    record, created = first.capture(_order("kept", "A", payment_status="pending"))
    assert created and record.id == "kept"
    first.close()
    second = BookStore(url)
    try:
        found = second.get_order("kept")
        assert found.id == "kept" and found.status is OrderStatus.ON_HOLD
        assert found.lines[0].quantity == 1
    finally:
        second.close()


# --------------------------------------------------------------------------- payments


def test_a_pending_order_is_held_and_not_planned(book: Book) -> None:
    book.receive("A", 5)
    held = book.order("p1", "A", payment="pending")
    assert held.status is OrderStatus.ON_HOLD
    assert held.hold_reason is HoldReason.PAYMENT_PENDING
    paid = book.order("a1", "A")
    assert paid.status is OrderStatus.READY and paid.hold_reason is None
    snap = book.store.plan_snapshot(BookSelection(date=DAY))
    assert [o.id for o in snap.orders] == ["a1"]


def test_authorising_makes_it_ready_and_plannable(book: Book) -> None:
    book.receive("A", 5)
    book.order("p1", "A", payment="pending")
    order = book.store.set_payment("p1", PaymentUpdate(status="authorised", reference="r-9"))
    assert order.status is OrderStatus.READY and order.hold_reason is None
    assert order.payment_status is PaymentState.AUTHORISED and order.payment_reference == "r-9"
    snap = book.store.plan_snapshot(BookSelection(date=DAY))
    assert [o.id for o in snap.orders] == ["p1"]


def test_a_decline_holds_the_order_and_releases_its_stock(book: Book) -> None:
    book.receive("A", 5)
    book.order("o1", "A", 3)
    book.store.reserve(
        ReservationIn(order_id="o1", line_id="l1", site_id="w1", sku="A", quantity=3)
    )
    [level] = book.store.stock(sku="A")
    assert level.reserved == 3
    order = book.store.set_payment("o1", PaymentUpdate(status="declined"))
    assert order.status is OrderStatus.ON_HOLD
    assert order.hold_reason is HoldReason.PAYMENT_DECLINED
    assert order.lines[0].reserved == 0
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved, level.available) == (5, 0, 5)
    assert book.store.plan_snapshot(BookSelection(date=DAY)).orders == []
    assert_balanced(book.store)


def test_a_committed_order_declined_gives_its_plan_stock_back(book: Book) -> None:
    book.receive("A", 4)
    book.order("o1", "A", 4)
    saved, _ = book.plan()
    book.store.commit_plan(saved.id)
    assert book.store.get_order("o1").status is OrderStatus.ALLOCATED
    order = book.store.set_payment("o1", PaymentUpdate(status="declined"))
    assert order.status is OrderStatus.ON_HOLD and order.plan_id is None
    [level] = book.store.stock(sku="A")
    assert (level.reserved, level.available) == (0, 4)
    assert_balanced(book.store)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["authorised", "refunded"], "authorised"),
        (["captured"], "authorised"),
        (["captured", "refunded"], "captured"),
        (["authorised"], "authorised"),
    ],
)
def test_impossible_payment_moves_are_refused(book: Book, path: list[str], refused: str) -> None:
    book.receive("A", 5)
    book.order("o1", "A", payment="pending")
    for status in path:
        book.store.set_payment("o1", PaymentUpdate.model_validate({"status": status}))
    before = book.store.get_order("o1")
    with pytest.raises(ConflictError) as caught:
        book.store.set_payment("o1", PaymentUpdate.model_validate({"status": refused}))
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert caught.value.details[0]["field"] == "status"
    after = book.store.get_order("o1")
    assert (after.status, after.payment_status) == (before.status, before.payment_status)


def test_a_pending_order_cannot_be_released_by_hand(book: Book) -> None:
    book.receive("A", 5)
    book.order("o1", "A", payment="pending")
    with pytest.raises(ConflictError) as caught:
        book.store.change_status("o1", OrderStatus.READY)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert book.store.get_order("o1").status is OrderStatus.ON_HOLD


def test_a_placing_time_keeps_its_instant_whatever_its_offset(url: str) -> None:
    """SQLite keeps a time's clock digits, not its offset: the book stores UTC."""
    import datetime as dt

    from engine.book.store import BookStore
    from models.book import OrderIn

    store = BookStore(url)
    try:
        placed = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-1)))
        record, _created = store.capture(
            OrderIn(
                id="tz-1",
                channel="web",
                location=(4.9, 52.37),
                lines=[{"id": "l1", "sku": "kettle", "quantity": 1}],  # type: ignore[list-item]
                placed_at=placed,
            )
        )
        again = store.get_order("tz-1")
        assert record.placed_at == placed and again.placed_at == placed  # 00:30 UTC on the 2nd
    finally:
        store.close()
