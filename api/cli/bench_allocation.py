"""``routeplan bench allocation``: MIP against the greedy baselines, Olist and synthetic."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.cli.app import bench_app
from api.settings import get_settings
from benchmarks.allocation import run


@bench_app.command("allocation")
def bench_allocation(
    out: Path = typer.Option(
        Path("benchmarks/results/allocation"),
        "--out",
        help="folder for rows.json, plots and the instances' CSV files",
    ),
    quick: bool = typer.Option(False, "--quick", help="small instances only (CI)"),
    results: Path | None = typer.Option(
        None, "--results", help="update the '## Allocation' section of this RESULTS.md"
    ),
    instances: Path | None = typer.Option(
        None, "--instances", help="keep the instances' CSV files here (default: temporary)"
    ),
) -> None:
    """Benchmark the allocation MIP against both greedy baselines."""
    console = Console(stderr=True)
    with console.status("allocation benchmark") as status:
        rows = run(
            out,
            quick,
            get_settings().shared_data_dir(),
            update_results=results,
            progress=lambda msg: status.update(msg),
            instances=instances,
        )
    table = Table(title="Allocation benchmark")
    for col in (
        "instance",
        "MIP cost",
        "greedy nearest",
        "greedy fewest",
        "gap",
        "splits",
        "seconds",
        "checker",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.name,
            f"{r.mip_cost:,.0f}",
            f"{r.greedy_nearest_cost:,.0f}",
            f"{r.greedy_fewest_cost:,.0f}",
            "n/a" if r.gap is None else f"{100 * r.gap:.3f}%",
            str(r.mip_splits),
            f"{r.seconds:.1f}",
            "ok" if r.checker_ok else "FAILED",
        )
    Console().print(table)
    if not all(r.checker_ok for r in rows):
        raise typer.Exit(1)
