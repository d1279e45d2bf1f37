"""Analytics' test helpers: a book on each backend, orders placed over eight weeks at known
counts per day (a weekly pattern, two channels), captured through the book's store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.dispatch.store import DispatchStore
from models.book import OrderIn
from tests.engine.book.conftest import BACKENDS, database

#: Orders placed on each weekday, Monday first.
PATTERN = [3, 5, 4, 6, 9, 2, 1]
#: The first day of the eight weeks (a Monday) and the last.
FIRST = dt.date(2026, 9, 7)
WEEKS = 8
LAST = FIRST + dt.timedelta(days=7 * WEEKS - 1)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on an empty book of its own, on each backend."""
    with database(request.param, tmp_path) as url:
        opened = DispatchStore(url)
        yield opened
        opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[DispatchStore]:
    """A dispatch store on an empty SQLite book."""
    opened = DispatchStore(f"sqlite:///{tmp_path / 'book.db'}")
    yield opened
    opened.close()


def expected_counts() -> dict[tuple[dt.date, str], int]:
    """The orders of each (day, channel) that :func:`place_weeks` captures: the day's
    count from :data:`PATTERN`, the even-numbered ones by ``web``, the others by ``phone``."""
    out: dict[tuple[dt.date, str], int] = {}
    for k in range(7 * WEEKS):
        day = FIRST + dt.timedelta(days=k)
        n = PATTERN[day.weekday()]
        out[(day, "web")] = (n + 1) // 2
        out[(day, "phone")] = n // 2
    return out


def place_weeks(store: DispatchStore) -> int:
    """Capture the orders of :func:`expected_counts` (placed at 10:00 UTC of their day,
    the n-th at n minutes past); how many."""
    orders = []
    for k in range(7 * WEEKS):
        day = FIRST + dt.timedelta(days=k)
        for n in range(PATTERN[day.weekday()]):
            placed = dt.datetime(day.year, day.month, day.day, 10, n, tzinfo=dt.UTC)
            orders.append(
                OrderIn.model_validate(
                    {
                        "id": f"d{k}-{n}",
                        "channel": "web" if n % 2 == 0 else "phone",
                        "location": (4.91, 52.36),
                        "lines": [{"id": "l1", "sku": "kettle", "quantity": 1}],
                        "placed_at": placed.isoformat(),
                    }
                )
            )
    for k in range(0, len(orders), 30):  # small transactions: a busy machine stays in time
        store.capture_many(orders[k : k + 30])
    return len(orders)
