"""``routeplan route`` and ``routeplan demo``: plan routes from files or the sample day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from api.cli.app import EXIT_SOLVER_FAILURE, app
from api.cli.common import (
    console,
    fail_invalid,
    fail_validation,
    print_result_summary,
    run_with_progress,
)
from engine.matrices import MatrixError
from engine.plotting import plot_routes
from engine.routing import solve_routes
from engine.routing_csv import InputFileError, load_request
from engine.sample_day import sample_day
from models.matrices import OsmMatrix
from models.routing import RoutingRequest, RoutingResult


def _solve(request: RoutingRequest) -> RoutingResult:
    try:
        return run_with_progress(
            "routing",
            request.options.time_limit_s,
            lambda progress: solve_routes(request, on_progress=progress),
        )
    except MatrixError as error:
        fail_invalid(f"matrix: {error}")


def _write(result: RoutingResult, out: Path) -> None:
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
    try:
        request = load_request(request_json, stops, vehicles)
        updates = {}
        if time_limit is not None:
            updates["time_limit_s"] = time_limit
        if seed is not None:
            updates["seed"] = seed
        if updates:
            options = request.options.model_dump() | updates
            request = request.model_copy(
                update={"options": type(request.options).model_validate(options)}
            )
    except InputFileError as error:
        fail_invalid(str(error))
    except ValidationError as error:
        fail_validation(error)
    result = _solve(request)
    print_result_summary(result, len(request.vehicles))
    if out is not None:
        _write(result, out)
    if result.stats.status == "failed":
        raise typer.Exit(EXIT_SOLVER_FAILURE)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="folder for the request, result and map")] = Path(
        "demo-output"
    ),
    time_limit: Annotated[float, typer.Option(help="seconds of search")] = 10.0,
    osm_file: Annotated[
        Path | None,
        typer.Option(help="drive on the roads of this OpenStreetMap extract (Porto)"),
    ] = None,
) -> None:
    """Route the bundled sample day (150 stops, 2 depots, 12 vans) and draw the map."""
    request = sample_day(time_limit_s=time_limit)
    roads = "straight lines (haversine)"
    if osm_file is not None:
        if not osm_file.is_file():
            fail_invalid(f"--osm-file {osm_file}: no such file")
        request = request.model_copy(update={"matrix": OsmMatrix(osm_file=str(osm_file.resolve()))})
        roads = f"the roads of {osm_file.name}"
    console.print(
        f"sample day: {len(request.stops)} stops, {len(request.vehicles)} vans, 2 depots, "
        f"{time_limit:.0f} s of search, driving on {roads}"
    )
    result = _solve(request)
    print_result_summary(result, len(request.vehicles))
    out.mkdir(parents=True, exist_ok=True)
    (out / "request.json").write_text(json.dumps(request.model_dump(mode="json"), indent=2))
    _write(result, out / "result.json")
    console.print(f"map written to {plot_routes(request, result, out / 'routes.png')}")
