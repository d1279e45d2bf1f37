"""``routeplan bench day``: driver events through a real server (20 clients) and a re-plan
of the day mid-way, against a re-plan free of locks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from api.cli.app import bench_app
from benchmarks.databases import POSTGRES_URL
from benchmarks.day_bench import DATABASES, FULL, QUICK, markdown, run


@bench_app.command("day")
def bench_day(
    out: Path = typer.Option(Path("bench-output/day"), "--out", help="folder for day.json/md"),
    quick: bool = typer.Option(
        False, "--quick", help="a smoke run: 60 stops on 4 vans, 5 new orders, 1 s searches"
    ),
    database: str = typer.Option(
        "both", "--database", help="sqlite, postgres or both", case_sensitive=False
    ),
    postgres_url: str = typer.Option(
        POSTGRES_URL, "--postgres-url", help="server where a fresh database is made (and dropped)"
    ),
) -> None:
    """Dispatch a planned day, post its drivers' events from 20 clients, then re-plan it with
    urgent orders; exit 1 when a plan fails its checks or an event is refused."""
    choice = database.lower()
    if choice not in (*DATABASES, "both"):
        raise typer.BadParameter(
            f"{database!r} is not one of sqlite, postgres, both", param_hint="--database"
        )
    databases = DATABASES if choice == "both" else (choice,)
    console = Console(stderr=True)
    with console.status("through-the-day benchmark") as status:
        results = run(
            out,
            quick=quick,
            databases=databases,
            postgres_url=postgres_url,
            progress=lambda msg: status.update(msg),
        )
    Console().print(markdown(results, QUICK if quick else FULL))
    bad = [
        r.database
        for r in results
        if not r.replan_feasible
        or not r.free_feasible
        or r.events is None
        or r.events.succeeded != r.events.requests
    ]
    if bad:
        Console(stderr=True).print(f"failed checks on: {', '.join(bad)}")
        raise typer.Exit(1)
