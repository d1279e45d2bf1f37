"""Orders for the book from CSV: the parser names the row and column of every problem, and
the import stores all or nothing (``all_or_nothing``) or each good order (``per_row``) in a
real book (SQLite and PostgreSQL), counting orders already there as replays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.formats.allocation_files import read_orders_csv
from api.formats.book_orders import import_orders, parse_orders_csv
from engine.book.store import BookStore
from models.book import ImportRowError
from models.errors import InvalidInputError
from tests.engine.book.conftest import BACKENDS, database

HEADER = "order_id,line_id,sku,quantity,lat,lon"
GOOD = (
    "order_id,line_id,sku,quantity,lat,lon,channel,priority,created_date,promised_date,"
    "payment_status,ship_complete,max_shipments,address,service_s,payment_reference,"
    "window_start,window_end\n"
    "o1,l1,sku-a,2,52.52,13.40,web,3,2026-11-30,2026-12-02,paid,yes,2,Main St 1,90,"
    "pay-1,2026-12-02T09:00,2026-12-02T12:00+01:00\n"
    "o1,l2,sku-b,1,,,,,,,,,,,,,,\n"
    "o2,l1,sku-a,5,48.85,2.35,,,,,,,,,,,,\n"
)


@pytest.fixture(params=BACKENDS)
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BookStore]:
    """A real, empty order book: on a SQLite file, and on a fresh PostgreSQL database."""
    with database(request.param, tmp_path) as url:
        store = BookStore(url)
        yield store
        store.close()


def problems(errors: list[ImportRowError]) -> set[tuple[int, str | None, str | None]]:
    return {(e.row, e.column, e.value) for e in errors}


# --------------------------------------------------------------------------- parser


def test_a_good_file_maps_every_column() -> None:
    orders, errors = parse_orders_csv(GOOD.encode(), "orders.csv", "csv")
    assert errors == []
    assert [(row, o.id) for row, o in orders] == [(2, "o1"), (4, "o2")]
    first = orders[0][1]
    assert first.channel == "web"
    assert first.location == (13.40, 52.52)
    assert [(ln.id, ln.sku, ln.quantity) for ln in first.lines] == [
        ("l1", "sku-a", 2),
        ("l2", "sku-b", 1),
    ]
    assert first.priority == 3
    assert first.placed_at == dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert first.promised_date == dt.date(2026, 12, 2)
    assert first.payment_status == "authorised"
    assert first.ship_complete is True
    assert first.max_shipments == 2
    assert first.address == "Main St 1"
    assert first.service_s == 90.0
    assert first.payment_reference == "pay-1"
    (window,) = first.delivery_windows
    assert window.start == dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
    assert window.end == dt.datetime(2026, 12, 2, 11, tzinfo=dt.UTC)  # 12:00+01:00
    second = orders[1][1]
    assert second.channel == "csv"  # no channel cell: the import's channel
    assert second.payment_status == "pending"
    assert second.placed_at is None and second.delivery_windows == []


def test_the_allocation_reader_accepts_the_same_core_file() -> None:
    # the core columns are the allocation format's: both readers agree on the orders
    text = f"{HEADER}\no1,l1,a,2,52.5,13.4\no1,l2,b,1,52.5,13.4\n"
    orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert errors == []
    assert [o.id for _row, o in orders] == ["o1"]
    assert [ln.id for ln in orders[0][1].lines] == ["l1", "l2"]


def test_allocation_files_still_refuse_an_unknown_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"{HEADER},priorty\no1,l1,a,1,1,1,2\n")
    with pytest.raises(Exception, match="did you mean 'priority'"):
        read_orders_csv(path)


@pytest.mark.parametrize("spelling", ["authorised", "AUTHORIZED", "paid", "Paid"])
def test_paid_spellings_are_authorised(spelling: str) -> None:
    text = f"{HEADER},payment_status\no1,l1,a,1,1,1,{spelling}\n"
    orders, errors = parse_orders_csv(text.encode(), "f.csv", "csv")
    assert errors == [] and orders[0][1].payment_status == "authorised"


def test_captured_and_pending_are_kept() -> None:
    text = f"{HEADER},payment_status\no1,l1,a,1,1,1,captured\no2,l1,a,1,1,1,pending\n"
    orders, errors = parse_orders_csv(text.encode(), "f.csv", "csv")
    assert errors == []
    assert [o.payment_status for _row, o in orders] == ["captured", "pending"]


# One bad cell per case: (extra columns, the row's cells after the core ones, the bad
# column, its value). The core row is o1,l1,a,<quantity>,<lat>,<lon>.
BAD_CELLS = [
    ("", "x,1,1", "quantity", "x"),
    ("", "0,1,1", "quantity", "0"),
    ("", "1.5,1,1", "quantity", "1.5"),
    ("", "1,,1", "lat", ""),
    ("", "1,north,1", "lat", "north"),
    ("", "1,95,1", "lat", "95"),
    ("", "1,1,200", "lon", "200"),
    ("", "1,1,inf", "lon", "inf"),
    (",priority", "1,1,1,high", "priority", "high"),
    (",priority", "1,1,1,-1", "priority", "-1"),
    (",created_date", "1,1,1,30/11/2026", "created_date", "30/11/2026"),
    (",promised_date", "1,1,1,soon", "promised_date", "soon"),
    (",payment_status", "1,1,1,declined", "payment_status", "declined"),
    (",ship_complete", "1,1,1,maybe", "ship_complete", "maybe"),
    (",max_shipments", "1,1,1,0", "max_shipments", "0"),
    (",service_s", "1,1,1,-5", "service_s", "-5"),
    (",channel", "1,1,1,Web Shop", "channel", "Web Shop"),
    (",window_start,window_end", "1,1,1,9am,2026-12-02T12:00", "window_start", "9am"),
    (",window_start,window_end", "1,1,1,2026-12-02T09:00,", "window_end", ""),
    (
        ",window_start,window_end",
        "1,1,1,2026-12-02T12:00,2026-12-02T09:00",
        "window_start",
        "2026-12-02T12:00",
    ),
]


@pytest.mark.parametrize(("extra", "cells", "column", "value"), BAD_CELLS)
def test_a_bad_cell_names_its_row_and_column(
    extra: str, cells: str, column: str, value: str
) -> None:
    text = f"{HEADER}{extra}\no0,l1,a,1,1,1{',' * extra.count(',')}\no1,l1,a,{cells}\n"
    orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert [o.id for _row, o in orders] == ["o0"]  # the good order is read
    assert problems(errors) == {(3, column, value)}, errors
    assert errors[0].order_id == "o1" and errors[0].message


def test_a_bad_line_names_its_own_row() -> None:
    text = f"{HEADER}\no1,l1,a,1,1,1\no1,l2,b c,1,1,1\no1,l3,c,-2,1,1\n"
    orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert orders == []
    assert problems(errors) == {(3, "sku", "b c"), (4, "quantity", "-2")}


def test_a_line_id_twice_names_the_second_row() -> None:
    text = f"{HEADER}\no1,l1,a,1,1,1\no1,l1,b,1,1,1\n"
    _orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert problems(errors) == {(3, "line_id", "l1")}
    assert "row 2" in errors[0].message


def test_every_problem_of_an_order_is_reported() -> None:
    text = f"{HEADER},payment_status\no1,l1,a,x,95,1,weird\n"
    _orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert problems(errors) == {
        (2, "quantity", "x"),
        (2, "lat", "95"),
        (2, "payment_status", "weird"),
    }


def test_empty_ids_and_extra_cells_are_row_errors() -> None:
    text = f"{HEADER}\n,l1,a,1,1,1\no2,,a,1,1,1\no3,l1,a,1,1,1,surplus\n"
    orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert orders == []
    assert {(e.row, e.column) for e in errors} == {(2, "order_id"), (3, "line_id"), (4, None)}


def test_an_unknown_column_is_named_with_a_suggestion() -> None:
    text = f"{HEADER},adress\no1,l1,a,1,1,1,Main St\n"
    orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert orders == []
    (error,) = errors
    assert (error.row, error.column) == (1, "adress")
    assert "did you mean 'address'" in error.message
    assert "window_start" in error.message  # the known columns are listed


def test_a_missing_required_column_is_named() -> None:
    text = "order_id,line_id,sku,quantity,lat\no1,l1,a,1,1\n"
    _orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert problems(errors) == {(1, "lon", None)}


def test_a_byte_order_mark_is_ignored() -> None:
    text = f"{HEADER}\no1,l1,a,1,1,1\n"
    orders, errors = parse_orders_csv(b"\xef\xbb\xbf" + text.encode(), "orders.csv", "csv")
    assert errors == [] and [o.id for _row, o in orders] == ["o1"]


def test_a_body_that_is_not_utf8_is_one_error() -> None:
    body = f"{HEADER}\no1,l1,a,1,1,1,\n".encode() + "Café".encode("latin-1")
    orders, errors = parse_orders_csv(body, "orders.csv", "csv")
    assert orders == []
    (error,) = errors
    assert error.row == 1 and "UTF-8" in error.message and "orders.csv" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"order_id,line_id\x00,sku,quantity,lat,lon\n",  # binary
        f'{HEADER}\no1,"l1"x,a,1,1,1\n'.encode(),  # text after a closing quote
        f'{HEADER}\no1,"l1,a,1,1,1\n'.encode(),  # a quote never closed
    ],
)
def test_a_body_that_is_not_csv_is_one_error(body: bytes) -> None:
    orders, errors = parse_orders_csv(body, "orders.csv", "csv")
    assert orders == []
    (error,) = errors
    assert error.row == 1 and "not CSV" in error.message and "orders.csv" in error.message


def test_an_empty_body_is_one_error() -> None:
    orders, errors = parse_orders_csv(b"", "orders.csv", "csv")
    assert orders == [] and len(errors) == 1 and errors[0].row == 1


def test_blank_lines_keep_the_row_numbers() -> None:
    text = f"{HEADER}\n\no1,l1,a,x,1,1\n"
    _orders, errors = parse_orders_csv(text.encode(), "orders.csv", "csv")
    assert problems(errors) == {(3, "quantity", "x")}


def test_more_rows_than_the_limit_are_refused() -> None:
    body = (HEADER + "\n" + "o1,l1,a,1,1,1\n" * 100_001).encode()
    with pytest.raises(InvalidInputError, match="100000"):
        parse_orders_csv(body, "orders.csv", "csv")


# --------------------------------------------------------------------------- import

TWO_GOOD_ONE_BAD = (
    f"{HEADER},payment_status\n"
    "g1,l1,a,1,52.5,13.4,paid\n"
    "bad,l1,a,lots,52.5,13.4,paid\n"
    "g2,l1,a,2,52.5,13.4,\n"
    "g2,l2,b,1,52.5,13.4,\n"
).encode()


def stored_ids(book: BookStore) -> list[str]:
    return [o.id for o in book.list_orders(limit=500).orders]


def test_all_or_nothing_stores_nothing_on_one_bad_row(book: BookStore) -> None:
    with pytest.raises(InvalidInputError) as caught:
        import_orders(book, TWO_GOOD_ONE_BAD, "orders.csv")
    assert stored_ids(book) == []
    (d,) = caught.value.details
    assert d["field"] == "orders.csv row 3 column quantity"
    assert d["value"] == repr("lots")


def test_all_or_nothing_stores_a_good_file(book: BookStore) -> None:
    good = b"\n".join(line for line in TWO_GOOD_ONE_BAD.split(b"\n") if b"bad" not in line)
    report = import_orders(book, good, "orders.csv", channel="shop")
    assert (report.orders_read, report.orders_stored, report.orders_refused) == (2, 2, 0)
    assert report.order_ids == ["g1", "g2"]
    assert stored_ids(book) == ["g1", "g2"]
    g2 = book.get_order("g2", "shop")
    assert [(ln.id, ln.quantity) for ln in g2.lines] == [("l1", 2), ("l2", 1)]
    assert g2.payment_status == "pending" and g2.status == "on_hold"
    assert book.get_order("g1", "shop").payment_status == "authorised"


def test_per_row_stores_the_good_orders(book: BookStore) -> None:
    report = import_orders(book, TWO_GOOD_ONE_BAD, "orders.csv", mode="per_row")
    assert report.mode == "per_row"
    assert (report.orders_read, report.orders_stored, report.orders_refused) == (3, 2, 1)
    assert report.order_ids == ["g1", "g2"]
    assert problems(report.errors) == {(3, "quantity", "lots")}
    assert stored_ids(book) == ["g1", "g2"]


def test_a_second_import_of_the_same_file_is_a_replay(book: BookStore) -> None:
    import_orders(book, TWO_GOOD_ONE_BAD, "orders.csv", mode="per_row")
    again = import_orders(book, TWO_GOOD_ONE_BAD, "orders.csv", mode="per_row")
    assert (again.orders_stored, again.orders_replayed, again.orders_refused) == (0, 2, 1)
    assert stored_ids(book) == ["g1", "g2"]
    good = b"\n".join(line for line in TWO_GOOD_ONE_BAD.split(b"\n") if b"bad" not in line)
    whole = import_orders(book, good, "orders.csv")
    assert (whole.orders_stored, whole.orders_replayed) == (0, 2)
    assert whole.order_ids == ["g1", "g2"]


def test_other_content_under_a_stored_id_is_refused(book: BookStore) -> None:
    first = f"{HEADER}\nk1,l1,a,1,52.5,13.4\n".encode()
    import_orders(book, first, "day1.csv")
    changed = f"{HEADER}\nk1,l1,a,3,52.5,13.4\nk2,l1,a,1,52.5,13.4\n".encode()
    with pytest.raises(InvalidInputError) as caught:
        import_orders(book, changed, "day2.csv")
    assert [d["field"] for d in caught.value.details] == ["day2.csv row 2 column order_id"]
    assert stored_ids(book) == ["k1"]  # k2 was not stored either
    assert book.get_order("k1").lines[0].quantity == 1
    report = import_orders(book, changed, "day2.csv", mode="per_row")
    assert report.order_ids == ["k2"]
    (error,) = report.errors
    assert (error.row, error.column, error.value) == (2, "order_id", "k1")
    assert "other content" in error.message


def test_an_unknown_mode_is_refused(book: BookStore) -> None:
    with pytest.raises(InvalidInputError, match="mode"):
        import_orders(book, TWO_GOOD_ONE_BAD, "orders.csv", mode="best_effort")
