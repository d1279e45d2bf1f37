"""Plans from the book: what the plan is given (stock not yet reserved, safety stock kept
back, the day's orders only), and what committing it does to the orders."""

from __future__ import annotations

import datetime as dt

import pytest

from models.book import PaymentUpdate, ReservationIn
from models.errors import ConflictError, ErrorCode, InvalidTransitionError
from models.status import OrderStatus
from tests.engine.book.conftest import DAY, Book, assert_balanced


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def test_the_plan_gets_the_stock_not_yet_reserved(book: Book) -> None:
    book.receive("A", 10)
    book.store.set_safety_stock("w1", "A", 2)
    book.order("held", "A", 3, channel="other")
    book.store.reserve(
        ReservationIn(order_id="held", line_id="l1", site_id="w1", sku="A", quantity=3)
    )
    book.order("o1", "A", 6)
    saved, full = book.plan(channels=["api"])
    [stock] = full.stock
    assert (stock.site_id, stock.sku, stock.on_hand, stock.safety_stock) == ("w1", "A", 7, 2)
    shipped = sum(line.quantity for s in saved.allocation.shipments for line in s.lines)
    assert shipped == 5  # 10 on hand - 3 reserved - 2 kept back
    [short] = saved.allocation.unfulfilled
    assert (short.order_id, short.quantity, short.reason.value) == ("o1", 1, "no_stock")


def test_orders_due_another_day_wait(book: Book) -> None:
    book.receive("A", 10)
    next_day = DAY + dt.timedelta(days=1)
    last_week = DAY - dt.timedelta(days=7)
    book.order("today", "A", windows=[(_at(DAY, 9), _at(DAY, 12))])
    book.order("tomorrow", "A", windows=[(_at(next_day, 9), _at(next_day, 12))])
    book.order("late", "A", windows=[(_at(last_week, 9), _at(last_week, 12))])
    book.order("any", "A")
    _, full = book.plan()
    assert sorted(o.id for o in full.orders) == ["any", "late", "today"]
    windows = {d.order_id: [(w.start_s, w.end_s) for w in d.time_windows] for d in full.deliveries}
    assert windows.get("today") == [(9 * 3600.0, 12 * 3600.0)]
    assert windows.get("late", []) == []
    assert book.store.get_order("tomorrow").status is OrderStatus.READY


def test_a_commit_allocates_the_served_and_backorders_the_rest(book: Book) -> None:
    book.receive("A", 4)
    book.known("Z")  # in the ledger, none on hand
    book.order("served", "A", 4)
    book.order("short", "Z", 2)
    saved, _ = book.plan()
    done = book.store.commit_plan(saved.id)
    assert {(o.order_id, o.status) for o in done.orders} == {
        ("served", OrderStatus.ALLOCATED),
        ("short", OrderStatus.BACKORDERED),
    }
    assert (done.reservations, done.units_reserved) == (1, 4)
    served = book.store.get_order("served")
    assert served.status is OrderStatus.ALLOCATED
    assert served.plan_id == saved.id and served.site_ids == ["w1"]
    assert served.lines[0].reserved == 4
    short = book.store.get_order("short")
    assert short.status is OrderStatus.BACKORDERED
    assert short.status_detail is not None and "no_stock" in short.status_detail
    assert short.plan_id is None and short.lines[0].reserved == 0
    assert book.store.get_plan(saved.id).status == "committed"
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved, level.available) == (4, 4, 0)
    assert_balanced(book.store)

    # the next plan takes the backordered order again, and only it
    book.receive("Z", 2)
    again, full = book.plan()
    assert [o.id for o in full.orders] == ["short"]
    book.store.commit_plan(again.id)
    assert book.store.get_order("short").status is OrderStatus.ALLOCATED
    assert_balanced(book.store)


def test_a_committed_plan_is_not_committed_twice(book: Book) -> None:
    book.receive("A", 4)
    book.order("o1", "A", 2)
    saved, _ = book.plan()
    book.store.commit_plan(saved.id)
    with pytest.raises(ConflictError) as caught:
        book.store.commit_plan(saved.id)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    [level] = book.store.stock(sku="A")
    assert level.reserved == 2
    assert_balanced(book.store)


def test_a_plan_never_reserves_more_than_a_line_asks_for(book: Book) -> None:
    """Units reserved by hand after the plan was made are not reserved a second time: the
    commit is stale (or takes only what is still open), never more than the line's units."""
    book.receive("A", 10)
    book.order("o1", "A", 4)
    saved, _ = book.plan()
    assert sum(ln.quantity for s in saved.allocation.shipments for ln in s.lines) == 4
    book.store.reserve(
        ReservationIn(order_id="o1", line_id="l1", site_id="w1", sku="A", quantity=2)
    )
    try:
        book.store.commit_plan(saved.id)
    except ConflictError as error:
        assert error.code is ErrorCode.STALE_PLAN
    order = book.store.get_order("o1")
    assert order.lines[0].reserved <= order.lines[0].quantity == 4
    [level] = book.store.stock(sku="A")
    assert level.reserved <= 4
    assert_balanced(book.store)


def test_a_partly_served_order_gets_the_rest_from_a_later_plan(book: Book) -> None:
    """An order served in part stays allocated with what it holds; the next plan takes only
    its open units and reserves them, never a unit twice."""
    book.receive("A", 3)
    book.order("o1", "A", 5)
    first, _ = book.plan()
    done = book.store.commit_plan(first.id)
    assert done.units_reserved == 3
    order = book.store.get_order("o1")
    assert order.status is OrderStatus.ALLOCATED and order.lines[0].reserved == 3
    assert order.status_detail is not None and "partly served" in order.status_detail
    book.receive("A", 4)
    second, full = book.plan()
    assert [(o.id, o.lines[0].quantity) for o in full.orders] == [("o1", 2)]
    book.store.commit_plan(second.id)
    order = book.store.get_order("o1")
    assert order.status is OrderStatus.ALLOCATED and order.lines[0].reserved == 5
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved, level.available) == (7, 5, 2)
    _third, full = book.plan()  # nothing open any more: the order is not planned again
    assert full.orders == []
    assert_balanced(book.store)


def test_releasing_the_last_reservation_makes_an_allocated_order_ready(book: Book) -> None:
    book.receive("A", 2)
    book.order("o1", "A", 2)
    saved, _ = book.plan()
    book.store.commit_plan(saved.id)
    [level] = book.store.stock(sku="A")
    assert level.reserved == 2
    reservations = book.store.list_reservations(order_id="o1")
    for reservation in reservations:
        book.store.release(reservation.id)
    order = book.store.get_order("o1")
    assert order.status is OrderStatus.READY and order.lines[0].reserved == 0
    assert book.store.history("o1").transitions[-1].to_status is OrderStatus.READY
    assert_balanced(book.store)


def test_an_unpaid_order_never_ships(book: Book) -> None:
    book.receive("A", 2)
    book.order("o1", "A", 2)
    saved, _ = book.plan()
    book.store.commit_plan(saved.id)
    book.store.change_status("o1", OrderStatus.PICKING)
    book.store.change_status("o1", OrderStatus.PACKED)
    book.store.set_payment("o1", PaymentUpdate(status="refunded"))
    with pytest.raises(InvalidTransitionError) as caught:
        book.store.change_status("o1", OrderStatus.SHIPPED)
    assert "refunded" in caught.value.message
    [level] = book.store.stock(sku="A")
    assert (level.on_hand, level.reserved) == (2, 2)  # nothing left the shelf
    assert_balanced(book.store)
