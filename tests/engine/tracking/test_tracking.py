"""Tracking on SQLite and PostgreSQL: an order before any plan, after its plan's commit,
after dispatch, arrival, delivery (the proof shows) and a failure (the reason shows, and a
later plan's route is the one tracked); the stops before an order worked out here from the
route's stop list; the customer's view and page of one order only; tokens random, stable,
and one per order even when first asked for at once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from engine.book import tables as bt
from engine.dispatch.store import DispatchStore
from engine.tracking import page, tokens
from engine.tracking.tables import tracking_tokens
from models.dispatch import Proof, RouteEventIn, RouteRecord, RouteStopRecord
from models.errors import NotFoundError
from models.status import OrderStatus
from models.tracking import PublicTracking
from tests.engine.dispatch.conftest import (
    DAY_START,
    PLACES,
    at,
    packed_day,
    plan_with_van,
    stock_and_orders,
)

ORDERS = ["o-1", "o-2", "o-3"]


def _event(kind: str, stop_id: str, seconds: float, **extra: object) -> RouteEventIn:
    return RouteEventIn.model_validate(
        {"type": kind, "stop_id": stop_id, "at": at(seconds).isoformat(), **extra}
    )


def _stop_of(route: RouteRecord, order_id: str) -> RouteStopRecord:
    (stop,) = [s for s in route.stops if s.order_id == order_id]
    return stop


def _open_before(route: RouteRecord, order_id: str) -> int:
    """Stops before the order's on the route, still pending or arrived, where someone is
    served (not a break, not the end): from the route's stop list."""
    mine = _stop_of(route, order_id).position
    return sum(
        1
        for s in route.stops
        if s.position < mine
        and s.status in ("pending", "arrived")
        and s.kind not in ("break", "end")
    )


def _token(store: DispatchStore, order_id: str) -> str:
    url = store.order_tracking(order_id).tracking_url
    assert url.startswith("/track/")
    return url.removeprefix("/track/")


def test_an_order_on_no_route_has_its_status_and_nulls(store: DispatchStore) -> None:
    stock_and_orders(store, ["o-1"])
    seen = store.order_tracking("o-1")
    assert seen.status is OrderStatus.READY and (seen.order_id, seen.channel) == ("o-1", "web")
    nulls = seen.model_dump(exclude={"order_id", "channel", "status", "tracking_url"})
    assert set(nulls.values()) == {None}, nulls
    public = store.public_tracking(_token(store, "o-1"))
    assert public is not None and public.status is OrderStatus.READY
    assert public.stop_status is None and public.eta_start_time is None
    with pytest.raises(NotFoundError):
        store.order_tracking("nope")


