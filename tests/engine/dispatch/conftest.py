"""Dispatch's test helpers: a book with a site, stock and paid orders at known places, a
day planned from it with one van (its allocation and routes judged by the independent
evaluators before use), committed, and its orders picked and packed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.allocation.evaluate import evaluate_allocation
from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.plan.pipeline import plan, site_requests
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
from models.plan import PlanOptions
from models.status import OrderStatus
from tests.engine.book.conftest import BACKENDS, DAY, database

SITE_AT = (4.90, 52.37)
#: The orders of a day: id -> [lon, lat]; each one kettle.
PLACES = {"o-1": (4.91, 52.36), "o-2": (4.93, 52.35), "o-3": (4.95, 52.37)}
DAY_START = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
VAN = {
    "id": "van-1",
    "site_id": "w1",
    "capacity": {"weight_kg": 500},
    "shift": [28800, 64800],
    "cost_per_km": 0.3,
}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on an empty book of its own, on each backend."""
    with database(request.param, tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


def stock_and_orders(
    store: DispatchStore, order_ids: list[str], units: int = 10, window: bool = True
) -> None:
    """Site ``w1`` with ``units`` kettles, and the paid orders, each with a window
    09:00-12:00 of :data:`DAY` (when ``window``)."""
    store.put_site("w1", SiteIn.model_validate({"location": SITE_AT}))
    store.move_stock(StockMovementIn(site_id="w1", sku="kettle", quantity=units, kind="receipt"))
    for order_id in order_ids:
        windows = (
            [
                DeliveryWindow(
                    start=DAY_START + dt.timedelta(hours=9), end=DAY_START + dt.timedelta(hours=12)
                )
            ]
            if window
            else []
        )
        _record, created = store.capture(
            OrderIn(
                id=order_id,
                channel="web",
                location=PLACES[order_id],
                lines=[{"id": "l1", "sku": "kettle", "quantity": 1}],  # type: ignore[list-item]
                payment_status="authorised",
                delivery_windows=windows,
            )
        )
        assert created


def plan_with_van(store: DispatchStore) -> PlanRecord:
    """Plan the day from the book with one van; both evaluators pass it; stored as a draft."""
    request = BookPlanRequest.model_validate(
        {
            "from_book": BookSelection(date=DAY).model_dump(mode="json"),
            "fleet": [VAN],
            "products": [{"sku": "kettle", "weight_kg": 1.5, "volume_l": 6}],
            "allocation_options": AllocationOptions(time_limit_s=1.0).model_dump(),
            "options": PlanOptions(routing_time_limit_s=1.0, parallel=False).model_dump(),
        }
    )
    snap = store.plan_snapshot(request.from_book)
    full, refs = book_plan_request(snap, request)
    result = plan(full)
    verdict = evaluate_allocation(full.allocation_request(), result.allocation, DAY)
    assert verdict.feasible, verdict.violations
    routing = site_requests(full, result.allocation)
    for site in result.sites:
        checked = evaluate(routing[site.site_id][0], site.routing)
        assert checked.feasible, [v.message for v in checked.violations]
    return store.save_plan("book", request.model_dump(mode="json"), result, refs)


@dataclass
class Day:
    """A committed, packed day: the plan and its one van route."""

    plan: PlanRecord
    route_id: str


def packed_day(store: DispatchStore, order_ids: list[str], *, window: bool = True) -> Day:
    """Stock, orders, a plan with the van, committed, every order picked and packed."""
    stock_and_orders(store, order_ids, window=window)
    draft = plan_with_van(store)
    assert all(s.mode == "van" for s in draft.shipments), draft.shipments
    store.commit_plan(draft.id)
    committed = store.get_plan(draft.id)
    assert len(committed.routes) == 1
    for order_id in order_ids:
        store.change_status(order_id, OrderStatus.PICKING)
        store.change_status(order_id, OrderStatus.PACKED)
    return Day(committed, committed.routes[0].route_id)


def at(seconds: float) -> dt.datetime:
    """The clock time ``seconds`` after the day start."""
    return DAY_START + dt.timedelta(seconds=seconds)
