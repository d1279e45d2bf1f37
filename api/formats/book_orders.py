"""Orders for the book from CSV: the allocation order format, plus the book's own columns.

One row per order line: ``order_id, line_id, sku, quantity, lat, lon`` and the optional
order columns of orders.csv (``channel, priority, created_date, promised_date,
payment_status, ship_complete, max_shipments``; see :mod:`api.formats.allocation_files`),
plus ``address``, ``service_s``, ``payment_reference`` and a delivery window
``window_start, window_end`` (ISO date-times, UTC when no offset is given). Order-level
values are read from an order's first row. ``created_date`` becomes ``placed_at`` (midnight
UTC); ``payment_status`` is ``pending`` (blank), ``authorised`` (also ``authorized`` or
``paid``) or ``captured``. The body is UTF-8, with or without a byte-order mark.

Every problem is an :class:`ImportRowError` naming the row (1 = the header, so the first
data row is 2), the column, the value and why. :func:`import_orders` stores what is read:
``all_or_nothing`` stores nothing when anything is wrong (an :class:`InvalidInputError` with
every problem), ``per_row`` stores each good order on its own and reports the others. An
order already in the book with the same content is a replay, counted but not stored again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from api.formats.allocation_files import (
    FALSE_WORDS,
    ORDER_COLUMNS,
    ORDER_OPTIONAL,
    TRUE_WORDS,
    unknown_column_why,
)
from engine.book.store import BookStore
from models.book import ImportReport, ImportRowError, OrderIn, OrderLineIn
from models.errors import ConflictError, ErrorCode, InvalidInputError, detail

#: Most data rows one import reads.
MAX_IMPORT_ROWS = 100_000
#: The book's own optional columns, beside those of the allocation's orders.csv.
BOOK_OPTIONAL = ("address", "service_s", "payment_reference", "window_start", "window_end")
#: Every column an order file may have.
KNOWN_COLUMNS = ORDER_COLUMNS + ORDER_OPTIONAL + BOOK_OPTIONAL
#: How an import treats a file with bad rows.
ImportMode = Literal["all_or_nothing", "per_row"]
MODES: tuple[ImportMode, ...] = ("all_or_nothing", "per_row")

_PAYMENT = {
    "pending": "pending",
    "authorised": "authorised",
    "authorized": "authorised",
    "paid": "authorised",
    "captured": "captured",
}
#: The column of the file behind each field of :class:`OrderIn` (and of its lines).
_ORDER_FIELD_COLUMN = {
    "id": "order_id",
    "channel": "channel",
    "address": "address",
    "placed_at": "created_date",
    "promised_date": "promised_date",
    "priority": "priority",
    "delivery_windows": "window_start",
    "service_s": "service_s",
    "ship_complete": "ship_complete",
    "max_shipments": "max_shipments",
    "payment_status": "payment_status",
    "payment_reference": "payment_reference",
}
_LINE_FIELD_COLUMN = {"id": "line_id", "sku": "sku", "quantity": "quantity"}
_CLASH = re.compile(r"^orders\[(\d+)\]")


class _CellError(ValueError):
    """A cell that cannot be read: its column and why."""

    def __init__(self, column: str, why: str) -> None:
        super().__init__(why)
        self.column = column
        self.why = why


@dataclass
class _Parsed:
    """What a file holds: its orders (with the row of their first line), the problems, and
    how many orders it names."""

    orders: list[tuple[int, OrderIn]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)
    orders_read: int = 0


@dataclass
class _Cells:
    """The data rows of one order: ``(row number, {column: text})`` each."""

    rows: list[tuple[int, dict[str, str]]]

    def first(self, column: str) -> str:
        """The order-level value: the cell of the order's first row (blank if no column)."""
        return self.rows[0][1].get(column, "")


# --------------------------------------------------------------------------- cells


def _number(cells: dict[str, str], column: str, *, whole: bool, blank_ok: bool) -> Any:
    text = cells.get(column, "")
    if text == "":
        if blank_ok:
            return None
        raise _CellError(column, "is empty")
    try:
        value = float(text)
    except ValueError:
        raise _CellError(column, "is not a number") from None
    if not math.isfinite(value):
        raise _CellError(column, "is not finite")
    if whole:
        if value != int(value):
            raise _CellError(column, "is not a whole number")
        return int(value)
    return value


