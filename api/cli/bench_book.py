"""``routeplan bench book``: the order book through a real server: capture, reservations,
the oversell check and a day planned from the book."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.app import bench_app
from benchmarks.book import (
    DATABASES,
    POSTGRES_URL,
    day_rows,
    markdown,
    oversell_rows,
    rate_rows,
    run,
)


def _table(title: str, rows: list[dict[str, str]]) -> Table:
    table = Table(title=title)
    for column in rows[0] if rows else []:
        table.add_column(column)
    for row in rows:
        table.add_row(*row.values())
    return table


@bench_app.command("book")
def bench_book(
    out: Path = typer.Option(
        Path("bench-output/book"), "--out", help="folder for book.json and book.md"
    ),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="a smoke run: 200 orders per capture setting, 5 oversell rounds, a day of 1,000",
    ),
    database: str = typer.Option(
        "both", "--database", help="sqlite, postgres or both", case_sensitive=False
    ),
    postgres_url: str = typer.Option(
        POSTGRES_URL,
        "--postgres-url",
        help="PostgreSQL server where a fresh database is created (and dropped)",
    ),
) -> None:
    """Capture orders (1 and 20 clients), reserve (50 clients), check that 50 clients never
    oversell 20 units, and plan a day from the book, on SQLite and PostgreSQL; exit 1 when an
    oversell round fails or a ledger does not balance."""
    choice = database.lower()
    if choice not in (*DATABASES, "both"):
        raise typer.BadParameter(
            f"{database!r} is not one of sqlite, postgres, both", param_hint="--database"
        )
    databases = DATABASES if choice == "both" else (choice,)
    console = Console(stderr=True)
    with console.status("order book benchmark") as status:
        bench = run(
            out,
            quick=quick,
            databases=databases,
            postgres_url=postgres_url,
            progress=lambda msg: status.update(msg),
        )
    show = Console()
    show.print(f"Server: {bench.server}")
    show.print(_table("Capture and reservations", rate_rows(bench)))
    show.print(_table("Oversell check", oversell_rows(bench)))
    show.print(_table("A day from the book", day_rows(bench)))
    for result in bench.results:
        day = result.day
        if day is not None:
            show.print(
                f"{result.database}: {day.source}; {day.capture_path}; in-process stages "
                f"{day.in_process_s}; second commit: {day.in_process_commit}; {day.ledger_detail}"
            )
    show.print(f"Results: {out / 'book.json'}, {out / 'book.md'}")
    for result in bench.results:
        for round_ in result.oversell:
            if not round_.passed:
                show.print(
                    f"{result.database}: oversell round {round_.round} FAILED: "
                    f"{round_.succeeded} x 201, {round_.refused} x 409 insufficient_stock, "
                    f"others {round_.other_statuses}, stock {round_.stock}, "
                    f"{round_.ledger_mismatches} ledger mismatches; {round_.first_unexpected}",
                    markup=False,
                )
    show.print("Markdown for RESULTS.md:")
    typer.echo(markdown(bench))
    if not bench.passed:
        raise typer.Exit(1)
