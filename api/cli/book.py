"""``routeplan orders|stock|sites|plans``: the order book from the command line.

Every command works on the configured database (``ROUTEPLAN_DATABASE_URL``, else SQLite in
the cache folder), the one the server's order book uses; its schema is brought up to date
on first contact. Tables are for people; ``--json`` prints the records as the HTTP API
answers them. Errors exit as everywhere in the CLI (:mod:`api.cli.errors`): 2 invalid
input, 4 database unreachable, 6 a conflict with the present state (an order already in
the book with other content, a stale plan), 1 anything else (an unknown order, site or plan).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from api.cli.app import app
from api.cli.common import console, error_console
from api.cli.errors import EXIT_INVALID_INPUT
from api.formats.book_orders import import_orders
from api.settings import get_settings
from engine.book.store import BookStore
from models.book import (
    ImportReport,
    OrderHistory,
    OrderRecord,
    SiteIn,
    SiteRecord,
    StockMovementIn,
    StockPage,
)
from models.errors import InvalidInputError
from models.status import OrderStatus

orders_app = typer.Typer(
    help="Orders of the book: list, show, import from CSV.", no_args_is_help=True
)
stock_app = typer.Typer(help="Stock of the book: levels, movements.", no_args_is_help=True)
sites_app = typer.Typer(help="Sites of the book: create or replace, list.", no_args_is_help=True)
plans_app = typer.Typer(help="Stored plans: show, commit.", no_args_is_help=True)
app.add_typer(orders_app, name="orders")
app.add_typer(stock_app, name="stock")
app.add_typer(sites_app, name="sites")
app.add_typer(plans_app, name="plans")


class ModeChoice(StrEnum):
    """How ``orders import`` treats a file with bad rows (:data:`MODES`)."""

    ALL_OR_NOTHING = "all_or_nothing"
    PER_ROW = "per_row"


class KindChoice(StrEnum):
    """The kinds of stock movement a user records."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    COUNT = "count"


class SiteKindChoice(StrEnum):
    """The kinds of site."""

    WAREHOUSE = "warehouse"
    STORE = "store"


JsonFlag = Annotated[bool, typer.Option("--json", help="print the record(s) as JSON")]
ChannelOption = Annotated[
    str | None, typer.Option("--channel", help="the order's channel, when its id is in several")
]


@contextmanager
def _book() -> Iterator[BookStore]:
    """The order book of the configured database, closed afterwards."""
    store = BookStore(get_settings().job_database_url())
    try:
        yield store
    finally:
        store.close()


def _print_json(model: BaseModel) -> None:
    typer.echo(model.model_dump_json(indent=2))


def _when(value: object) -> str:
    if value is None:
        return ""
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        text = isoformat()
        return str(text)[:19] if "T" in str(text) else str(text)
    return str(value)


# --------------------------------------------------------------------------- orders


def _orders_table(orders: list[OrderRecord]) -> Table:
    table = Table("id", "channel", "status", "lines", "units", "payment", "promised", "sites")
    for order in orders:
        status = order.status.value
        if order.hold_reason is not None:
            status += f" ({order.hold_reason.value})"
        table.add_row(
            order.id,
            order.channel,
            status,
            str(len(order.lines)),
            str(sum(line.quantity for line in order.lines)),
            order.payment_status.value,
            _when(order.promised_date),
            ", ".join(order.site_ids),
        )
    return table