def _flag(cells: dict[str, str], column: str) -> bool:
    text = cells.get(column, "").lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise _CellError(column, "is not yes or no (true/false, 1/0, y/n)")


def _date(cells: dict[str, str], column: str) -> dt.date | None:
    text = cells.get(column, "")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise _CellError(column, "is not a date (YYYY-MM-DD)") from None


def _time(cells: dict[str, str], column: str) -> dt.datetime | None:
    text = cells.get(column, "")
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _CellError(
            column, "is not an ISO date-time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _text(cells: dict[str, str], column: str) -> str | None:
    return cells.get(column, "") or None


# --------------------------------------------------------------------------- file


def _error(
    row: int, column: str | None, value: str | None, why: str, order_id: str | None = None
) -> ImportRowError:
    return ImportRowError(row=row, column=column, value=value, message=why, order_id=order_id)


def _records(body: bytes, source: str) -> tuple[list[tuple[int, list[str]]], ImportRowError | None]:
    """The file's records with their row numbers (blank ones left out), or the one problem
    that makes it unreadable."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        why = f"{source} is not UTF-8 text (byte {body[exc.start]:#04x} at offset {exc.start})"
        return [], _error(1, None, None, why)
    if "\x00" in text:
        return [], _error(1, None, None, f"{source} is not CSV (it holds NUL bytes)")
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row_no, record in enumerate(reader, start=1):
            if row_no > MAX_IMPORT_ROWS + 1:
                raise InvalidInputError.for_field(
                    source,
                    f"more than {MAX_IMPORT_ROWS} rows",
                    f"is over the limit of {MAX_IMPORT_ROWS} data rows per import; split it",
                )
            cells = [cell.strip() for cell in record]
            if any(cells):
                out.append((row_no, cells))
    except csv.Error as exc:
        return [], _error(1, None, None, f"{source} is not CSV (line {reader.line_num}: {exc})")
    if not out or out[0][0] != 1:
        return [], _error(
            1, None, None, f"{source} has no header row (it starts blank or is empty)"
        )
    return out, None


def _header_errors(header: list[str]) -> list[ImportRowError]:
    errors: list[ImportRowError] = []
    seen: set[str] = set()
    for column in header:
        if column in seen:
            errors.append(_error(1, column, column, "is given twice in the header"))
        seen.add(column)
        why = unknown_column_why(column, KNOWN_COLUMNS)
        if why is not None:
            errors.append(_error(1, column, column, why))
    for column in ORDER_COLUMNS:
        if column not in seen:
            present = ", ".join(header)
            errors.append(
                _error(1, column, None, f"is a required column; the header has: {present}")
            )
    return errors


def _parse(body: bytes, source: str, channel: str) -> _Parsed:
    parsed = _Parsed()
    records, unreadable = _records(body, source)
    if unreadable is not None:
        parsed.errors.append(unreadable)
        return parsed
    header = records[0][1]
    parsed.errors.extend(_header_errors(header))
    if parsed.errors:
        return parsed
    groups: dict[str, _Cells] = {}
    for row_no, cells in records[1:]:
        if len(cells) > len(header):
            why = f"has {len(cells)} cells; the header has {len(header)} columns"
            parsed.errors.append(_error(row_no, None, None, why))
            continue
        values = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))
        order_id = values["order_id"]
        if not order_id:
            parsed.errors.append(_error(row_no, "order_id", "", "is empty"))
            continue
        groups.setdefault(order_id, _Cells([])).rows.append((row_no, values))
    parsed.orders_read = len(groups)
    for order_id, group in groups.items():
        order, problems = _order(order_id, group, channel)
        if order is not None:
            parsed.orders.append((group.rows[0][0], order))
        parsed.errors.extend(problems)
    parsed.errors.sort(key=lambda e: e.row)
    return parsed


def _order(
    order_id: str, cells: _Cells, channel: str
) -> tuple[OrderIn | None, list[ImportRowError]]:
    """One order from its rows, or the problems of its cells."""
    problems: list[ImportRowError] = []
    first_row, first = cells.rows[0]

    def refuse(row: int, column: str | None, why: str, value: str | None = None) -> None:
        if value is None and column is not None:
            value = dict(cells.rows).get(row, {}).get(column)
        problems.append(_error(row, column, value, why, order_id))

    lines: list[OrderLineIn] = []
    line_rows: list[int] = []
    seen_lines: dict[str, int] = {}
    for row_no, row in cells.rows:
        try:
            quantity = _number(row, "quantity", whole=True, blank_ok=False)
            lines.append(OrderLineIn(id=row["line_id"], sku=row["sku"], quantity=quantity))
            line_rows.append(row_no)
        except _CellError as exc:
            refuse(row_no, exc.column, exc.why)
        except ValidationError as exc:
            for item in exc.errors(include_url=False):
                name = str(item["loc"][0]) if item["loc"] else "id"
                refuse(row_no, _LINE_FIELD_COLUMN.get(name, name), _message(item))
        line_id = row["line_id"]
        if line_id in seen_lines:
            refuse(
                row_no,
                "line_id",
                f"is given twice in this order (first at row {seen_lines[line_id]})",
            )
        seen_lines.setdefault(line_id, row_no)

    values: dict[str, Any] = {"id": order_id, "channel": first.get("channel") or channel}
    readers: list[tuple[str, Any]] = [
        ("lon", lambda: _number(first, "lon", whole=False, blank_ok=False)),
        ("lat", lambda: _number(first, "lat", whole=False, blank_ok=False)),
        ("priority", lambda: _number(first, "priority", whole=True, blank_ok=True)),
        ("placed_at", lambda: _midnight(_date(first, "created_date"))),
        ("promised_date", lambda: _date(first, "promised_date")),
        ("payment_status", lambda: _payment(first)),
        ("ship_complete", lambda: _flag(first, "ship_complete")),
        ("max_shipments", lambda: _number(first, "max_shipments", whole=True, blank_ok=True)),
        ("address", lambda: _text(first, "address")),
        ("service_s", lambda: _number(first, "service_s", whole=False, blank_ok=True)),
        ("payment_reference", lambda: _text(first, "payment_reference")),
        ("window_start", lambda: _time(first, "window_start")),
        ("window_end", lambda: _time(first, "window_end")),
    ]
    read: dict[str, Any] = {}
    for name, reader in readers:
        try:
            read[name] = reader()
        except _CellError as exc:
            refuse(first_row, exc.column, exc.why)
    start, end = read.get("window_start"), read.get("window_end")
    if "window_start" in read and "window_end" in read and (start is None) != (end is None):
        missing = "window_end" if end is None else "window_start"
        refuse(
            first_row, missing, "is empty; a delivery window needs both window_start and window_end"
        )
    # Validate what was read, even beside bad cells, so that every problem is reported: a
    # field whose cell was bad is left at its default (or a stand-in) and its errors ignored.
    skip_under: set[tuple[int | str, ...]] = set()  # errors at or below these are skipped
    skip_at: set[tuple[int | str, ...]] = set()  # errors exactly here are skipped
    for index, name in enumerate(("lon", "lat")):
        if read.get(name) is None:
            read[name] = 0.0
            skip_under.add(("location", index))
    if not lines:
        lines = [OrderLineIn(id="_", sku="_", quantity=1)]
        skip_under.add(("lines",))
    if len(seen_lines) < len(cells.rows):
        skip_at.add(("lines",))  # a line id given twice is reported above, at its row
    values["location"] = (read["lon"], read["lat"])
    values["lines"] = lines
    for name in ("placed_at", "promised_date", "max_shipments", "address", "service_s"):
        if read.get(name) is not None:
            values[name] = read[name]
    for name in ("priority", "payment_status", "payment_reference", "ship_complete"):
        if read.get(name) is not None:
            values[name] = read[name]
    if start is not None and end is not None:
        values["delivery_windows"] = [{"start": start, "end": end}]
    try:
        order = OrderIn.model_validate(values)
    except ValidationError as exc:
        for item in exc.errors(include_url=False):
            loc = tuple(item["loc"])
            if loc in skip_at or any(loc[: len(p)] == p for p in skip_under):
                continue
            at_row, column = _where(loc, line_rows, first_row)
            refuse(at_row, column, _message(item))
        return None, problems
    return (None, problems) if problems else (order, [])


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _payment(cells: dict[str, str]) -> str | None:
    text = cells.get("payment_status", "").lower()
    if not text:
        return None
    if text not in _PAYMENT:
        raise _CellError(
            "payment_status", "is not pending, authorised (authorized, paid) or captured"
        )
    return _PAYMENT[text]


def _message(item: Any) -> str:
    return str(item["msg"]).removeprefix("Value error, ")


def _where(
    loc: tuple[int | str, ...], line_rows: list[int], first_row: int
) -> tuple[int, str | None]:
    """The row and column behind a validation error's location in :class:`OrderIn`."""
    if not loc:
        return first_row, None
    head = str(loc[0])
    if head == "lines":
        if len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(line_rows):
            name = str(loc[2]) if len(loc) > 2 else "line_id"
            return line_rows[loc[1]], _LINE_FIELD_COLUMN.get(name, "line_id")
        return first_row, "line_id"
    if head == "location":
        if len(loc) > 1 and loc[1] == 1:
            return first_row, "lat"
        return first_row, "lon"
    if head == "delivery_windows" and len(loc) > 2 and loc[2] == "end":
        return first_row, "window_end"
    return first_row, _ORDER_FIELD_COLUMN.get(head)


# --------------------------------------------------------------------------- public


def parse_orders_csv(
    body: bytes, source: str, channel: str
) -> tuple[list[tuple[int, OrderIn]], list[ImportRowError]]:
    """The orders of a CSV body, each with the row of its first line, and every problem
    (row, column, value, why). ``channel`` is for orders without a channel cell; ``source``
    names the body in messages. More than :data:`MAX_IMPORT_ROWS` data rows is an
    :class:`InvalidInputError`."""
    parsed = _parse(body, source, channel)
    return parsed.orders, parsed.errors


def _refusal(source: str, errors: list[ImportRowError]) -> InvalidInputError:
    details = []
    for e in errors:
        where = f"{source} row {e.row}" + ("" if e.column is None else f" column {e.column}")
        details.append(detail(where, e.value, e.message))
    n = len(errors)
    return InvalidInputError(
        f"{source}: {n} problem{'s' * (n != 1)}; nothing was stored (mode all_or_nothing)",
        details,
    )


def _clash(row: int, order: OrderIn) -> ImportRowError:
    return _error(row, "order_id", order.id, "already in the book with other content", order.id)


def import_orders(
    book: BookStore,
    body: bytes,
    source: str,
    *,
    mode: str = "all_or_nothing",
    channel: str = "csv",
    actor: str | None = None,
) -> ImportReport:
    """Read a CSV body of orders and store them in ``book`` (see the module's docstring).

    ``all_or_nothing``: any problem (a bad cell, an order already in the book with other
    content) raises :class:`InvalidInputError` with every problem, and nothing is stored;
    else every order is stored in one transaction. ``per_row``: each good order is stored
    on its own; the report lists the others' problems. ``order_ids`` lists the orders of
    the file now in the book (stored or replayed), in file order.
    """
    if mode not in MODES:
        raise InvalidInputError.for_field("mode", mode, f"is not one of {', '.join(MODES)}")
    parsed = _parse(body, source, channel)
    errors = list(parsed.errors)
    stored: list[tuple[str, bool]] = []
    if any(error.row == 1 for error in errors):  # the file or its header: no row is readable
        raise _refusal(source, errors)
    if mode == "all_or_nothing":
        if errors:
            raise _refusal(source, errors)
        try:
            done = book.capture_many([order for _row, order in parsed.orders], actor=actor)
        except ConflictError as exc:
            if exc.code is not ErrorCode.ORDER_EXISTS:
                raise
            for d in exc.details:
                found = _CLASH.match(str(d.get("field", "")))
                if found is not None and int(found[1]) < len(parsed.orders):
                    errors.append(_clash(*parsed.orders[int(found[1])]))
            if not errors:
                raise
            raise _refusal(source, errors) from None
        stored = [(record.id, created) for record, created in done]
    else:
        for row, order in parsed.orders:
            try:
                ((record, created),) = book.capture_many([order], actor=actor)
            except ConflictError as exc:
                if exc.code is not ErrorCode.ORDER_EXISTS:
                    raise
                errors.append(_clash(row, order))
                continue
            except InvalidInputError as exc:
                errors.append(_error(row, None, None, exc.message, order.id))
                continue
            stored.append((record.id, created))
        errors.sort(key=lambda e: e.row)
    created_n = sum(1 for _id, created in stored if created)
    return ImportReport(
        mode="per_row" if mode == "per_row" else "all_or_nothing",
        orders_read=parsed.orders_read,
        orders_stored=created_n,
        orders_replayed=len(stored) - created_n,
        orders_refused=parsed.orders_read - len(stored),
        errors=errors,
        order_ids=[order_id for order_id, _created in stored],
    )
