"""What CLI commands share: error exits, the progress bar around a solve, result tables."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.errors import error_console
from models.errors import InvalidInputError, detail
from models.routing import RoutingResult

console = Console()
T = TypeVar("T")

__all__ = [
    "console",
    "error_console",
    "fail_invalid",
    "print_result_summary",
    "routes_table",
    "run_with_progress",
]


def _detail(line: str) -> dict[str, Any]:
    field, sep, why = line.partition(": ")
    return detail(field, None, why) if sep else detail("(input)", None, line)


def fail_invalid(message: str | list[str]) -> NoReturn:
    """Raise :class:`InvalidInputError` (exit 2) for problems written ``field: why``, one
    line each."""
    lines = [message] if isinstance(message, str) else message
    if len(lines) == 1 and ": " not in lines[0]:
        raise InvalidInputError(lines[0])
    summary = lines[0] if len(lines) == 1 else f"{len(lines)} problems"
    raise InvalidInputError(summary, [_detail(line) for line in lines])


def run_with_progress(
    label: str, time_limit_s: float, work: Callable[[Callable[[float, float], None]], T]
) -> T:
    """Run ``work(on_progress)`` in a thread, showing elapsed time and the search's best
    objective so far (its own weighted figure, not the plan's cost printed afterwards)."""
    best: list[float] = []
    outcome: list[T] = []
    failure: list[BaseException] = []

    def on_progress(_elapsed: float, cost: float) -> None:
        best.append(cost)

    def target() -> None:
        try:
            outcome.append(work(on_progress))
        except BaseException as error:  # re-raised in the calling thread
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TimeElapsedColumn(),
        TextColumn("search objective {task.fields[best]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=time_limit_s, best="-")
        began = time.perf_counter()
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            progress.update(
                task,
                completed=min(time.perf_counter() - began, time_limit_s),
                best=f"{best[-1]:,.2f}" if best else "-",
            )
    if failure:
        raise failure[0]
    return outcome[0]


def routes_table(result: RoutingResult) -> Table:
    """A table with one row per route, the drop penalty of the unassigned stops (when there
    is one) on its own row, and a total row (``summary.cost``: routes plus drop penalty)."""
    table = Table(title="Routes", show_footer=False)
    for name in ("vehicle", "stops", "km", "start", "end", "driving", "waiting", "cost"):
        table.add_column(name, justify="left" if name == "vehicle" else "right")

    def clock(seconds: float) -> str:
        whole = round(seconds)
        return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}"

    def hours(seconds: float) -> str:
        return f"{seconds / 3600:.1f} h"

    for route in result.routes:
        s = route.summary
        table.add_row(
            str(route.vehicle_id),
            str(s.stops),
            f"{s.distance_m / 1000:.1f}",
            clock(s.start_s),
            clock(s.end_s),
            hours(s.travel_s),
            hours(s.waiting_s),
            f"{s.cost:,.2f}",
        )
    total = result.summary
    if total.drop_penalty:
        table.add_row("drop penalty", *[""] * 6, f"{total.drop_penalty:,.2f}")
        table.caption = f"total cost = routes + drop penalty of {total.unassigned} unassigned"
    table.add_row(
        "[bold]total",
        str(total.stops_served),
        f"{total.distance_m / 1000:.1f}",
        "",
        "",
        hours(total.travel_s),
        hours(total.waiting_s),
        f"[bold]{total.cost:,.2f}",
    )
    return table


def print_result_summary(result: RoutingResult, n_vehicles: int | None = None) -> None:
    """The routes table, the unassigned stops with reasons, and the evaluator's verdict."""
    console.print(routes_table(result))
    if result.unassigned:
        table = Table(title="Unassigned stops")
        table.add_column("stop")
        table.add_column("reason")
        table.add_column("why")
        for item in result.unassigned:
            table.add_row(str(item.id), item.reason.value, item.message)
        console.print(table)
    stats = result.stats
    verdict = result.evaluation
    console.print(
        f"status [bold]{stats.status}[/]  backend {stats.backend}  "
        f"solve {stats.solve_s:.1f} s  first solution "
        f"{'-' if stats.first_solution_s is None else f'{stats.first_solution_s:.2f} s'}  "
        f"vehicles used {result.summary.routes}"
        + (f" of {n_vehicles}" if n_vehicles is not None else "")
    )
    if verdict is not None:
        if verdict.feasible:
            console.print("[green]evaluator: feasible, every number recomputed[/]")
        else:
            console.print(f"[bold red]evaluator: {len(verdict.violations)} violations[/]")
            for violation in verdict.violations[:20]:
                console.print(f"  {violation.code}: {violation.message}", markup=False)
