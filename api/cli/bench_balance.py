"""``routeplan bench balance``: the workload-balance trade-off curve on the sample day."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from api.cli.app import bench_app
from api.formats.sample_day import sample_day
from benchmarks.balance import markdown, run


@bench_app.command("balance")
def bench_balance(
    out: Path = typer.Option(Path("bench-output/balance"), "--out", help="folder for balance.*"),
    quick: bool = typer.Option(False, "--quick", help="40 stops, two weights, 1 s searches"),
    seed: int = typer.Option(0, "--seed", help="search seed"),
) -> None:
    """Plan the sample day at several balance weights (duration and stops); exit 1 when a
    plan fails the evaluator."""
    console = Console(stderr=True)
    with console.status("balance curve") as status:
        rows = run(
            out,
            lambda n, limit_s: sample_day(n, time_limit_s=limit_s),
            quick=quick,
            seed=seed,
            progress=lambda msg: status.update(msg),
        )
    Console().print(markdown(rows, quick))
    if not all(r.feasible for r in rows):
        Console(stderr=True).print("a plan failed the evaluator")
        raise typer.Exit(1)