def test_tracking_follows_commit_dispatch_arrival_and_delivery(store: DispatchStore) -> None:
    stock_and_orders(store, ORDERS)
    draft = plan_with_van(store)
    store.commit_plan(draft.id)
    (ref,) = store.get_plan(draft.id).routes
    route = store.get_route(ref.route_id)
    by_position = sorted((_stop_of(route, o).position, o) for o in ORDERS)
    first, second, third = (order_id for _, order_id in by_position)

    committed = store.order_tracking(second)
    assert committed.status is OrderStatus.ALLOCATED
    assert (committed.route_id, committed.route_status) == (ref.route_id, "committed")
    assert committed.stop_status == "pending" and committed.vehicle_position is None
    # three orders, no break before them: 0, 1 and 2 stops before each
    assert [store.order_tracking(o).stops_before for o in (first, second, third)] == [0, 1, 2]
    stop = _stop_of(route, second)
    assert committed.stops_before == _open_before(route, second)
    assert committed.eta_start_time == DAY_START + dt.timedelta(seconds=stop.eta_start_s)
    assert committed.planned_start_time == DAY_START + dt.timedelta(seconds=stop.planned_start_s)
    assert stop.window_start_s is not None and stop.window_end_s is not None
    assert committed.window_start_time == DAY_START + dt.timedelta(hours=9)
    assert committed.window_end_time == DAY_START + dt.timedelta(hours=12)

    for order_id in ORDERS:
        store.change_status(order_id, OrderStatus.PICKING)
        store.change_status(order_id, OrderStatus.PACKED)
    store.dispatch(ref.route_id)
    out = store.order_tracking(first)
    assert out.status is OrderStatus.SHIPPED and out.route_status == "dispatched"

    first_stop = _stop_of(route, first)
    arrival_s = first_stop.planned_arrival_s + 600
    store.report(
        ref.route_id,
        _event("arrived", first_stop.stop_id, arrival_s, position=list(PLACES[first])),
    )
    here = store.order_tracking(first)
    assert here.stop_status == "arrived" and here.proof is None
    assert here.vehicle_position == PLACES[first]
    assert here.vehicle_position_at == at(arrival_s)
    # an arrived stop is still to be served
    assert store.order_tracking(second).stops_before == 1

    proof = {"signature_name": "J. de Vries", "photo_ref": "photos/1.jpg", "note": "porch"}
    store.report(
        ref.route_id, _event("delivered", first_stop.stop_id, arrival_s + 300, proof=proof)
    )
    done = store.order_tracking(first)
    assert done.status is OrderStatus.DELIVERED and done.stop_status == "delivered"
    assert done.proof == Proof.model_validate(proof)
    assert done.last_event_at == at(arrival_s + 300)
    route = store.get_route(ref.route_id)
    later = store.order_tracking(second)
    assert later.stops_before == _open_before(route, second) == 0
    assert store.order_tracking(third).stops_before == _open_before(route, third) == 1
    live = _stop_of(route, second)
    assert later.eta_start_time == DAY_START + dt.timedelta(seconds=live.eta_start_s)

    public = store.public_tracking(_token(store, first))
    assert public is not None and public.received_by == "J. de Vries"
    assert public.delivered_at == at(arrival_s + 300) and public.eta_start_time is None


def test_a_failed_delivery_shows_its_reason_then_the_next_route(store: DispatchStore) -> None:
    day = packed_day(store, ["o-1"])
    store.dispatch(day.route_id)
    stop = store.get_route(day.route_id).stops[0]
    store.report(day.route_id, _event("failed", stop.stop_id, 40000, reason="nobody home"))
    failed = store.order_tracking("o-1")
    # the default policy plans it again: ready, its old stop failed
    assert failed.status is OrderStatus.READY and failed.stop_status == "failed"
    assert failed.failure_reason == "nobody home" and failed.proof is None
    public = store.public_tracking(_token(store, "o-1"))
    assert public is not None and public.stop_status == "failed"
    assert public.eta_start_time is None and public.stops_before is None

    again = plan_with_van(store)
    store.commit_plan(again.id)
    (ref,) = store.get_plan(again.id).routes
    assert ref.route_id != day.route_id
    now = store.order_tracking("o-1")
    assert (now.route_id, now.stop_status, now.failure_reason) == (ref.route_id, "pending", None)
    assert now.status is OrderStatus.ALLOCATED


def test_the_customer_sees_only_their_own_order(store: DispatchStore) -> None:
    day = packed_day(store, ORDERS)
    store.dispatch(day.route_id)
    with store.engine.begin() as conn:  # addresses, to look for on the pages
        for order_id in ORDERS:
            conn.execute(
                update(bt.orders)
                .where(bt.orders.c.order_id == order_id)
                .values(address=f"{order_id} Prinsengracht {order_id[-1]}00")
            )
    route = store.get_route(day.route_id)
    for order_id in ORDERS:
        view = store.public_tracking(_token(store, order_id))
        assert view is not None and view.order_id == order_id
        shown = page.render(view) + view.model_dump_json()
        assert f"Order {order_id}" in shown
        assert "Prinsengracht" not in shown  # not even the customer's own address
        for other in route.stops:
            if other.order_id not in (None, order_id):
                assert other.order_id not in shown and other.stop_id not in shown
        assert day.route_id not in shown and "van-1" not in shown and "w1" not in shown
        for lon, lat in PLACES.values():
            assert str(lon) not in shown and str(lat) not in shown