@orders_app.command("list")
def list_orders(
    status: Annotated[OrderStatus | None, typer.Option(help="only orders in this state")] = None,
    channel: Annotated[str | None, typer.Option(help="only orders of this channel")] = None,
    site: Annotated[str | None, typer.Option(help="only orders holding stock at this site")] = None,
    limit: Annotated[int, typer.Option(help="most orders shown (1 to 500)")] = 100,
    cursor: Annotated[str | None, typer.Option(help="the next cursor of a previous list")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Orders, oldest first (a page of --limit; the next page's --cursor is printed)."""
    with _book() as book:
        page = book.list_orders(
            status=status, channel=channel, site_id=site, cursor=cursor, limit=limit
        )
    if as_json:
        _print_json(page)
        return
    console.print(_orders_table(page.orders) if page.orders else "no orders")
    if page.next_cursor is not None:
        console.print(f"more: routeplan orders list --cursor {page.next_cursor}")


@orders_app.command("show")
def show_order(
    order_id: Annotated[str, typer.Argument(help="the order's id")],
    channel: ChannelOption = None,
    history: Annotated[bool, typer.Option("--history", help="also every transition")] = False,
    as_json: JsonFlag = False,
) -> None:
    """One order: state, payment, lines with what is reserved and shipped (and with
    --history, every change of state; --json then prints ``{order, history}``)."""
    with _book() as book:
        order = book.get_order(order_id, channel)
        past = book.history(order.id, order.channel) if history else None
    if as_json:
        if past is None:
            _print_json(order)
        else:
            both = {"order": order.model_dump(mode="json"), "history": past.model_dump(mode="json")}
            typer.echo(json.dumps(both, indent=2))
        return
    facts = Table(show_header=False, title=f"order {order.id} ({order.channel})")
    facts.add_column("field", style="bold")
    facts.add_column("value")
    rows = [
        ("status", order.status.value),
        ("hold reason", order.hold_reason.value if order.hold_reason else ""),
        ("detail", order.status_detail or ""),
        ("payment", f"{order.payment_status.value} via {order.payment_gateway}"),
        ("payment reference", order.payment_reference or ""),
        ("location", f"{order.location[0]}, {order.location[1]} (lon, lat)"),
        ("address", order.address or ""),
        ("placed", _when(order.placed_at)),
        ("promised", _when(order.promised_date)),
        ("priority", str(order.priority)),
        (
            "windows",
            "; ".join(f"{_when(w.start)} - {_when(w.end)}" for w in order.delivery_windows),
        ),
        ("plan", order.plan_id or ""),
        ("sites", ", ".join(order.site_ids)),
        ("warnings", "; ".join(order.warnings)),
        ("created", _when(order.created_at)),
        ("updated", _when(order.updated_at)),
    ]
    for name, value in rows:
        if value:
            facts.add_row(name, value)
    console.print(facts)
    lines = Table("line", "sku", "quantity", "reserved", "shipped", title="lines")
    for line in order.lines:
        lines.add_row(line.id, line.sku, str(line.quantity), str(line.reserved), str(line.shipped))
    console.print(lines)
    if past is not None:
        console.print(_history_table(past))


def _history_table(past: OrderHistory) -> Table:
    table = Table("at", "from", "to", "cause", "actor", "reason", title="history")
    for step in past.transitions:
        table.add_row(
            _when(step.at),
            step.from_status.value if step.from_status else "",
            step.to_status.value,
            step.cause.value,
            step.actor or "",
            step.reason or "",
        )
    return table


@orders_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the CSV file")
    ],
    mode: Annotated[
        ModeChoice,
        typer.Option(
            help="all_or_nothing: store nothing when a row is bad; per_row: store the good orders"
        ),
    ] = ModeChoice.ALL_OR_NOTHING,
    channel: Annotated[
        str, typer.Option(help="the channel of orders without a channel column")
    ] = "csv",
    as_json: JsonFlag = False,
) -> None:
    """Import orders from CSV (the allocation orders.csv layout, one row per line, plus
    address, service_s, payment_reference, window_start, window_end).

    Exit codes: 0 when the orders are in the book (with --mode per_row: when at least one
    order of the file is, the report listing the refused rows); 2 when --mode
    all_or_nothing refuses the file (nothing stored; one line per problem, naming row and
    column) or when --mode per_row stores none of its orders.
    """
    body = file.read_bytes()
    with _book() as book:
        report = import_orders(book, body, file.name, mode=mode.value, channel=channel)
    if as_json:
        _print_json(report)
    else:
        _print_report(report)
    in_book = report.orders_stored + report.orders_replayed
    if report.orders_refused and in_book == 0:
        raise typer.Exit(EXIT_INVALID_INPUT)


def _print_report(report: ImportReport) -> None:
    console.print(
        f"{report.orders_read} order(s) read: {report.orders_stored} stored, "
        f"{report.orders_replayed} already in the book, {report.orders_refused} refused"
    )
    if report.errors:
        table = Table("row", "column", "value", "problem", "order", title="refused rows")
        for e in report.errors:
            table.add_row(str(e.row), e.column or "", e.value or "", e.message, e.order_id or "")
        console.print(table)


# --------------------------------------------------------------------------- stock


@stock_app.command("show")
def show_stock(
    site: Annotated[str | None, typer.Option(help="only this site")] = None,
    sku: Annotated[str | None, typer.Option(help="only this sku")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Stock levels by site and sku: on hand, reserved, safety stock and available."""
    with _book() as book:
        levels = book.stock(site_id=site, sku=sku)
    if as_json:
        _print_json(StockPage(levels=levels))
        return
    table = Table("site", "sku", "on hand", "reserved", "safety", "available")
    for level in levels:
        table.add_row(
            level.site_id,
            level.sku,
            str(level.on_hand),
            str(level.reserved),
            str(level.safety_stock),
            str(level.available),
        )
    console.print(table if levels else "no stock")


@stock_app.command("move", context_settings={"ignore_unknown_options": True})
def move_stock(
    site: Annotated[str, typer.Argument(help="the site's id")],
    sku: Annotated[str, typer.Argument(help="the sku")],
    quantity: Annotated[
        int, typer.Argument(help="units: added (receipt), added or removed (adjustment), counted")
    ],
    kind: Annotated[
        KindChoice,
        typer.Option(
            help="receipt adds units, adjustment adds or removes them (-3 removes 3), "
            "count says how many are on hand",
        ),
    ],
    reference: Annotated[str | None, typer.Option(help="a reference kept in the ledger")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a receipt, an adjustment or a count: one entry of the stock ledger."""
    try:
        movement = StockMovementIn.model_validate(
            {
                "site_id": site,
                "sku": sku,
                "quantity": quantity,
                "kind": kind.value,
                "reference": reference,
            }
        )
    except ValidationError as error:
        raise InvalidInputError.from_validation(error, "the stock movement is invalid") from None
    with _book() as book:
        entry = book.move_stock(movement)
    if as_json:
        _print_json(entry)
        return
    console.print(
        f"{entry.kind} of {entry.quantity} x {entry.sku} at {entry.site_id}: "
        f"on hand {entry.on_hand_after} ({entry.delta:+d}; ledger entry {entry.id})"
    )


# --------------------------------------------------------------------------- sites


def _clock_window(text: str) -> dict[str, float]:
    """``HH:MM-HH:MM`` as seconds from the day start."""

    def seconds(part: str) -> float:
        hours, sep, minutes = part.strip().partition(":")
        if not sep or not hours.isdigit() or not minutes.isdigit():
            raise ValueError(part)
        return int(hours) * 3600.0 + int(minutes) * 60.0

    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        return {"start_s": seconds(start), "end_s": seconds(end)}
    except ValueError:
        raise InvalidInputError.for_field(
            "--open", text, "is not a clock window HH:MM-HH:MM (08:00-18:00)"
        ) from None


def _sites_table(sites: list[SiteRecord]) -> Table:
    table = Table("id", "kind", "lon", "lat", "orders/day", "units/day", "online", "channels")
    for site in sites:
        table.add_row(
            site.id,
            site.kind,
            f"{site.location[0]:.6f}",
            f"{site.location[1]:.6f}",
            "" if site.capacity_orders is None else str(site.capacity_orders),
            "" if site.capacity_units is None else str(site.capacity_units),
            "yes" if site.online else "no",
            ", ".join(site.channels) or "every channel",
        )
    return table


@sites_app.command("put")
def put_site(
    site_id: Annotated[str, typer.Argument(help="the site's id")],
    lon: Annotated[float, typer.Option(help="longitude, degrees")],
    lat: Annotated[float, typer.Option(help="latitude, degrees")],
    kind: Annotated[SiteKindChoice, typer.Option(help="the site's kind")] = (
        SiteKindChoice.WAREHOUSE
    ),
    capacity_orders: Annotated[
        int | None, typer.Option(help="orders per day (none: unlimited)")
    ] = None,
    capacity_units: Annotated[
        int | None, typer.Option(help="units per day (none: unlimited)")
    ] = None,
    handling_cost_per_unit: Annotated[float | None, typer.Option(help="cost per unit")] = None,
    open_: Annotated[
        list[str] | None,
        typer.Option("--open", help="opening hours HH:MM-HH:MM (repeat; none: always open)"),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="the site ships nothing")] = False,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="a channel served (repeat; none: all)")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a site, or replace it whole (every option not given goes back to its default)."""
    values: dict[str, Any] = {
        "kind": kind.value,
        "location": (lon, lat),
        "capacity_orders": capacity_orders,
        "capacity_units": capacity_units,
        "opening_hours": [_clock_window(text) for text in open_ or []],
        "online": not offline,
        "channels": list(channel or []),
    }
    if handling_cost_per_unit is not None:
        values["handling_cost_per_unit"] = handling_cost_per_unit
    try:
        site = SiteIn.model_validate(values)
    except ValidationError as error:
        raise InvalidInputError.from_validation(error, f"site {site_id!r} is invalid") from None
    with _book() as book:
        record, created = book.put_site(site_id, site)
    if as_json:
        _print_json(record)
        return
    console.print(f"{'created' if created else 'replaced'} site {record.id}")
    console.print(_sites_table([record]))


@sites_app.command("list")
def list_sites(as_json: JsonFlag = False) -> None:
    """Every site, by id."""
    with _book() as book:
        sites = book.list_sites()
    if as_json:
        typer.echo(json.dumps([site.model_dump(mode="json") for site in sites], indent=2))
        return
    console.print(_sites_table(sites) if sites else "no sites")


# --------------------------------------------------------------------------- plans


@plans_app.command("show")
def show_plan(
    plan_id: Annotated[str, typer.Argument(help="the plan's id")], as_json: JsonFlag = False
) -> None:
    """A stored plan: its state, headline figures and what it left out."""
    with _book() as book:
        plan = book.get_plan(plan_id)
    if as_json:
        _print_json(plan)
        return
    k = plan.kpis
    console.print(
        f"plan {plan.id}: {plan.status} (from {plan.source}"
        + (f", for {plan.plan_date}" if plan.plan_date else "")
        + f"), made {_when(plan.created_at)}"
        + (f", committed {_when(plan.committed_at)}" if plan.committed_at else "")
    )
    console.print(
        f"orders {k.orders} ({k.orders_complete} complete), shipments {k.shipments} "
        f"({k.shipments_by_van} by van, {k.shipments_by_carrier} by carrier), "
        f"vans {k.vehicles_used}, {k.distance_m / 1000:.1f} km, cost {k.cost:,.2f}"
    )
    if plan.unassigned:
        table = Table("stage", "order", "line", "site", "reason", "why", title="left out")
        for item in plan.unassigned:
            table.add_row(
                item.stage,
                str(item.order_id),
                "" if item.line_id is None else str(item.line_id),
                "" if item.site_id is None else str(item.site_id),
                item.reason,
                item.message,
            )
        console.print(table)


@plans_app.command("commit")
def commit_plan(
    plan_id: Annotated[str, typer.Argument(help="the plan's id")], as_json: JsonFlag = False
) -> None:
    """Reserve a draft plan's stock and move its orders (allocated, or backordered), all or
    nothing. A stale plan (stock or orders changed since it was made) reserves nothing: one
    line per change, exit 6; plan again."""
    with _book() as book:
        result = book.commit_plan(plan_id)
    if as_json:
        _print_json(result)
        return
    console.print(
        f"plan {result.plan_id} {result.status}: {result.reservations} reservation(s), "
        f"{result.units_reserved} unit(s) reserved"
    )
    table = Table("order", "channel", "status", "detail")
    for order in result.orders:
        table.add_row(order.order_id, order.channel, order.status.value, order.detail or "")
    console.print(table)
    if not result.orders:
        error_console.print("the plan had no orders of the book")
