"""``routeplan allocate``: which site ships which order lines, from CSV or JSON files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from api.cli.app import app
from api.formats.allocation_files import (
    LoadedInput,
    load_csv,
    load_json,
    write_result_json,
    write_shipments_csv,
)
from engine.allocation import allocate as run_allocation
from models.allocation import AllocationOptions
from models.errors import InvalidInputError, detail


def _load(
    orders: Path | None,
    stock: Path | None,
    sites: Path | None,
    request: Path | None,
    given: dict[str, Any],
    plan_date: dt.date | None,
) -> LoadedInput:
    """The request; ``given`` holds only the option flags the user gave, and only they
    override the options of a ``--request`` file."""
    if request is not None:
        loaded = load_json(request)
        merged = loaded.request.options.model_dump() | given
        loaded.request = loaded.request.model_copy(
            update={
                "options": _options(merged),
                "plan_date": plan_date or loaded.request.plan_date,
            }
        )
        return loaded
    missing = [
        n for n, p in (("--orders", orders), ("--stock", stock), ("--sites", sites)) if p is None
    ]
    if missing:
        names = ", ".join(missing)
        why = "is required without --request"
        raise InvalidInputError(f"{names} {why}", [detail(names, None, why)])
    assert orders is not None and stock is not None and sites is not None
    return load_csv(orders, stock, sites, options=_options(given), plan_date=plan_date)


def _options(values: dict[str, Any]) -> AllocationOptions:
    """The options validated; a bad value is invalid input naming the option."""
    try:
        return AllocationOptions.model_validate(values)
    except ValidationError as error:
        raise InvalidInputError.from_validation(error, "invalid allocation options") from None


@app.command("allocate")
def allocate_command(
    orders: Path | None = typer.Option(None, "--orders", help="orders.csv, one row per line"),
    stock: Path | None = typer.Option(None, "--stock", help="stock.csv"),
    sites: Path | None = typer.Option(None, "--sites", help="sites.csv"),
    request: Path | None = typer.Option(
        None, "--request", help="a whole request as JSON (instead of the three CSV files)"
    ),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=0.1, help="seconds for the MIP [default: the file's, else 10]"
    ),
    method: str | None = typer.Option(
        None, "--method", help="mip, greedy_nearest or greedy_fewest_splits [default: mip]"
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="highs, scip or cp_sat [default: highs]"
    ),
    plan_date: str | None = typer.Option(None, "--plan-date", help="ship date, YYYY-MM-DD"),
    out: Path | None = typer.Option(None, "--out", help="write the whole result as JSON"),
    shipments: Path | None = typer.Option(
        None, "--shipments", help="write shipments.csv (and unfulfilled.csv beside it)"
    ),
    explain: bool | None = typer.Option(
        None, "--explain/--no-explain", help="per-order explanations [default: on]"
    ),
) -> None:
    """Allocate the day's orders to sites: cost-optimal MIP, compared with greedy."""
    console = Console(stderr=True)
    try:
        day = dt.date.fromisoformat(plan_date) if plan_date else None
    except ValueError:
        raise InvalidInputError.for_field(
            "--plan-date", plan_date, "is not a date (YYYY-MM-DD)"
        ) from None
    flags = {"time_limit_s": time_limit, "method": method, "backend": backend, "explain": explain}
    given = {key: value for key, value in flags.items() if value is not None}
    with console.status("reading input") as status:
        loaded = _load(orders, stock, sites, request, given, day)
        status.update(f"allocating {len(loaded.request.orders)} orders")

        def progress(stage: str, seconds: float) -> None:
            status.update(f"{stage} ({seconds:.1f} s)")

        result = run_allocation(loaded.request, loaded.rejected, progress=progress)
    if out is not None:
        write_result_json(result, out)
    if shipments is not None:
        write_shipments_csv(result, shipments)
    t = result.totals
    table = Table(title="Allocation")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("orders", str(t.orders))
    table.add_row(
        "allocated / partial / unfulfilled",
        f"{t.orders_allocated} / {t.orders_partial} / {t.orders_unfulfilled}",
    )
    table.add_row("units shipped / requested", f"{t.units_shipped} / {t.units_requested}")
    table.add_row("shipments (splits)", f"{t.shipments} ({t.splits})")
    table.add_row("shipping cost", f"{t.shipping_cost:,.2f}")
    table.add_row("unfulfilled penalty", f"{t.unfulfilled_penalty:,.2f}")
    table.add_row("total cost", f"{t.objective:,.2f}")
    for base in result.baselines:
        delta = t.objective - base.objective
        pct = 100 * delta / base.objective if base.objective else 0.0
        table.add_row(f"vs {base.method}", f"{delta:+,.2f} ({pct:+.2f}%)")
    s = result.stats
    gap = "n/a" if s.gap is None else f"{100 * s.gap:.3f}%"
    table.add_row("solver", f"{s.method} {s.backend or ''} {s.status}, gap {gap}")
    table.add_row("seconds", f"{s.solve_time_s:.2f}")
    reasons: dict[str, int] = {}
    for u in result.unfulfilled:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    for reason, n in sorted(reasons.items()):
        table.add_row(f"unfulfilled lines: {reason}", str(n))
    Console().print(table)
