"""``routeplan route``: plan routes from a JSON request or CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import app
from api.cli.common import console, print_result_summary, run_with_progress
from api.cli.errors import EXIT_SOLVER_FAILURE, exit_if_cut_short, left_out_by_time
from api.cli.limits import check_routing_size
from api.formats.routing_csv import load_request
from api.settings import get_settings
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest, RoutingResult


def solve_with_progress(request: RoutingRequest) -> RoutingResult:
    cache_dir = get_settings().graph_cache_dir()
    return run_with_progress(
        "routing",
        request.options.time_limit_s,
        lambda progress: solve_routes(request, on_progress=progress, matrix_cache_dir=cache_dir),
    )


def write_result(result: RoutingResult, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.model_dump_json(indent=2, exclude_none=True))
    console.print(f"result written to {out}")


@app.command()
def route(
    request_json: Annotated[
        Path | None, typer.Argument(help="a routing request as JSON", show_default=False)
    ] = None,
    stops: Annotated[Path | None, typer.Option(help="stops.csv (instead of JSON)")] = None,
    vehicles: Annotated[Path | None, typer.Option(help="vehicles.csv (instead of JSON)")] = None,
    time_limit: Annotated[float | None, typer.Option(help="seconds of search")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    out: Annotated[Path | None, typer.Option(help="write the result JSON here")] = None,
) -> None:
    """Plan routes for a request (JSON, or stops.csv + vehicles.csv)."""
    request = load_request(request_json, stops, vehicles)
    check_routing_size(request, get_settings())
    updates: dict[str, float | int] = {}  # only the flags given override the file's options
    if time_limit is not None:
        updates["time_limit_s"] = time_limit
    if seed is not None:
        updates["seed"] = seed
    if updates:
        options = request.options.model_dump() | updates
        request = request.model_copy(
            update={"options": type(request.options).model_validate(options)}
        )
    result = solve_with_progress(request)
    print_result_summary(result, len(request.vehicles))
    if out is not None:
        write_result(result, out)
    if result.stats.status == "failed":
        raise typer.Exit(EXIT_SOLVER_FAILURE)
    exit_if_cut_short(["the routing"] if left_out_by_time(result) else [])
