"""Every (from, to) pair of order states: the moves the lifecycle table allows succeed, the
others are refused with ``invalid_transition`` naming both states.

Each test drives a new order into ``from`` through the store's public calls (capture, a
manual hold, plan commits, status changes, cancel) and asks for ``to`` the way the book
makes it: ``change_status`` (or ``cancel``) for the states a caller asks for, a plan commit
for ``allocated`` and ``backordered``. ``received`` is never at rest (capture moves on
within its own transaction), so an order is put back there by SQL to test the moves out of
it; nothing produces ``received`` but a capture.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from engine.book import tables as t
from models.errors import ConflictError, ErrorCode, InvalidInputError, InvalidTransitionError
from models.status import OrderStatus as S
from models.status import TransitionCause
from tests.engine.book.conftest import Book, assert_balanced, unique

#: The table of ``engine/book/lifecycle.py``'s docstring, written out by hand.
ALLOWED: dict[S, set[S]] = {
    S.RECEIVED: {S.ON_HOLD, S.READY, S.CANCELLED},
    S.ON_HOLD: {S.ON_HOLD, S.READY, S.CANCELLED},
    S.READY: {S.ON_HOLD, S.ALLOCATED, S.BACKORDERED, S.CANCELLED},
    S.BACKORDERED: {S.ON_HOLD, S.READY, S.ALLOCATED, S.BACKORDERED, S.CANCELLED},
    S.ALLOCATED: {S.ON_HOLD, S.READY, S.ALLOCATED, S.PICKING, S.CANCELLED},
    S.PICKING: {S.PACKED, S.CANCELLED},
    S.PACKED: {S.SHIPPED, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED, S.DELIVERY_FAILED},
    S.DELIVERY_FAILED: {S.READY, S.SHIPPED, S.RETURNED},
    S.DELIVERED: {S.RETURNED},
    S.CANCELLED: set(),
    S.RETURNED: set(),
}

#: The direct steps from an allocated order to each later state.
_AFTER_ALLOCATED: dict[S, list[S]] = {
    S.ALLOCATED: [],
    S.PICKING: [S.PICKING],
    S.PACKED: [S.PICKING, S.PACKED],
    S.SHIPPED: [S.PICKING, S.PACKED, S.SHIPPED],
    S.DELIVERED: [S.PICKING, S.PACKED, S.SHIPPED, S.DELIVERED],
    S.DELIVERY_FAILED: [S.PICKING, S.PACKED, S.SHIPPED, S.DELIVERY_FAILED],
    S.RETURNED: [S.PICKING, S.PACKED, S.SHIPPED, S.DELIVERED, S.RETURNED],
}
_PLAN_MADE = (S.ALLOCATED, S.BACKORDERED)


class Case:
    """One order of its own (its own channel and sku) driven into a state."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.store = book.store
        self.channel = unique("ch")
        self.sku = unique("sku")
        self.order_id = unique("o")
        book.known(self.sku)
        self.early_plan: str | None = None

    def commit_new_plan(self) -> None:
        saved, _ = self.book.plan(channels=[self.channel])
        self.store.commit_plan(saved.id)

    def drive(self, state: S, *, early_plan_serves: bool | None = None) -> None:
        """Bring the order into ``state``; with ``early_plan_serves`` set, also make a
        draft plan while the order is ready (serving it when True), kept for later."""
        self.book.order(self.order_id, self.sku, channel=self.channel)
        if early_plan_serves is not None:
            if early_plan_serves:
                self.book.receive(self.sku, 1)
            saved, _ = self.book.plan(channels=[self.channel])
            self.early_plan = saved.id
        if state is S.READY:
            return
        if state is S.RECEIVED:
            with self.store.engine.begin() as conn:
                conn.execute(
                    update(t.orders)
                    .where(t.orders.c.order_id == self.order_id)
                    .values(status=S.RECEIVED.value)
                )
            return
        if state is S.ON_HOLD:
            self.store.change_status(self.order_id, S.ON_HOLD, reason="checking the address")
            return
        if state is S.CANCELLED:
            self.store.cancel(self.order_id)
            return
        if state is S.BACKORDERED:
            self.commit_new_plan()  # nothing on hand of its sku
            return
        if not early_plan_serves:
            self.book.receive(self.sku, 1)
        self.commit_new_plan()
        assert self.status() is S.ALLOCATED
        for step in _AFTER_ALLOCATED[state]:
            self.store.change_status(self.order_id, step)

    def status(self) -> S:
        return self.store.get_order(self.order_id).status


