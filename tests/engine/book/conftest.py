"""The order book's test helpers: a book on a fresh SQLite file or PostgreSQL database, a
site with stock, orders, and plans made from the book (each checked by the allocation's
independent evaluator before it is used)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.allocation.evaluate import evaluate_allocation
from engine.book.planning import book_plan_request
from engine.book.store import BookStore
from engine.plan.pipeline import plan
from models.allocation import AllocationOptions
from models.book import (
    BookPlanRequest,
    BookSelection,
    DeliveryWindow,
    OrderIn,
    OrderRecord,
    PlanRecord,
    SiteIn,
    StockMovementIn,
)
from models.plan import PlanOptions, PlanRequest
from tests.postgres import fresh_postgres_url

BACKENDS = ["sqlite", "postgresql"]
#: The day planned in these tests.
DAY = dt.date(2026, 12, 2)
#: The site's and the customers' places ([lon, lat]).
SITE_AT = (4.90, 52.37)
CUSTOMER_AT = (4.91, 52.36)

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test of this run uses."""
    return f"{prefix}{next(_names)}"


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty book: a new SQLite file in ``folder``, or a new PostgreSQL
    database (dropped on leaving)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'book.db'}"
    else:
        with fresh_postgres_url() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty book of its own for one test, on each backend."""
    with database(request.param, tmp_path) as found:
        yield found


class Book:
    """A store with the few moves these tests repeat."""

    def __init__(self, store: BookStore) -> None:
        self.store = store

    def site(self, site_id: str = "w1", **fields: object) -> None:
        """Create a site at :data:`SITE_AT`."""
        self.store.put_site(site_id, SiteIn.model_validate({"location": SITE_AT, **fields}))

    def receive(self, sku: str, units: int, site_id: str = "w1") -> None:
        """A receipt of ``units`` of ``sku``."""
        self.store.move_stock(
            StockMovementIn(site_id=site_id, sku=sku, quantity=units, kind="receipt")
        )

    def known(self, sku: str, site_id: str = "w1") -> None:
        """Put ``sku`` in the site's ledger with nothing on hand."""
        self.store.set_safety_stock(site_id, sku, 0)

    def order(
        self,
        order_id: str,
        sku: str,
        quantity: int = 1,
        *,
        channel: str = "api",
        payment: str = "authorised",
        windows: list[tuple[dt.datetime, dt.datetime]] | None = None,
    ) -> OrderRecord:
        """Capture a one-line order."""
        record, created = self.store.capture(
            OrderIn(
                id=order_id,
                channel=channel,
                location=CUSTOMER_AT,
                lines=[{"id": "l1", "sku": sku, "quantity": quantity}],  # type: ignore[list-item]
                payment_status=payment,  # type: ignore[arg-type]
                delivery_windows=[DeliveryWindow(start=a, end=b) for a, b in windows or []],
            )
        )
        assert created
        return record

    def plan(
        self, channels: list[str] | None = None, site_ids: list[str] | None = None
    ) -> tuple[PlanRecord, PlanRequest]:
        """A draft plan of the day from the book, its result judged feasible first."""
        return plan_from_book(self.store, channels=channels, site_ids=site_ids)


def plan_from_book(
    store: BookStore, *, channels: list[str] | None = None, site_ids: list[str] | None = None
) -> tuple[PlanRecord, PlanRequest]:
    """Snapshot the book, plan the day (no fleet: carriers only; one-second limits), check
    the allocation with the independent evaluator, and store the plan as a draft."""
    request = BookPlanRequest(
        from_book=BookSelection(date=DAY, channels=channels, site_ids=site_ids),
        allocation_options=AllocationOptions(time_limit_s=1.0),
        options=PlanOptions(routing_time_limit_s=1.0, parallel=False),
    )
    snap = store.plan_snapshot(request.from_book)
    full, refs = book_plan_request(snap, request)
    result = plan(full)
    verdict = evaluate_allocation(full.allocation_request(), result.allocation, DAY)
    assert verdict.feasible, verdict.violations
    saved = store.save_plan("book", request.model_dump(mode="json"), result, refs)
    return saved, full


def assert_balanced(store: BookStore) -> None:
    """The balances equal their ledger and reservations."""
    assert store.ledger_mismatches() == []


@pytest.fixture
def book(url: str) -> Iterator[Book]:
    """A book of its own with site ``w1``, on each backend."""
    store = BookStore(url)
    helper = Book(store)
    helper.site()
    yield helper
    store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_book(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Book]:
    """One book per module and backend, with site ``w1``: each test names its own orders,
    channels and skus (:func:`unique`)."""
    with database(request.param, tmp_path_factory.mktemp("book")) as found:
        store = BookStore(found)
        helper = Book(store)
        helper.site()
        yield helper
        store.close()