def test_the_page_is_self_contained_and_escapes(store: DispatchStore) -> None:
    day = packed_day(store, ["o-1"])
    store.dispatch(day.route_id)
    stop = store.get_route(day.route_id).stops[0]
    proof = {"signature_name": "<script>alert(1)</script>"}
    store.report(day.route_id, _event("delivered", stop.stop_id, 40000, proof=proof))
    view = store.public_tracking(_token(store, "o-1"))
    assert view is not None
    html = page.render(view)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'http-equiv="refresh" content="60"' in html
    assert "http://" not in html and "https://" not in html and " src=" not in html


def test_tokens_are_random_stable_and_unknown_ones_are_none(store: DispatchStore) -> None:
    stock_and_orders(store, ["o-1", "o-2"])
    one, two = _token(store, "o-1"), _token(store, "o-2")
    assert one != two and len(one) >= 22  # 22 URL-safe characters hold 128 bits
    assert all(tokens.well_formed(t) for t in (one, two))
    assert [_token(store, "o-1") for _ in range(3)] == [one] * 3
    assert store.public_tracking(one) is not None
    for unknown in (tokens.new_token(), one[:-1] + ("A" if one[-1] != "A" else "B"), "", "x"):
        assert store.public_tracking(unknown) is None
    for malformed in ("../../etc", "a" * 500, "tok\x00en" * 4, "é" * 30, one + "="):
        assert store.public_tracking(malformed) is None


def test_concurrent_first_requests_make_one_token(store: DispatchStore) -> None:
    stock_and_orders(store, ["o-1"])
    start = threading.Barrier(6, timeout=5)

    def ask() -> str:
        start.wait()
        return store.order_tracking("o-1").tracking_url

    with ThreadPoolExecutor(6) as pool:
        urls = list(pool.map(lambda _: ask(), range(6)))
    assert len(set(urls)) == 1
    with store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(tracking_tokens)).scalar_one()
    assert rows == 1


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_a_token_inserted_by_a_racing_transaction_is_the_one_answered(
    store: DispatchStore,
) -> None:
    """PostgreSQL, two transactions: the first inserts the order's token and holds its
    commit; the second finds none, inserts, waits on the unique key, fails when the first
    commits, and answers the first one's token (its own never stored)."""
    stock_and_orders(store, ["o-1"])
    with store.engine.connect() as conn:
        seq = conn.execute(select(bt.orders.c.seq)).scalar_one()
    inserted, release = threading.Event(), threading.Event()
    first: list[str] = []

    def hold() -> None:
        with store.engine.begin() as conn:
            first.append(tokens.ensure_token(conn, seq, at(0)))
            inserted.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inserted.wait(5)
    threading.Timer(0.3, release.set).start()
    with store.engine.begin() as conn:
        assert tokens.token_of(conn, seq) is None  # not committed yet
        second = tokens.ensure_token(conn, seq, at(1))
    holder.join(5)
    assert second == first[0]
    with store.engine.connect() as conn:
        stored = conn.execute(select(tracking_tokens.c.token)).scalars().all()
    assert stored == [first[0]]


def test_the_page_says_what_its_view_holds() -> None:
    utc = dt.UTC
    view = PublicTracking(
        order_id="A-17",
        status=OrderStatus.SHIPPED,
        stop_status="pending",
        stops_before=0,
        eta_start_time=dt.datetime(2026, 12, 2, 10, 5, tzinfo=utc),
        window_start_time=dt.datetime(2026, 12, 2, 9, 0, tzinfo=utc),
        window_end_time=dt.datetime(2026, 12, 2, 12, 0, tzinfo=utc),
    )
    html = page.render(view)
    assert "<h1>Order A-17</h1>" in html and "Out for delivery" in html
    assert "<dt>Expected at</dt><dd>2026-12-02 10:05 UTC</dd>" in html
    assert "<dd>2026-12-02 09:00–12:00 UTC</dd>" in html
    assert "<dd>none: you are next</dd>" in html
    three = page.render(view.model_copy(update={"stops_before": 3}))
    assert "<dt>Stops before yours</dt><dd>3</dd>" in three
    gone = page.render(PublicTracking(order_id="A-17", status=OrderStatus.CANCELLED))
    assert "Cancelled" in gone and "<dl>" not in gone
