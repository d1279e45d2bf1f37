"""``routeplan demo``: the bundled sample day, planned end to end (or routes only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import app
from api.cli.common import console, fail_invalid, print_result_summary
from api.cli.plan import print_plan, run_plan, write_outputs
from api.cli.route import solve_with_progress, write_result
from api.formats.plots import plot_routes
from api.formats.sample_day import sample_day
from api.formats.sample_plan import sample_plan
from api.settings import get_settings
from engine.book.store import BookStore
from models.errors import StoreUnavailableError
from models.matrices import OsmMatrix
from models.plan import PlanRequest, PlanResult


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="folder for the request, result and map")] = Path(
        "demo-output"
    ),
    time_limit: Annotated[float, typer.Option(help="seconds of route search (per site)")] = 10.0,
    osm_file: Annotated[
        Path | None,
        typer.Option(help="drive on the roads of this OpenStreetMap extract (Porto)"),
    ] = None,
    routes_only: Annotated[
        bool, typer.Option(help="route the 150-stop sample day instead of the whole plan")
    ] = False,
) -> None:
    """Plan the bundled sample day: orders allocated to sites, then each site's vans routed."""
    matrix = None
    roads = "straight lines (haversine)"
    if osm_file is not None:
        if not osm_file.is_file():
            fail_invalid(f"--osm-file {osm_file}: no such file")
        matrix = OsmMatrix(osm_file=str(osm_file.resolve()))
        roads = f"the roads of {osm_file.name}"
    out.mkdir(parents=True, exist_ok=True)
    if routes_only:
        request = sample_day(time_limit_s=time_limit)
        if matrix is not None:
            request = request.model_copy(update={"matrix": matrix})
        console.print(
            f"sample day: {len(request.stops)} stops, {len(request.vehicles)} vans available, "
            "2 depots, "
            f"{time_limit:.0f} s of search, driving on {roads}"
        )
        result = solve_with_progress(request)
        print_result_summary(result, len(request.vehicles))
        (out / "request.json").write_text(json.dumps(request.model_dump(mode="json"), indent=2))
        write_result(result, out / "result.json")
        console.print(f"map written to {plot_routes(request, result, out / 'routes.png')}")
        return
    day = sample_plan(routing_time_limit_s=time_limit)
    if matrix is not None:
        day = day.model_copy(update={"options": day.options.model_copy(update={"matrix": matrix})})
    console.print(
        f"sample day: {len(day.orders)} orders, {len(day.sites)} sites, "
        f"{len(day.fleet)} vans available, "
        f"{time_limit:.0f} s of route search per site, driving on {roads}"
    )
    (out / "request.json").write_text(json.dumps(day.model_dump(mode="json"), indent=2))
    plan_result = run_plan(day, [])
    print_plan(plan_result)
    write_outputs(day, plan_result, out)
    plan_id = _store_plan(day, plan_result)
    if plan_id is not None:
        console.print(
            f"plan stored as {plan_id}: run `routeplan serve`, then open "
            f"http://127.0.0.1:8000/#/plans/{plan_id}",
            soft_wrap=True,
        )


def _store_plan(day: PlanRequest, result: PlanResult) -> str | None:
    """Store the plan in the server's database (the dashboard lists it); its id, or None
    when that database cannot be reached."""
    store = BookStore(get_settings().job_database_url(), lazy=True)
    try:
        return store.save_plan("request", day.model_dump(mode="json"), result).id
    except StoreUnavailableError as error:
        console.print(f"the plan was not stored for the dashboard: {error}")
        return None
    finally:
        store.close()