def _pairs() -> list[tuple[S, S]]:
    return [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "requested"), _pairs(), ids=lambda s: s.value)
def test_every_pair_of_states(shared_book: Book, current: S, requested: S) -> None:
    case = Case(shared_book)
    store = case.store
    early = None
    if requested in _PLAN_MADE and requested not in ALLOWED[current]:
        early = requested is S.ALLOCATED
    case.drive(current, early_plan_serves=early)
    assert case.status() is current
    allowed = requested in ALLOWED[current]

    if requested in _PLAN_MADE and allowed:
        if requested is S.ALLOCATED:
            case.book.receive(case.sku, 1)
        case.commit_new_plan()
        order = store.get_order(case.order_id)
        assert order.status is requested
        if requested is S.ALLOCATED:
            assert order.plan_id is not None and order.site_ids == ["w1"]
        else:
            assert order.status_detail and "no_stock" in order.status_detail
    elif current is S.ALLOCATED and requested is S.BACKORDERED:
        # an allocated order is still plannable (for units it has open), so a plan that
        # left it out commits; it keeps what it holds and is never backordered
        assert case.early_plan is not None
        store.commit_plan(case.early_plan)
        order = store.get_order(case.order_id)
        assert order.status is S.ALLOCATED and order.site_ids == ["w1"]
    elif requested in _PLAN_MADE:
        # a plan made while the order was plannable is stale once it has moved on
        assert case.early_plan is not None
        with pytest.raises(ConflictError) as caught:
            store.commit_plan(case.early_plan)
        assert caught.value.code is ErrorCode.STALE_PLAN
        assert [d.get("order_id") for d in caught.value.details if "order_id" in d] == [
            case.order_id
        ]
        assert store.get_plan(case.early_plan).status == "draft"
    elif requested is S.RECEIVED:
        # nothing but a capture makes an order received
        with pytest.raises(InvalidInputError) as refused:
            store.change_status(case.order_id, requested)
        assert refused.value.details[0]["field"] == "status"
    elif allowed:
        if requested is S.CANCELLED:
            order = store.cancel(case.order_id, reason="customer asked")
        else:
            order = store.change_status(case.order_id, requested)
        assert order.status is requested
        assert store.get_order(case.order_id).status is requested
        last = store.history(case.order_id).transitions[-1]
        assert (last.from_status, last.to_status) == (current, requested)
        assert last.cause is TransitionCause.API
    else:
        with pytest.raises(InvalidTransitionError) as caught_t:
            if requested is S.CANCELLED:
                store.cancel(case.order_id)
            else:
                store.change_status(case.order_id, requested)
        error = caught_t.value
        assert error.code is ErrorCode.INVALID_TRANSITION
        assert (error.current, error.requested) == (current.value, requested.value)
        assert current.value in error.message and requested.value in error.message
        assert error.body()["code"] == "invalid_transition"

    if not allowed:
        assert case.status() is current
    assert_balanced(store)


def test_capture_moves_out_of_received(shared_book: Book) -> None:
    """Capture writes ``received`` first, then ``ready`` (paid) or ``on_hold`` (pending)."""
    sku = unique("sku")
    shared_book.known(sku)
    paid, pending = unique("o"), unique("o")
    shared_book.order(paid, sku)
    shared_book.order(pending, sku, payment="pending")
    for order_id, then in ((paid, S.READY), (pending, S.ON_HOLD)):
        moves = [
            (tr.from_status, tr.to_status) for tr in shared_book.store.history(order_id).transitions
        ]
        assert moves == [(None, S.RECEIVED), (S.RECEIVED, then)]


def test_releasing_an_allocated_order_gives_its_stock_back(shared_book: Book) -> None:
    """``allocated`` -> ``ready`` and -> ``on_hold`` release the reservations."""
    for target in (S.READY, S.ON_HOLD):
        case = Case(shared_book)
        case.drive(S.ALLOCATED)
        [level] = case.store.stock(sku=case.sku)
        assert (level.on_hand, level.reserved) == (1, 1)
        order = case.store.change_status(case.order_id, target)
        assert order.lines[0].reserved == 0 and order.plan_id is None
        [level] = case.store.stock(sku=case.sku)
        assert (level.on_hand, level.reserved, level.available) == (1, 0, 1)
    assert_balanced(shared_book.store)
