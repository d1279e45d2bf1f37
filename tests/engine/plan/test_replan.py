"""Re-planning a committed day on the book (SQLite and PostgreSQL): vans out with their loads
keep what they did and what they carry, the stop under way comes first, added orders go on
the van still at the site, the routing evaluator passes every site's rest of the day, and a
commit keeps the routes' ids and history; a property test over random days and events."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.plan.pipeline import plan
from engine.plan.replan_sites import routing_request, site_work
from engine.routing.evaluate import evaluate
from models.allocation import AllocationOptions
from models.book import (
    BookPlanRequest,
    BookSelection,
    DeliveryWindow,
    OrderIn,
    PlanRecord,
    SiteIn,
    StockMovementIn,
)
from models.dispatch import RouteEventIn, RouteRecord
from models.errors import ConflictError
from models.plan import PlanOptions
from models.replan import ReplanRequest
from models.status import OrderStatus
from tests.engine.book.conftest import DAY, database

SITE_AT = (4.90, 52.37)
DAY_START = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
#: Two vans for the day's work and a dear spare that stays at the site.
FLEET = [
    {"id": "van-1", "site_id": "w1", "capacity": {"weight_kg": 10}, "shift": [28800, 64800]},
    {"id": "van-2", "site_id": "w1", "capacity": {"weight_kg": 10}, "shift": [28800, 64800]},
    {
        "id": "spare",
        "site_id": "w1",
        "capacity": {"weight_kg": 10},
        "shift": [28800, 64800],
        "fixed_cost": 10_000.0,
    },
]


def _place(k: int) -> tuple[float, float]:
    """A customer's place around the site, spread on two sides."""
    side = 1 if k % 2 else -1
    return (round(4.90 + side * 0.01 * (1 + k // 2), 5), round(52.37 + 0.004 * (k % 3), 5))


def _at(seconds: float) -> dt.datetime:
    return DAY_START + dt.timedelta(seconds=seconds)


def _capture(store: DispatchStore, order_id: str, k: int) -> None:
    window = DeliveryWindow(start=_at(9 * 3600), end=_at(17 * 3600))
    _record, created = store.capture(
        OrderIn(
            id=order_id,
            channel="web",
            location=_place(k),
            lines=[{"id": "l1", "sku": "kettle", "quantity": 1}],  # type: ignore[list-item]
            payment_status="authorised",
            delivery_windows=[window],
        )
    )
    assert created


def _book_request() -> BookPlanRequest:
    return BookPlanRequest.model_validate(
        {
            "from_book": BookSelection(date=DAY).model_dump(mode="json"),
            "fleet": FLEET,
            "products": [{"sku": "kettle", "weight_kg": 2.0, "volume_l": 6}],
            "allocation_options": AllocationOptions(time_limit_s=1.0).model_dump(),
            "options": PlanOptions(routing_time_limit_s=0.5, parallel=False).model_dump(),
        }
    )


def _day(store: DispatchStore, n_orders: int) -> PlanRecord:
    """A committed day: ``n_orders`` kettles on the two vans, every order packed, every
    route dispatched."""
    store.put_site("w1", SiteIn.model_validate({"location": SITE_AT}))
    store.move_stock(StockMovementIn(site_id="w1", sku="kettle", quantity=50, kind="receipt"))
    for k in range(n_orders):
        _capture(store, f"o-{k}", k)
    request = _book_request()
    full, refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    draft = store.save_plan("book", request.model_dump(mode="json"), plan(full), refs)
    store.commit_plan(draft.id)
    for k in range(n_orders):
        store.change_status(f"o-{k}", OrderStatus.PICKING)
        store.change_status(f"o-{k}", OrderStatus.PACKED)
    committed = store.get_plan(draft.id)
    for ref in committed.routes:
        store.dispatch(ref.route_id)
    return committed


def _visits(route: RouteRecord) -> list[Any]:
    return [s for s in route.stops if s.kind in ("job", "delivery", "pickup")]


def _event(store: DispatchStore, route_id: str, kind: str, stop_id: str, seconds: float) -> None:
    event = RouteEventIn.model_validate(
        {"type": kind, "stop_id": stop_id, "at": _at(seconds).isoformat(), "reason": "no one in"}
    )
    store.report(route_id, event)


def _routes(store: DispatchStore, record: PlanRecord) -> dict[str, RouteRecord]:
    return {ref.vehicle_id: store.get_route(ref.route_id) for ref in record.routes}


def _new_visits(record: PlanRecord) -> dict[str, list[str]]:
    return {
        str(route.vehicle_id): [str(s.id) for s in route.steps if s.type.is_visit]
        for site in record.sites
        for route in site.routing.routes
    }


def _evaluate_each_site(store: DispatchStore, record: PlanRecord, penalty: float = 0.0) -> None:
    """The routing evaluator on each site's rest of the day, its request built again from
    the stored state (the added orders' stops included)."""
    from engine.allocation.allocate import allocate
    from engine.book import replans
    from engine.plan.pipeline import site_requests

    info = record.replan
    assert info is not None
    ask = ReplanRequest(at=info.at, add_orders=[{"order_id": str(o)} for o in info.added_orders])
    with store._read() as conn:  # the state the re-plan read, read again
        inp, _refs = replans.replan_input(conn, info.parent_plan_id, ask)
    allocation = allocate(inp.added.allocation_request())
    per_site = site_requests(inp.added, allocation) if inp.added.orders else {}
    by_vehicle = {r.vehicle_id: r for r in inp.routes}
    for site in record.sites:
        new = [
            s.model_dump(by_alias=False, exclude_none=True)
            for s in (per_site[site.site_id][0].stops if site.site_id in per_site else [])
        ]
        work = site_work(
            str(site.site_id),
            inp.site_locations[str(site.site_id)],
            [v for v in inp.fleet if v.site_id == site.site_id],
            by_vehicle,
            inp.stops,
            new,
            inp.at_s,
            inp.picked_up,
        )
        request = routing_request(work, None, 1.0, 0, penalty, record.day_start)
        verdict = evaluate(request, site.routing)
        assert verdict.feasible, [v.message for v in verdict.violations]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with database(request.param, tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


def test_a_day_replanned_at_eleven_keeps_every_van_s_past_and_load(store: DispatchStore) -> None:
    day = _day(store, 8)
    routes = _routes(store, day)
    assert set(routes) == {"van-1", "van-2"}  # the spare stays at the site
    first = {vid: _visits(r)[0].stop_id for vid, r in routes.items()}
    for vid, route in routes.items():
        _event(store, route.route_id, "arrived", first[vid], 36_000)
        _event(store, route.route_id, "delivered", first[vid], 36_100)
    failed = _visits(routes["van-2"])[1].stop_id
    _event(store, routes["van-2"].route_id, "arrived", failed, 36_500)
    _event(store, routes["van-2"].route_id, "failed", failed, 36_600)
    under_way = _visits(routes["van-1"])[1].stop_id
    _event(store, routes["van-1"].route_id, "arrived", under_way, 36_900)
    for k in range(8, 11):  # three urgent orders come in
        _capture(store, f"o-{k}", k)
    body = ReplanRequest.model_validate(
        {"add_orders": ["o-8", "o-9", "o-10"], "at": _at(39_600).isoformat()}
    )
    draft = store.replan(day.id, body)
    info = draft.replan
    assert draft.status == "draft" and draft.source == "replan" and info is not None
    assert info.check.feasible, info.check.violations
    new = _new_visits(draft)
    # van-1 is at its second stop: the new route begins with it; van-2's done stops stay out
    assert new["van-1"][0] == under_way
    done = {first["van-1"], first["van-2"], failed}
    assert not done & {s for stops in new.values() for s in stops}
    # goods on board stay on their van
    for vid, route in routes.items():
        loaded = {s.stop_id for s in _visits(route)} - done
        assert loaded <= set(new.get(vid, [])), (vid, loaded, new)
    # the added orders are served, by the van still at the site
    added = {f"o-{k}@w1" for k in range(8, 11)}
    assert added <= set(new.get("spare", []))
    assert set(info.diff.added) == added
    _evaluate_each_site(store, draft)

    result = store.commit_plan(draft.id)
    assert {o.order_id for o in result.orders} == {"o-8", "o-9", "o-10"}
    assert store.get_plan(day.id).status == "superseded"
    committed = store.get_plan(draft.id)
    after = _routes(store, committed)
    for vid in ("van-1", "van-2"):
        assert after[vid].route_id == routes[vid].route_id  # the driver's route id holds
    van_2 = [(s.stop_id, s.status) for s in _visits(after["van-2"])]
    assert van_2[:2] == [(first["van-2"], "delivered"), (failed, "failed")]
    van_1 = [(s.stop_id, s.status) for s in _visits(after["van-1"])]
    assert van_1[:2] == [(first["van-1"], "delivered"), (under_way, "arrived")]
    assert [s for s, _ in van_1[2:]] == new["van-1"][1:]
    assert [s.stop_id for s in _visits(after["spare"])] == new["spare"]
    for k in range(8, 11):
        assert store.get_order(f"o-{k}").status is OrderStatus.ALLOCATED


def test_a_replan_goes_stale_when_a_van_moves_on(store: DispatchStore) -> None:
    day = _day(store, 6)
    routes = _routes(store, day)
    draft = store.replan(day.id, ReplanRequest(at=_at(36_000)))
    route = routes["van-1"]
    _event(store, route.route_id, "arrived", _visits(route)[0].stop_id, 36_200)
    with pytest.raises(ConflictError) as caught:
        store.commit_plan(draft.id)
    assert caught.value.code == "stale_plan"
    assert store.get_plan(day.id).status == "committed"  # nothing changed


def test_goods_on_a_van_that_is_out_cannot_be_cancelled(store: DispatchStore) -> None:
    day = _day(store, 4)
    with pytest.raises(ConflictError, match="out with it"):
        store.replan(
            day.id,
            ReplanRequest.model_validate({"cancel_orders": ["o-0"], "at": _at(36_000).isoformat()}),
        )


def test_only_a_committed_plan_is_replanned(store: DispatchStore) -> None:
    day = _day(store, 4)
    draft = store.replan(day.id, ReplanRequest(at=_at(36_000)))
    with pytest.raises(ConflictError):
        store.replan(draft.id, ReplanRequest(at=_at(36_000)))


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n_orders=st.integers(4, 9), added=st.integers(0, 3))
def test_no_replan_changes_a_locked_prefix_or_moves_loaded_goods(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n_orders: int, added: int
) -> None:
    rng = random.Random(seed)
    with database("sqlite", tmp_path_factory.mktemp("replan")) as url:
        store = DispatchStore(url)
        try:
            day = _day(store, n_orders)
            routes = _routes(store, day)
            clock = 36_000.0
            state: dict[str, tuple[list[str], list[str]]] = {}
            for vid, route in routes.items():
                visits = [s.stop_id for s in _visits(route)]
                n_done = rng.randint(0, len(visits))
                done = visits[:n_done]
                for stop_id in done:
                    clock += 60
                    _event(store, route.route_id, "arrived", stop_id, clock)
                    kind = "delivered" if rng.random() < 0.8 else "failed"
                    _event(store, route.route_id, kind, stop_id, clock + 30)
                locked = []
                if n_done < len(visits) and rng.random() < 0.5:
                    locked = [visits[n_done]]
                    _event(store, route.route_id, "arrived", locked[0], clock + 60)
                state[vid] = (done, locked)
            for k in range(n_orders, n_orders + added):
                _capture(store, f"o-{k}", k)
            penalty = rng.choice([0.0, 5.0])
            body = ReplanRequest.model_validate(
                {
                    "add_orders": [f"o-{k}" for k in range(n_orders, n_orders + added)],
                    "at": _at(clock + 120).isoformat(),
                    "options": {"reassign_penalty": penalty},
                }
            )
            draft = store.replan(day.id, body)
            new = _new_visits(draft)
            assert draft.replan is not None and draft.replan.check.feasible
            for site in draft.sites:
                assert site.routing.evaluation is not None and site.routing.evaluation.feasible
            for vid, (done, locked) in state.items():
                route = new.get(vid, [])
                assert route[: len(locked)] == locked
                assert not set(done) & {s for stops in new.values() for s in stops}
                loaded = {s.stop_id for s in _visits(routes[vid])} - set(done)
                for other, stops in new.items():
                    if other != vid:
                        assert not loaded & set(stops)
            _evaluate_each_site(store, draft, penalty)
        finally:
            store.close()


def test_a_replan_goes_stale_when_a_van_leaves_after_it(store: DispatchStore) -> None:
    store.put_site("w1", SiteIn.model_validate({"location": SITE_AT}))
    store.move_stock(StockMovementIn(site_id="w1", sku="kettle", quantity=20, kind="receipt"))
    for k in range(4):
        _capture(store, f"o-{k}", k)
    request = _book_request()
    full, refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    draft = store.save_plan("book", request.model_dump(mode="json"), plan(full), refs)
    store.commit_plan(draft.id)
    committed = store.get_plan(draft.id)
    replanned = store.replan(draft.id, ReplanRequest(at=_at(30_000)))
    assert {v.state for v in replanned.replan.vans} == {"at_site"}  # type: ignore[union-attr]
    for k in range(4):
        store.change_status(f"o-{k}", OrderStatus.PICKING)
        store.change_status(f"o-{k}", OrderStatus.PACKED)
    store.dispatch(committed.routes[0].route_id)  # it leaves after the re-plan was made
    with pytest.raises(ConflictError) as caught:
        store.commit_plan(replanned.id)
    assert caught.value.code == "stale_plan"


def test_a_failed_delivery_after_a_replan_gives_its_units_back(store: DispatchStore) -> None:
    day = _day(store, 4)
    draft = store.replan(day.id, ReplanRequest(at=_at(30_000)))
    store.commit_plan(draft.id)
    route = next(iter(_routes(store, store.get_plan(draft.id)).values()))
    stop = _visits(route)[0]
    _event(store, route.route_id, "arrived", stop.stop_id, 36_000)
    _event(store, route.route_id, "failed", stop.stop_id, 36_100)
    order = store.get_order(stop.order_id)  # type: ignore[arg-type]
    assert order.status is OrderStatus.READY  # re-queued for the next plan
    assert [line.shipped for line in order.lines] == [0]  # its kettle is not shipped


def test_an_added_order_not_due_that_day_is_refused_by_name(store: DispatchStore) -> None:
    day = _day(store, 4)
    later = DeliveryWindow(start=_at(86_400 * 3), end=_at(86_400 * 3 + 3600))
    store.capture(
        OrderIn(
            id="next-week",
            channel="web",
            location=_place(9),
            lines=[{"id": "l1", "sku": "kettle", "quantity": 1}],  # type: ignore[list-item]
            payment_status="authorised",
            delivery_windows=[later],
        )
    )
    body = ReplanRequest.model_validate(
        {"add_orders": ["next-week"], "at": _at(36_000).isoformat()}
    )
    with pytest.raises(ConflictError, match="next-week"):
        store.replan(day.id, body)


def test_concurrent_commits_of_replans_supersede_the_plan_once(store: DispatchStore) -> None:
    """Four drafts of the same plan, each adding the same urgent order, committed at once
    by four clients: one wins, the others are stale, and the order is reserved once."""
    from concurrent.futures import ThreadPoolExecutor

    day = _day(store, 6)
    _capture(store, "urgent", 20)
    at = _at(36_000).isoformat()
    body = ReplanRequest.model_validate({"add_orders": ["urgent"], "at": at})
    drafts = [store.replan(day.id, body) for _ in range(4)]
    clients = [DispatchStore(store.url) for _ in drafts]
    try:

        def commit(k: int) -> str:
            try:
                clients[k].commit_plan(drafts[k].id)
                return "ok"
            except ConflictError as error:
                return error.code

        with ThreadPoolExecutor(len(drafts)) as pool:
            outcomes = list(pool.map(commit, range(len(drafts))))
    finally:
        for client in clients:
            client.close()
    assert sorted(outcomes) == ["ok", "stale_plan", "stale_plan", "stale_plan"]
    winner = drafts[outcomes.index("ok")].id
    assert store.get_plan(day.id).status == "superseded"
    assert [store.get_plan(d.id).status for d in drafts].count("committed") == 1
    assert store.get_order("urgent").status is OrderStatus.ALLOCATED
    held = store.list_reservations(order_id="urgent", status="active")
    assert len(held) == 1 and held[0].plan_id == winner
