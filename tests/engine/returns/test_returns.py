"""Returns in the book's store: opened for delivered orders only and never beyond what was
delivered, moved through the lifecycle with history and outbox events, restocked into the
ledger (checked against the balance read before), idempotent capture, listing, and
concurrent moves from several threads that never restock twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine.dispatch.store import DispatchStore
from engine.events.store import EventStore
from models.book import SiteIn
from models.errors import ConflictError, ErrorCode, InvalidInputError
from models.returns import ReturnIn, ReturnStatus
from tests.engine.returns.conftest import capture, delivered


def _ask(order_id: str, *lines: dict[str, Any], reason: str = "broken") -> ReturnIn:
    return ReturnIn.model_validate({"order_id": order_id, "lines": list(lines), "reason": reason})


def _on_hand(store: DispatchStore, sku: str, site_id: str = "w1") -> int:
    (level,) = store.stock(site_id=site_id, sku=sku)
    return level.on_hand


def _return_events(store: DispatchStore, return_id: str) -> list[tuple[str | None, str]]:
    events = EventStore(store.url)
    try:
        found = events.events(limit=1000).events
    finally:
        events.close()
    return [
        (e.data["from"], e.data["to"])
        for e in found
        if e.type.value == "return.status_changed" and e.data["return_id"] == return_id
    ]


def test_only_a_delivered_order_is_returned(store: DispatchStore) -> None:
    returns = delivered(store)
    capture(store, "o-9", (4.92, 52.36), 1, 0)  # ready, not delivered
    with pytest.raises(ConflictError) as caught:
        returns.create(_ask("o-9", {"line_id": "l1", "quantity": 1}))
    assert caught.value.code is ErrorCode.INVALID_TRANSITION and "o-9" in str(caught.value)


def test_more_than_delivered_less_returned_is_refused_naming_the_line(
    store: DispatchStore,
) -> None:
    returns = delivered(store)  # o-1: 2 kettles (l1), 1 mug (l2)
    with pytest.raises(InvalidInputError) as caught:
        returns.create(_ask("o-1", {"line_id": "l1", "quantity": 3}))
    (detail,) = caught.value.details
    assert detail["field"] == "lines[0].quantity" and "l1" in detail["message"]
    first, _ = returns.create(_ask("o-1", {"sku": "kettle", "quantity": 1}))
    with pytest.raises(InvalidInputError) as caught:  # 2 delivered, 1 already returned
        returns.create(
            _ask("o-1", {"line_id": "l2", "quantity": 1}, {"line_id": "l1", "quantity": 2})
        )
    (detail,) = caught.value.details
    assert detail["field"] == "lines[1].quantity" and "at most 1" in detail["message"]
    returns.reject(first.id, note="not ours")  # a rejected return gives its units back
    second, created = returns.create(_ask("o-1", {"line_id": "l1", "quantity": 2}))
    assert created and [(ln.line_id, ln.quantity) for ln in second.lines] == [("l1", 2)]


@pytest.mark.parametrize(
    "line, field",
    [
        ({"line_id": "nope", "quantity": 1}, "lines[0].line_id"),
        ({"sku": "toaster", "quantity": 1}, "lines[0].sku"),
        ({"line_id": "l1", "sku": "mug", "quantity": 1}, "lines[0].sku"),
    ],
)
def test_a_line_the_order_lacks_is_refused(
    store: DispatchStore, line: dict[str, Any], field: str
) -> None:
    returns = delivered(store)
    with pytest.raises(InvalidInputError) as caught:
        returns.create(_ask("o-1", line))
    assert caught.value.details[0]["field"] == field


def test_restock_puts_the_units_back_at_the_receiving_site(any_store: DispatchStore) -> None:
    returns = delivered(any_store)
    kettles, mugs = _on_hand(any_store, "kettle"), _on_hand(any_store, "mug")
    opened, _ = returns.create(
        _ask("o-1", {"line_id": "l1", "quantity": 2}, {"sku": "mug", "quantity": 1})
    )
    assert opened.status is ReturnStatus.REQUESTED and opened.site_id == "w1"  # shipped it
    returns.approve(opened.id, actor="support")
    with pytest.raises(ConflictError) as caught:  # not received yet
        returns.restock(opened.id)
    assert "approved" in str(caught.value) and "restocked" in str(caught.value)
    returns.receive(opened.id)
    done = returns.restock(opened.id, note="as new")
    assert done.status is ReturnStatus.RESTOCKED and done.received_site_id == "w1"
    assert _on_hand(any_store, "kettle") == kettles + 2
    assert _on_hand(any_store, "mug") == mugs + 1
    moves = [m for m in any_store.movements(site_id="w1") if m.reference == f"return:{opened.id}"]
    assert sorted((m.sku, m.delta, m.order_id) for m in moves) == [
        ("kettle", 2, "o-1"),
        ("mug", 1, "o-1"),
    ]
    assert any_store.ledger_mismatches() == []
    path = [(h.from_status, h.to_status) for h in done.history]
    s = ReturnStatus
    assert path == [
        (None, s.REQUESTED),
        (s.REQUESTED, s.APPROVED),
        (s.APPROVED, s.RECEIVED),
        (s.RECEIVED, s.RESTOCKED),
    ]
    assert done.history[1].actor == "support" and done.history[-1].note == "as new"
    assert _return_events(any_store, opened.id) == [
        (None, "requested"),
        ("requested", "approved"),
        ("approved", "received"),
        ("received", "restocked"),
    ]
    with pytest.raises(ConflictError):  # final
        returns.dispose(opened.id)


def test_dispose_moves_no_stock_and_receive_at_another_site(store: DispatchStore) -> None:
    returns = delivered(store)
    store.put_site("w2", SiteIn.model_validate({"location": (4.95, 52.40)}))
    opened, _ = returns.create(_ask("o-2", {"line_id": "l1", "quantity": 3}))
    returns.approve(opened.id)
    with pytest.raises(InvalidInputError):
        returns.receive(opened.id, site_id="nowhere")
    got = returns.receive(opened.id, site_id="w2")
    assert got.received_site_id == "w2"
    before = len(store.movements(limit=500))
    assert returns.dispose(opened.id).status is ReturnStatus.DISPOSED
    assert len(store.movements(limit=500)) == before


def test_an_idempotency_key_replays_the_stored_return(store: DispatchStore) -> None:
    returns = delivered(store)
    body = _ask("o-2", {"line_id": "l1", "quantity": 1})
    first, created = returns.create(body, actor="shop", idempotency_key="k-1")
    again, created_again = returns.create(body, actor="shop", idempotency_key="k-1")
    assert created and not created_again and again.id == first.id
    with pytest.raises(ConflictError) as caught:
        returns.create(
            _ask("o-2", {"line_id": "l1", "quantity": 2}), actor="shop", idempotency_key="k-1"
        )
    assert caught.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert len(returns.list_returns(order_id="o-2").returns) == 1


def test_list_filters_and_pages(store: DispatchStore) -> None:
    returns = delivered(store)
    a, _ = returns.create(_ask("o-1", {"line_id": "l1", "quantity": 1}))
    b, _ = returns.create(_ask("o-2", {"line_id": "l1", "quantity": 1}))
    c, _ = returns.create(_ask("o-2", {"line_id": "l1", "quantity": 1}))
    returns.approve(b.id)
    assert [r.id for r in returns.list_returns(status=ReturnStatus.APPROVED).returns] == [b.id]
    assert [r.id for r in returns.list_returns(order_id="o-2").returns] == [b.id, c.id]
    first = returns.list_returns(limit=2)
    assert [r.id for r in first.returns] == [a.id, b.id] and first.next_cursor is not None
    rest = returns.list_returns(limit=2, cursor=first.next_cursor)
    assert [r.id for r in rest.returns] == [c.id] and rest.next_cursor is None
    with pytest.raises(InvalidInputError):
        returns.list_returns(cursor="x")


def _race(calls: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Run the calls at once from their own threads; (results, errors)."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))
    lock = threading.Lock()

    def run(call: Any) -> None:
        start.wait(timeout=5)
        try:
            out = call()
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_concurrent_moves_never_restock_twice(any_store: DispatchStore) -> None:
    returns = delivered(any_store)
    kettles = _on_hand(any_store, "kettle")
    opened, _ = returns.create(_ask("o-2", {"line_id": "l1", "quantity": 3}))
    done, failed = _race([lambda: returns.approve(opened.id) for _ in range(4)])
    assert len(done) == 1 and len(failed) == 3
    assert all(isinstance(e, ConflictError) for e in failed), failed
    done, failed = _race([lambda: returns.receive(opened.id) for _ in range(4)])
    assert len(done) == 1 and all(isinstance(e, ConflictError) for e in failed), failed
    calls = [lambda: returns.restock(opened.id) for _ in range(6)]
    done, failed = _race(calls)
    assert len(done) == 1 and len(failed) == 5
    assert all(isinstance(e, ConflictError) for e in failed), failed
    moves = [m for m in any_store.movements(site_id="w1") if m.reference == f"return:{opened.id}"]
    assert [m.delta for m in moves] == [3]
    assert _on_hand(any_store, "kettle") == kettles + 3
    final = returns.get(opened.id)
    assert [h.to_status for h in final.history].count(ReturnStatus.RESTOCKED) == 1
