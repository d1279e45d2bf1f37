"""The stock ledger (receipts, adjustments, counts, safety stock) and reservations (taken,
refused, released, given back on cancel, consumed on shipping)."""

from __future__ import annotations

import pytest

from models.book import ReservationIn, StockMovementIn
from models.errors import ConflictError, ErrorCode, InvalidInputError
from models.status import OrderStatus
from tests.engine.book.conftest import Book, assert_balanced


def _move(book: Book, kind: str, quantity: int, sku: str = "A", site_id: str = "w1") -> None:
    book.store.move_stock(
        StockMovementIn.model_validate(
            {"site_id": site_id, "sku": sku, "quantity": quantity, "kind": kind}
        )
    )


def _level(book: Book, sku: str = "A") -> tuple[int, int, int, int]:
    [level] = book.store.stock(site_id="w1", sku=sku)
    return level.on_hand, level.reserved, level.safety_stock, level.available


def _reserve(book: Book, order_id: str, quantity: int, sku: str = "A") -> str:
    return book.store.reserve(
        ReservationIn(order_id=order_id, line_id="l1", site_id="w1", sku=sku, quantity=quantity)
    ).id


def test_receipts_adjustments_and_counts(book: Book) -> None:
    _move(book, "receipt", 10)
    assert _level(book) == (10, 0, 0, 10)
    _move(book, "adjustment", -3)
    assert _level(book) == (7, 0, 0, 7)
    _move(book, "adjustment", 5)
    assert _level(book) == (12, 0, 0, 12)
    _move(book, "count", 4)
    assert _level(book) == (4, 0, 0, 4)
    entries = book.store.movements(sku="A")
    assert [(m.kind, m.quantity, m.delta, m.on_hand_after) for m in reversed(entries)] == [
        ("receipt", 10, 10, 10),
        ("adjustment", -3, -3, 7),
        ("adjustment", 5, 5, 12),
        ("count", 4, -8, 4),
    ]
    assert_balanced(book.store)


@pytest.mark.parametrize(("kind", "quantity"), [("count", 2), ("adjustment", -4)])
def test_no_change_leaves_fewer_on_hand_than_reserved(book: Book, kind: str, quantity: int) -> None:
    _move(book, "receipt", 6)
    book.order("o1", "A", 3)
    _reserve(book, "o1", 3)
    with pytest.raises(InvalidInputError) as caught:
        _move(book, kind, quantity)
    assert caught.value.details[0]["field"] == "quantity"
    assert _level(book) == (6, 3, 0, 3)
    _move(book, kind, 3 if kind == "count" else -3)  # down to exactly what is reserved
    assert _level(book) == (3, 3, 0, 0)
    assert_balanced(book.store)


def test_available_keeps_the_safety_stock_and_never_goes_below_zero(book: Book) -> None:
    _move(book, "receipt", 5)
    book.order("o1", "A", 3)
    _reserve(book, "o1", 3)
    level = book.store.set_safety_stock("w1", "A", 4)
    assert (level.on_hand, level.reserved, level.safety_stock, level.available) == (5, 3, 4, 0)
    book.store.set_safety_stock("w1", "A", 1)
    assert _level(book) == (5, 3, 1, 1)
    book.order("o2", "A", 2)
    with pytest.raises(ConflictError) as caught:
        _reserve(book, "o2", 2)  # 1 available: the safety stock is kept back
    assert caught.value.details[0]["available"] == 1
    assert_balanced(book.store)


def test_a_movement_at_an_unknown_site_names_site_id(book: Book) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _move(book, "receipt", 5, site_id="nowhere")
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert caught.value.details[0]["field"] == "site_id"
    assert book.store.stock() == [] and book.store.movements() == []
    assert_balanced(book.store)


def test_a_reservation_beyond_the_stock_is_insufficient_stock(book: Book) -> None:
    _move(book, "receipt", 3)
    book.order("o1", "A", 5)
    with pytest.raises(ConflictError) as caught:
        _reserve(book, "o1", 5)
    error = caught.value
    assert error.code is ErrorCode.INSUFFICIENT_STOCK
    assert error.details[0]["available"] == 3
    assert _level(book) == (3, 0, 0, 3)
    _reserve(book, "o1", 3)
    assert _level(book) == (3, 3, 0, 0)
    assert book.store.get_order("o1").lines[0].reserved == 3
    assert_balanced(book.store)


def test_release_gives_the_units_back_once(book: Book) -> None:
    _move(book, "receipt", 4)
    book.order("o1", "A", 4)
    held = _reserve(book, "o1", 4)
    released = book.store.release(held)
    assert released.status == "released" and released.ended_at is not None
    assert _level(book) == (4, 0, 0, 4)
    with pytest.raises(ConflictError) as caught:
        book.store.release(held)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert _level(book) == (4, 0, 0, 4)
    assert_balanced(book.store)


def test_cancelling_an_order_releases_its_reservations(book: Book) -> None:
    _move(book, "receipt", 4)
    book.order("o1", "A", 3)
    held = _reserve(book, "o1", 2)
    order = book.store.cancel("o1", reason="customer asked")
    assert order.status is OrderStatus.CANCELLED and order.lines[0].reserved == 0
    assert book.store.get_reservation(held).status == "released"
    assert _level(book) == (4, 0, 0, 4)
    assert_balanced(book.store)


def test_shipping_consumes_the_reservations(book: Book) -> None:
    _move(book, "receipt", 10)
    book.order("o1", "A", 3)
    saved, _ = book.plan()
    book.store.commit_plan(saved.id)
    assert _level(book) == (10, 3, 0, 7)
    for step in (OrderStatus.PICKING, OrderStatus.PACKED):
        book.store.change_status("o1", step)
    order = book.store.change_status("o1", OrderStatus.SHIPPED)
    assert order.lines[0].shipped == 3 and order.lines[0].reserved == 0
    assert _level(book) == (7, 0, 0, 7)
    [shipment] = [m for m in book.store.movements(sku="A") if m.kind == "shipment"]
    assert (shipment.quantity, shipment.delta, shipment.on_hand_after) == (3, -3, 7)
    assert shipment.order_id == "o1"
    assert order.site_ids == ["w1"]
    assert_balanced(book.store)
