"""Marking shipments picked and packed: the orders' moves (through the lifecycle table, with
the actor and their ``order.status_changed`` events), the refusals, the labels' data, and
the van leaving once every order on it is packed; the whole walk once on PostgreSQL."""

from __future__ import annotations

import pytest

from engine.dispatch.store import DispatchStore
from engine.events.store import EventStore
from engine.picking.store import PickingStore
from models.errors import ConflictError, NotFoundError
from models.picking import PackIn
from models.status import OrderStatus
from tests.engine.picking.conftest import catalogue, committed_day

VAN_ORDERS = ["o-1", "o-2", "o-3"]


def _changes(store: DispatchStore, order_id: str) -> list[tuple[str, str]]:
    events = EventStore(store.url)
    try:
        return [
            (e.data["from"], e.data["to"])
            for e in events.events(limit=1000).events
            if e.type.value == "order.status_changed" and e.data["order_id"] == order_id
        ]
    finally:
        events.close()


def _walk(book: DispatchStore) -> None:
    """Pick, pack and mark every van order; then the route may leave."""
    plan = committed_day(book, VAN_ORDERS)
    picking = PickingStore(book)
    catalogue(picking)
    listed = picking.picklist(plan.id, "w1")
    (van,) = listed.groups
    with pytest.raises(ConflictError) as early:
        picking.mark_packed(plan.id, "o-1@w1", "anna")
    assert early.value.code == "invalid_transition" and "not picked" in early.value.message

    mark = picking.mark_picked(plan.id, "o-1@w1", "anna")
    assert mark.order_status is OrderStatus.PICKING and mark.picked_at is not None
    with pytest.raises(ConflictError):
        picking.mark_picked(plan.id, "o-1@w1", "anna")
    with pytest.raises(ConflictError) as uncartonised:
        picking.mark_packed(plan.id, "o-1@w1", "anna")
    assert "pack" in uncartonised.value.message

    picking.pack(plan.id, "w1", PackIn(time_limit_s=1.0))
    done = picking.mark_packed(plan.id, "o-1@w1", "anna")
    assert done.order_status is OrderStatus.PACKED and done.cartons_count >= 1
    with pytest.raises(ConflictError) as repack:
        picking.pack(plan.id, "w1", PackIn(shipment_ids=["o-1@w1"], time_limit_s=1.0))
    assert repack.value.code == "invalid_transition"
    with pytest.raises(ConflictError):
        picking.mark_packed(plan.id, "o-1@w1", "anna")

    history = book.history("o-1", "web").transitions
    assert [(t.from_status, t.to_status, t.actor) for t in history[-2:]] == [
        (OrderStatus.ALLOCATED, OrderStatus.PICKING, "anna"),
        (OrderStatus.PICKING, OrderStatus.PACKED, "anna"),
    ]
    assert _changes(book, "o-1")[-2:] == [("allocated", "picking"), ("picking", "packed")]

    # the labels: carton n of m, the van and the stop's place on the stored route
    route = book.get_route(van.route_id or "")
    stop = next(s for s in route.stops if s.stop_id == "o-1@w1")
    labels = picking.labels(plan.id, "o-1@w1").labels
    assert [(lab.carton_index, lab.cartons_count) for lab in labels] == [
        (k, len(labels)) for k in range(1, len(labels) + 1)
    ]
    assert {(lab.vehicle_id, lab.stop_position, lab.order_id) for lab in labels} == {
        ("van-1", stop.position, "o-1")
    }

    with pytest.raises(ConflictError):
        book.dispatch(route.route_id)  # o-2 and o-3 are not packed yet
    for order_id in ("o-2", "o-3"):
        picking.mark_picked(plan.id, f"{order_id}@w1", None)
        picking.mark_packed(plan.id, f"{order_id}@w1", None)
    left = book.dispatch(route.route_id)
    assert left.status == "dispatched"
    assert {book.get_order(o).status for o in VAN_ORDERS} == {OrderStatus.SHIPPED}


def test_pick_pack_and_dispatch(book: DispatchStore) -> None:
    _walk(book)


def test_pick_pack_and_dispatch_on_postgresql(pg_book: DispatchStore) -> None:
    _walk(pg_book)


def test_a_site_without_cartons_packs_without_cartonisation(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    picking = PickingStore(book)
    catalogue(picking, cartons=False)
    picking.mark_picked(plan.id, "o-1@w1", None)
    done = picking.mark_packed(plan.id, "o-1@w1", None)
    assert done.order_status is OrderStatus.PACKED and done.cartons_count == 0


def test_an_order_that_cannot_be_picked_is_refused(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    picking = PickingStore(book)
    book.cancel("o-1", channel="web")
    with pytest.raises(ConflictError) as refused:
        picking.mark_picked(plan.id, "o-1@w1", None)
    assert refused.value.code == "invalid_transition"
    with pytest.raises(NotFoundError):
        picking.mark_picked(plan.id, "o-9@w1", None)
    with pytest.raises(NotFoundError):
        picking.mark_picked(plan.id, "no-at-sign", None)


def test_a_split_order_is_packed_when_its_last_shipment_is(book: DispatchStore) -> None:
    # w1 has the kettles and plates, w2 (no van: by carrier) the mugs: o-1 ships from both
    stock = {"w1": {"kettle": 5, "plate": 5}, "w2": {"mug": 5}}
    plan = committed_day(book, ["o-1"], stock)
    assert sorted(f"{s.order_id}@{s.site_id}" for s in plan.shipments) == ["o-1@w1", "o-1@w2"]
    picking = PickingStore(book)
    assert picking.mark_picked(plan.id, "o-1@w1", None).order_status is OrderStatus.PICKING
    assert picking.mark_picked(plan.id, "o-1@w2", None).order_status is OrderStatus.PICKING
    first = picking.mark_packed(plan.id, "o-1@w2", None)
    assert first.order_status is OrderStatus.PICKING and first.packed_at is not None
    last = picking.mark_packed(plan.id, "o-1@w1", None)
    assert last.order_status is OrderStatus.PACKED
    moves = [(t.from_status, t.to_status) for t in book.history("o-1", "web").transitions]
    assert moves[-2:] == [
        (OrderStatus.ALLOCATED, OrderStatus.PICKING),
        (OrderStatus.PICKING, OrderStatus.PACKED),
    ]
    listed = picking.picklist(plan.id, "w2")
    (carrier,) = listed.groups
    assert carrier.kind == "carrier" and [s.shipment_id for s in carrier.stops] == ["o-1@w2"]
