"""``routeplan bench load``: a real server on loopback under many concurrent clients."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.app import bench_app
from benchmarks.databases import POSTGRES_URL
from benchmarks.load import DATABASES, MODES, acceptance, run


def _choices(given: list[str] | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    """The values of a repeatable option, each checked against ``allowed`` (exit 2 if not)."""
    for value in given or []:
        if value not in allowed:
            raise typer.BadParameter(
                f"{value!r} is not one of {', '.join(allowed)}", param_hint=option
            )
    return tuple(given) if given else allowed


@bench_app.command("load")
def bench_load(
    out: Path = typer.Option(
        Path("bench-output/load"), "--out", help="folder for results.csv and summary.md"
    ),
    quick: bool = typer.Option(
        False, "--quick", help="a smoke run: 5 and 50 clients, 3 s each (unless given)"
    ),
    database: list[str] | None = typer.Option(
        None, "--database", help="sqlite or postgresql (repeatable; default both)"
    ),
    mode: list[str] | None = typer.Option(
        None, "--mode", help="sync or async (repeatable; default both)"
    ),
    clients: list[int] | None = typer.Option(
        None, "--clients", min=1, help="concurrent clients (repeatable; default 10 20 50 200)"
    ),
    duration_s: float | None = typer.Option(
        None, "--duration-s", min=0.5, help="seconds per run (default 20, quick 3)"
    ),
    postgres_url: str = typer.Option(POSTGRES_URL, "--postgres-url", help="PostgreSQL server"),
) -> None:
    """Drive a fresh server per run with concurrent clients, sync and async; exit 1 on any
    server or transport error. The server reads the other ``ROUTEPLAN_`` variables (API keys
    are left out)."""
    databases = _choices(database, DATABASES, "--database")
    modes = _choices(mode, MODES, "--mode")
    console = Console(stderr=True)
    with console.status("load benchmark") as status:
        runs = run(
            out,
            quick=quick,
            databases=databases,
            modes=modes,
            levels=tuple(clients) if clients else None,
            duration_s=duration_s,
            postgres_url=postgres_url,
            progress=lambda msg: status.update(msg),
        )
    table = Table(title=f"Load benchmark ({out / 'results.csv'})")
    columns = {
        "database": "database",
        "mode": "mode",
        "clients": "clients",
        "solves/s": "solves_per_s",
        "p50 ms": "latency_p50_ms",
        "p95 ms": "latency_p95_ms",
        "429 p95 ms": "busy_p95_ms",
        "statuses": "statuses",
        "5xx": "server_errors",
        "transport": "transport_errors",
        "health p95 ms": "health_p95_ms",
        "peak RSS MB": "peak_rss_mb",
    }
    for title in columns:
        table.add_column(title)
    for load_run in runs:
        row = load_run.row()
        table.add_row(*(str(row[key]) for key in columns.values()))
    Console().print(table)
    for name, met in acceptance(runs):
        Console().print(f"{name}: {({True: 'met', False: 'NOT met', None: 'not run'})[met]}")
    if any(r.tally.server_errors or r.tally.transport_errors for r in runs):
        raise typer.Exit(1)
