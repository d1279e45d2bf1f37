"""A commit is all or nothing, even when its server dies half way through it: a child
process commits a plan and kills itself (SIGKILL) inside the transaction, after part of
the work; the parent finds nothing of it, and commits the plan itself afterwards."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.book import tables as t
from engine.book.store import BookStore
from models.book import ReservationIn
from models.status import OrderStatus
from tests.engine.book.conftest import Book, assert_balanced


def commit_and_die(url: str, plan_id: str, where: str) -> None:
    """Commit ``plan_id`` on ``url``, dying by SIGKILL inside the transaction: after the
    plan's reservations are written (``reservations``: after the first of them), or after
    its orders have moved (``move``), just before the plan is marked committed."""
    from engine.book import ledger, orders

    store = BookStore(url)

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if where == "reservations":
        real_add = ledger.add_reservations

        def add_then_die(
            conn: Connection,
            needs: Iterable[ledger.Need],
            now: datetime,
            plan_id: str | None,
            actor: str | None,
        ) -> list[str]:
            first = list(needs)[:1]
            real_add(conn, first, now, plan_id, actor)  # part of the work, in the transaction
            die()
            raise AssertionError("unreachable")

        ledger.add_reservations = add_then_die
    else:
        real_move_many = orders.move_many

        def move_then_die(*args: Any, **kwargs: Any) -> None:
            real_move_many(*args, **kwargs)  # every order moved, in the transaction
            die()

        orders.move_many = move_then_die
    store.commit_plan(plan_id)


def _active_for(store: BookStore, plan_id: str) -> int:
    r = t.reservations.c
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(r.plan_id == plan_id, r.status == "active")
            ).scalar_one()
        )


@pytest.mark.parametrize("where", ["reservations", "move"])
def test_a_commit_killed_half_way_leaves_nothing(url: str, where: str) -> None:
    book = Book(BookStore(url))
    book.site()
    book.receive("A", 10)
    book.receive("B", 10)
    book.order("held", "A", 2, channel="other")
    book.store.reserve(
        ReservationIn(order_id="held", line_id="l1", site_id="w1", sku="A", quantity=2)
    )
    for order_id, sku in (("o1", "A"), ("o2", "B"), ("o3", "A")):
        book.order(order_id, sku, 2)
    saved, _ = book.plan(channels=["api"])
    assert len(saved.allocation.shipments) == 3
    before = {(lv.sku, lv.on_hand, lv.reserved) for lv in book.store.stock()}
    assert before == {("A", 10, 2), ("B", 10, 0)}

    child = multiprocessing.get_context("spawn").Process(
        target=commit_and_die, args=(url, saved.id, where)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL

    after = BookStore(url)
    try:
        assert _active_for(after, saved.id) == 0
        assert {(lv.sku, lv.on_hand, lv.reserved) for lv in after.stock()} == before
        assert after.get_plan(saved.id).status == "draft"
        for order_id in ("o1", "o2", "o3"):
            order = after.get_order(order_id)
            assert order.status is OrderStatus.READY and order.plan_id is None
            assert order.lines[0].reserved == 0
        assert_balanced(after)

        done = after.commit_plan(saved.id)
        assert (done.reservations, done.units_reserved) == (3, 6)
        assert _active_for(after, saved.id) == 3
        assert {(lv.sku, lv.on_hand, lv.reserved) for lv in after.stock()} == {
            ("A", 10, 6),
            ("B", 10, 2),
        }
        assert all(after.get_order(o).status is OrderStatus.ALLOCATED for o in ("o1", "o2", "o3"))
        assert_balanced(after)
    finally:
        after.close()
        book.store.close()
