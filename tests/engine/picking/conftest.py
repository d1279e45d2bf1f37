"""Pick and pack's test helpers: a book with site ``w1``, its stock and paid orders at known
places (most near the site, one far off, by carrier), a day planned from it with one van
(its allocation and routes judged by the independent evaluators), committed; the catalogue
(product sizes, carton types, bins) written out here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.allocation.evaluate import evaluate_allocation
from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.picking.store import PickingStore
from engine.plan.pipeline import plan, site_requests
from engine.routing.evaluate import evaluate
from models.allocation import AllocationOptions
from models.book import (
    BookPlanRequest,
    BookSelection,
    OrderIn,
    PlanRecord,
    SiteIn,
    StockMovementIn,
)
from models.packing import CartonType
from models.picking import BinIn, ProductSizeIn
from models.plan import PlanOptions
from tests.engine.book.conftest import DAY, database

SITE_AT = (4.90, 52.37)
#: Order id -> (place [lon, lat], lines as (line id, sku, units)). ``far`` is ~70 km off:
#: beyond the vans' 50 km, by carrier.
ORDERS: dict[str, tuple[tuple[float, float], list[tuple[str, str, int]]]] = {
    "o-1": ((4.91, 52.36), [("l1", "kettle", 1), ("l2", "mug", 3), ("l3", "plate", 2)]),
    "o-2": ((4.93, 52.35), [("l1", "kettle", 2)]),
    "o-3": ((4.95, 52.37), [("l1", "mug", 1), ("l2", "plate", 1)]),
    "far": ((5.95, 52.37), [("l1", "mug", 2)]),
    "bulk": ((4.92, 52.38), [("l1", "mug", 20)]),
}
STOCK = {"kettle": 10, "mug": 30, "plate": 10}
VAN = {
    "id": "van-1",
    "site_id": "w1",
    "capacity": {"weight_kg": 500},
    "shift": [28800, 64800],
    "cost_per_km": 0.3,
}
#: Product sizes (mm, kg).
SIZES = {
    "kettle": ProductSizeIn(length_mm=250, width_mm=200, height_mm=200, weight_kg=1.5),
    "mug": ProductSizeIn(length_mm=100, width_mm=100, height_mm=100, weight_kg=0.4),
    "plate": ProductSizeIn(length_mm=260, width_mm=260, height_mm=20, weight_kg=0.5),
}
#: The site's cartons: S holds 9 mugs by volume (9.26 l), L anything (37 l, 15 kg).
CARTONS = [
    CartonType(
        id="S",
        inner_length_mm=210,
        inner_width_mm=210,
        inner_height_mm=210,
        max_weight_kg=5,
        cost=1.0,
        tare_weight_kg=0.1,
    ),
    CartonType(
        id="L",
        inner_length_mm=420,
        inner_width_mm=420,
        inner_height_mm=210,
        max_weight_kg=15,
        cost=1.5,
        tare_weight_kg=0.3,
    ),
]
#: Bins whose natural order differs from their text order (A-2 < A-10).
BINS = {"kettle": "A-10", "mug": "A-2", "plate": "B-1"}


@pytest.fixture
def book(tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store (the server's book) on an empty SQLite file."""
    with database("sqlite", tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


@pytest.fixture
def pg_book(tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on a new PostgreSQL database (skipped without a server, outside CI)."""
    with database("postgresql", tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


def stock_and_orders(
    store: DispatchStore, order_ids: list[str], stock: dict[str, dict[str, int]] | None = None
) -> None:
    """The sites with their stock (default: ``w1`` with :data:`STOCK`; every site at
    :data:`SITE_AT`), and the paid orders of :data:`ORDERS` named."""
    for site_id, units_by_sku in (stock or {"w1": STOCK}).items():
        store.put_site(site_id, SiteIn.model_validate({"location": SITE_AT}))
        for sku, units in units_by_sku.items():
            movement = StockMovementIn(site_id=site_id, sku=sku, quantity=units, kind="receipt")
            store.move_stock(movement)
    for order_id in order_ids:
        place, lines = ORDERS[order_id]
        _record, created = store.capture(
            OrderIn(
                id=order_id,
                channel="web",
                location=place,
                lines=[{"id": i, "sku": s, "quantity": q} for i, s, q in lines],  # type: ignore[misc]
                payment_status="authorised",
            )
        )
        assert created


def committed_day(
    store: DispatchStore, order_ids: list[str], stock: dict[str, dict[str, int]] | None = None
) -> PlanRecord:
    """Stock and orders, the day planned with the van of ``w1`` (both evaluators pass it),
    committed."""
    stock_and_orders(store, order_ids, stock)
    request = BookPlanRequest.model_validate(
        {
            "from_book": BookSelection(date=DAY).model_dump(mode="json"),
            "fleet": [VAN],
            "products": [
                {"sku": "kettle", "weight_kg": 1.5, "volume_l": 10},
                {"sku": "mug", "weight_kg": 0.4, "volume_l": 1},
                {"sku": "plate", "weight_kg": 0.5, "volume_l": 1.4},
            ],
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
    draft = store.save_plan("book", request.model_dump(mode="json"), result, refs)
    store.commit_plan(draft.id)
    return store.get_plan(draft.id)


def catalogue(picking: PickingStore, *, bins: bool = True, cartons: bool = True) -> None:
    """Every product's size, and the site's carton types and bins (when asked)."""
    for sku, size in SIZES.items():
        picking.put_product(sku, size)
    if cartons:
        picking.put_cartons("w1", CARTONS)
    if bins:
        picking.put_bins("w1", [BinIn(sku=s, bin_location=b) for s, b in BINS.items()])


def day_start() -> dt.datetime:
    """Second 0 of the planned day."""
    return dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
