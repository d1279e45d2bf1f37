"""Returns' test helpers: a book (SQLite, or PostgreSQL for the tests that ask for it) with
a site, kettles and mugs in stock, and orders taken the whole way to ``delivered`` by the
book's own moves (a plan with a van, committed, picked, packed, shipped, delivered)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.plan.pipeline import plan
from engine.returns.store import ReturnsStore
from models.allocation import AllocationOptions
from models.book import BookPlanRequest, BookSelection, OrderIn, SiteIn, StockMovementIn
from models.plan import PlanOptions
from models.status import OrderStatus
from tests.engine.book.conftest import DAY, database

SITE_AT = (4.90, 52.37)
#: The orders: id -> ([lon, lat], kettles, mugs).
ORDERS = {"o-1": ((4.91, 52.36), 2, 1), "o-2": ((4.93, 52.35), 3, 0)}
#: Units of a kettle and a mug (kg, litres).
SIZES = {"kettle": (1.5, 6.0), "mug": (0.5, 1.0)}
PRODUCTS = [{"sku": s, "weight_kg": w, "volume_l": v} for s, (w, v) in SIZES.items()]
BIG_VAN = {
    "id": "van-1",
    "site_id": "w1",
    "capacity": {"weight_kg": 500},
    "shift": [28800, 64800],
    "cost_per_km": 0.3,
}


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on an empty book of its own (SQLite)."""
    with database(request.param, tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on an empty book of its own, on SQLite and on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


def book_request(fleet: list[dict[str, object]]) -> BookPlanRequest:
    """A plan of :data:`DAY` from the book with these vans, time limits of a second."""
    return BookPlanRequest.model_validate(
        {
            "from_book": BookSelection(date=DAY).model_dump(mode="json"),
            "fleet": fleet,
            "products": PRODUCTS,
            "allocation_options": AllocationOptions(time_limit_s=1.0).model_dump(),
            "options": PlanOptions(routing_time_limit_s=1.0, parallel=False).model_dump(),
        }
    )


def capture(
    store: DispatchStore, order_id: str, at: tuple[float, float], kettles: int, mugs: int
) -> None:
    """A paid order of ``kettles`` (line ``l1``) and ``mugs`` (line ``l2``)."""
    lines = [{"id": "l1", "sku": "kettle", "quantity": kettles}]
    if mugs:
        lines.append({"id": "l2", "sku": "mug", "quantity": mugs})
    _record, created = store.capture(
        OrderIn.model_validate(
            {
                "id": order_id,
                "channel": "web",
                "location": at,
                "lines": lines,
                "payment_status": "authorised",
            }
        )
    )
    assert created


def delivered(store: DispatchStore) -> ReturnsStore:
    """Site ``w1`` with 20 kettles and 10 mugs; :data:`ORDERS` planned, committed and taken
    to ``delivered``; the returns of the book."""
    store.put_site("w1", SiteIn.model_validate({"location": SITE_AT}))
    for sku, units in (("kettle", 20), ("mug", 10)):
        store.move_stock(StockMovementIn(site_id="w1", sku=sku, quantity=units, kind="receipt"))
    for order_id, (at, kettles, mugs) in ORDERS.items():
        capture(store, order_id, at, kettles, mugs)
    request = book_request([BIG_VAN])
    full, refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    result = plan(full)
    draft = store.save_plan("book", request.model_dump(mode="json"), result, refs)
    store.commit_plan(draft.id)
    for order_id in ORDERS:
        for status in (
            OrderStatus.PICKING,
            OrderStatus.PACKED,
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
        ):
            store.change_status(order_id, status)
    return ReturnsStore(store)
