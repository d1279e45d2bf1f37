"""The Typer applications that every CLI command registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="routeplan",
    help="Fulfilment planning: allocate order lines to sites and route the vans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks against best-known solutions and peers.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")

#: Exit code for invalid input (a field, its value and why are printed).
EXIT_INVALID_INPUT = 2
#: Exit code for a solver failure.
EXIT_SOLVER_FAILURE = 3
