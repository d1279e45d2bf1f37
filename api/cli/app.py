"""The Typer applications that every CLI command registers on."""

from __future__ import annotations

import typer

from api.cli.errors import RouteplanGroup

app = typer.Typer(
    name="routeplan",
    help="Fulfilment planning: allocate order lines to sites and route the vans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=RouteplanGroup,  # errors become one line per problem and an exit code
)
bench_app = typer.Typer(
    help="Benchmarks against best-known solutions and peers.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
