"""``routeplan bench vrp``: routeplan and its peers on CVRPLIB X and Solomon instances."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.app import bench_app
from api.cli.common import console, error_console, fail_invalid
from api.settings import get_settings
from benchmarks.vrp_bench import (
    CVRP_SUBDIR,
    QUICK_INSTANCES,
    QUICK_TIME_LIMIT_S,
    BenchConfig,
    BenchReport,
    collect_instances,
    default_solvers,
    format_group_gap,
    mean_gaps,
    quick_folders,
    run_benchmark,
)
from benchmarks.vrp_peers import SOLVERS, available_solvers

DEFAULT_TIME_LIMIT_S = 30.0


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _solvers(text: str | None) -> list[str]:
    """The solvers asked for (all runnable ones by default); unknown or missing ones exit 2."""
    status = available_solvers()
    if text is None:
        runnable, skipped = default_solvers()
        for name, why in skipped.items():
            console.print(f"[yellow]skipping {name}: {why}[/]")
        return runnable
    asked = _names(text)
    unknown = [s for s in asked if s not in SOLVERS]
    if unknown:
        fail_invalid(f"--solvers: unknown solver(s) {unknown}; known: {', '.join(SOLVERS)}")
    missing = [f"--solvers: {s} is unavailable: {status[s]}" for s in asked if status[s]]
    if missing:
        fail_invalid(missing)
    return list(dict.fromkeys(asked))


def _results_table(report: BenchReport) -> Table:
    table = Table(title="VRP benchmark")
    for name in ("instance", "solver", "cost", "gap %", "veh", "s", "ok"):
        table.add_column(
            name, justify="left" if name in ("instance", "solver") else "right", no_wrap=True
        )
    for row in report.rows:
        table.add_row(
            row.instance,
            row.solver,
            "-" if row.cost is None else f"{row.cost:.1f}",
            "-" if row.gap_pct is None else f"{row.gap_pct:.2f}",
            str(row.vehicles),
            f"{row.seconds:.1f}",
            "[green]yes[/]" if row.feasible else "[red]no[/]",
        )
    return table


def _gaps_table(report: BenchReport) -> Table:
    solvers = list(dict.fromkeys(r.solver for r in report.rows))
    table = Table(title="Mean gap to best-known, % (feasible / runs)")
    table.add_column("set", no_wrap=True)
    for solver in solvers:
        table.add_column(solver, justify="right", no_wrap=True)
    for name, cells in mean_gaps(report.rows):
        table.add_row(name, *(format_group_gap(cells.get(s)) for s in solvers))
    return table


@bench_app.command("vrp")
def bench_vrp(
    instances: Annotated[
        list[Path] | None,
        typer.Option(
            help="folder of .vrp/.txt instances (repeatable); default <shared>/vrp/cvrp",
            show_default=False,
        ),
    ] = None,
    only: Annotated[str | None, typer.Option(help="comma-separated instance names to run")] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(help=f"seconds per run [default: {DEFAULT_TIME_LIMIT_S:g}, quick: 2]"),
    ] = None,
    solvers: Annotated[
        str | None,
        typer.Option(help=f"comma-separated, from {','.join(SOLVERS)} [default: all available]"),
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed for every solver that takes one")] = 0,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("bench-vrp"),
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help=f"CI smoke run: {', '.join(QUICK_INSTANCES)}, 2 s per run; implies --strict",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="exit 1 if any run of any solver has no feasible plan or leaves a client out",
        ),
    ] = False,
) -> None:
    """Run each instance with each solver, one at a time, and compare with best-known costs.

    Writes results.csv, solutions/<solver>/<instance>.sol, summary.md, gap.png and
    convergence.png to --out. Every plan is checked by the evaluator. With --strict (and
    --quick) the command exits 1 when any run has no feasible plan or leaves a client out.
    """
    shared = get_settings().shared_data_dir()
    if quick:
        folders = instances or quick_folders(shared)
        names = _names(only) or list(QUICK_INSTANCES)
        limit_s = QUICK_TIME_LIMIT_S if time_limit is None else time_limit
    else:
        folders = instances or [shared / CVRP_SUBDIR]
        names = _names(only)
        limit_s = DEFAULT_TIME_LIMIT_S if time_limit is None else time_limit
    if not limit_s > 0:
        fail_invalid(f"--time-limit must be > 0, got {limit_s}")
    chosen = _solvers(solvers)
    if not chosen:
        fail_invalid("--solvers: no solver can run here")
    try:
        paths = collect_instances(folders, names or None)
        config = BenchConfig(paths, chosen, limit_s, out, seed)
    except ValueError as error:
        fail_invalid(str(error))

    runs = len(paths) * len(chosen)
    console.print(
        f"{len(paths)} instances x {len(chosen)} solvers ({', '.join(chosen)}), "
        f"{limit_s:g} s per run, about {runs * limit_s / 60:.1f} min"
    )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=runs)
        started = [0]

        def on_start(i: int, n: int, name: str, solver: str) -> None:
            if started[0]:
                progress.advance(task)
            started[0] += 1
            progress.update(task, description=f"instance {i} of {n}: {name} · {solver}")

        report = run_benchmark(config, on_start)
        progress.advance(task)
    console.print(_results_table(report))
    console.print(_gaps_table(report))
    failures = report.failures()
    if failures:
        error_console.print(
            f"[yellow]{len(failures)} of {len(report.rows)} runs without a feasible plan "
            "serving every client (see the notes in summary.md)[/]"
        )
    console.print(f"results, .sol files, summary.md and plots written to {out}")
    if failures and (strict or quick):
        for line in failures:
            error_console.print(f"[red]failed: {line}[/]")
        raise typer.Exit(1)
    raise typer.Exit(0)
