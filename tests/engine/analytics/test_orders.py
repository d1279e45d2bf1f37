"""Orders per day per site and channel: counted from hand-made orders, and from a book of
eight weeks captured through the store, against the counts the test placed."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.analytics.days import check_range
from engine.analytics.orders import PlacedOrder, count, order_sites, primary_sites
from engine.analytics.reads import Analytics
from engine.dispatch.store import DispatchStore
from models.errors import InvalidInputError, NotFoundError
from tests.engine.analytics.conftest import FIRST, LAST, PATTERN, expected_counts, place_weeks

D1, D2, D3 = dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.date(2026, 12, 3)


def test_count_groups_by_day_site_and_channel_and_fills_empty_days() -> None:
    orders = [
        PlacedOrder(D1, "web", "w1"),
        PlacedOrder(D1, "web", "w1"),
        PlacedOrder(D1, "phone", "w1"),
        PlacedOrder(D3, "web", "unplanned"),
        PlacedOrder(dt.date(2026, 11, 30), "web", "w1"),  # before the range
    ]
    report = count(orders, D1, D3)
    got = {(r.date, r.site_id, r.channel): r.orders for r in report.rows}
    assert got == {(D1, "w1", "web"): 2, (D1, "w1", "phone"): 1, (D3, "unplanned", "web"): 1}
    assert [(d.date, d.orders) for d in report.per_day] == [(D1, 3), (D2, 0), (D3, 1)]
    assert report.total == 4
    only = count(orders, D1, D3, site_id="w1", channel="web")
    assert only.total == 2 and [d.orders for d in only.per_day] == [2, 0, 0]


def test_a_split_order_counts_once_at_the_site_shipping_most_units() -> None:
    shipments = [
        {"order_id": "a", "site_id": "w1", "lines": [{"quantity": 1}]},
        {"order_id": "a", "site_id": "w2", "lines": [{"quantity": 2}, {"quantity": 1}]},
        {"order_id": "b", "site_id": "w2", "lines": [{"quantity": 2}]},
        {"order_id": "b", "site_id": "w1", "lines": [{"quantity": 2}]},  # a tie: w1
    ]
    assert primary_sites(shipments) == {"a": "w2", "b": "w1"}


def test_the_last_committed_plan_names_the_site() -> None:
    def plan(site: str) -> dict[str, object]:
        return {
            "book_orders": [{"plan_order_id": "p1", "channel": "web", "order_id": "o1"}],
            "result": {"shipments": [{"order_id": "p1", "site_id": site, "lines": []}]},
        }

    assert order_sites([plan("w1"), plan("w2")]) == {("web", "o1"): "w2"}


def test_bad_ranges_name_their_field() -> None:
    with pytest.raises(InvalidInputError) as after:
        check_range(D2, D1)
    assert after.value.details[0]["field"] == "from"
    with pytest.raises(InvalidInputError) as long:
        check_range(D1, D1 + dt.timedelta(days=5000))
    assert long.value.details[0]["field"] == "to"
    with pytest.raises(InvalidInputError) as old:
        check_range(dt.date(1, 1, 1), D1)
    assert old.value.details[0]["field"] == "from"


def test_eight_weeks_of_the_book_count_as_placed(store: DispatchStore) -> None:
    """On SQLite and PostgreSQL: every day's count per channel is the one captured."""
    placed = place_weeks(store)
    report = Analytics(store).orders(FIRST, LAST)
    expected = expected_counts()
    assert report.total == placed == sum(expected.values())
    got = {(r.date, r.channel): r.orders for r in report.rows}
    assert got == {key: n for key, n in expected.items() if n > 0}
    assert {r.site_id for r in report.rows} == {"unplanned"}  # no plan yet
    assert [d.orders for d in report.per_day] == [PATTERN[k % 7] for k in range(56)]
    web = Analytics(store).orders(FIRST, FIRST + dt.timedelta(days=6), channel="web")
    assert [d.orders for d in web.per_day] == [(n + 1) // 2 for n in PATTERN]
    with pytest.raises(NotFoundError) as unknown:
        Analytics(store).orders(FIRST, LAST, site_id="nowhere")
    assert unknown.value.details[0]["field"] == "site_id"
