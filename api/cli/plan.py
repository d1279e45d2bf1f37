"""``routeplan plan``: the whole day from files (allocation, then routes per site)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.app import app
from api.cli.common import console, fail_invalid, routes_table
from api.cli.errors import exit_if_cut_short, left_out_by_time
from api.cli.limits import check_plan_size
from api.formats.plan_files import load_plan_csv, load_plan_json, validate_plan, write_plan_outputs
from api.formats.plots import plot_plan
from api.settings import get_settings
from engine.plan.pipeline import plan as plan_day
from engine.plan.pipeline import site_requests
from models.allocation import UnfulfilledLine
from models.plan import PlanRequest, PlanResult


def run_plan(request: PlanRequest, rejected: list[UnfulfilledLine]) -> PlanResult:
    """Plan the day with a live status line (stage and elapsed seconds)."""
    outcome: list[PlanResult] = []
    failure: list[BaseException] = []
    stage = ["allocating"]
    cache_dir = get_settings().graph_cache_dir()

    def work() -> None:
        try:
            outcome.append(
                plan_day(
                    request,
                    rejected,
                    on_progress=lambda s, _e: stage.__setitem__(0, s),
                    matrix_cache_dir=cache_dir,
                )
            )
        except BaseException as error:  # re-raised below, in the calling thread
            failure.append(error)

    thread = threading.Thread(target=work, daemon=True)
    began = time.perf_counter()
    with console.status("planning") as status:
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
            status.update(f"planning: {stage[0]} ({time.perf_counter() - began:.0f} s)")
    if failure:
        raise failure[0]
    return outcome[0]


def print_plan(result: PlanResult) -> None:
    """KPIs, each site's routes, and what was left out, counted by reason."""
    k = result.kpis
    table = Table(title="Day plan")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("orders", f"{k.orders} ({k.orders_complete} complete)"),
        ("shipments", f"{k.shipments} ({k.splits} splits)"),
        ("by van / by carrier", f"{k.shipments_by_van} / {k.shipments_by_carrier}"),
        ("vans used", str(k.vehicles_used)),
        ("van distance", f"{k.distance_m / 1000:.1f} km"),
        ("cost (carrier + routes + handling)", f"{k.cost:,.2f}"),
        ("on time", f"{100 * k.on_time_share:.1f} %"),
        ("allocation", f"{result.allocation.stats.method} {result.allocation.stats.status}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for site in result.sites:
        console.print(f"[bold]{site.site_id}[/]")
        console.print(routes_table(site.routing))
        verdict = site.routing.evaluation
        if verdict is not None and not verdict.feasible:
            console.print(f"[bold red]evaluator: {len(verdict.violations)} violations[/]")
    if result.unassigned:
        counts: dict[tuple[str, str], int] = {}
        for item in result.unassigned:
            counts[(item.stage, item.reason)] = counts.get((item.stage, item.reason), 0) + 1
        left = Table(title="Left out: order lines (allocation) and shipments (routing)")
        for name in ("stage", "reason", "count"):
            left.add_column(name)
        for (stage, reason), count in sorted(counts.items()):
            left.add_row(stage, reason, str(count))
        console.print(left)


def write_outputs(request: PlanRequest, result: PlanResult, out: Path) -> None:
    """The result files and the route map."""
    paths = write_plan_outputs(result, out)
    requests = {site: req for site, (req, _) in site_requests(request, result.allocation).items()}
    paths.append(plot_plan(requests, request, result, out / "routes.png"))
    console.print("written: " + ", ".join(str(p) for p in paths))


@app.command()
def plan(
    request_json: Annotated[
        Path | None, typer.Argument(help="a plan request as JSON", show_default=False)
    ] = None,
    orders: Annotated[Path | None, typer.Option(help="orders.csv")] = None,
    stock: Annotated[Path | None, typer.Option(help="stock.csv")] = None,
    sites: Annotated[Path | None, typer.Option(help="sites.csv")] = None,
    fleet: Annotated[Path | None, typer.Option(help="fleet.csv (vehicles with site_id)")] = None,
    products: Annotated[Path | None, typer.Option(help="products.csv (sku sizes)")] = None,
    deliveries: Annotated[Path | None, typer.Option(help="deliveries.csv (windows)")] = None,
    out: Annotated[Path, typer.Option(help="folder for the outputs")] = Path("plan-output"),
) -> None:
    """Plan the whole day: allocate orders to sites, then route each site's vans."""
    files: dict[str, str] | None = None
    if request_json is not None:
        raw, rejected = load_plan_json(request_json)
    elif orders and stock and sites and fleet:
        raw, rejected = load_plan_csv(orders, stock, sites, fleet, products, deliveries)
        given = {"fleet": fleet, "products": products, "deliveries": deliveries}
        files = {key: path.name for key, path in given.items() if path is not None}
    else:
        fail_invalid("give a PLAN.json, or --orders, --stock, --sites and --fleet CSV files")
    request = validate_plan(raw, files)
    check_plan_size(request, get_settings())
    result = run_plan(request, rejected)
    print_plan(result)
    write_outputs(request, result, out)
    exit_if_cut_short([f"site {s.site_id}" for s in result.sites if left_out_by_time(s.routing)])
