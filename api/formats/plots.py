"""Draw routing plans on a map-like plot (matplotlib's object API: no pyplot state, so
threads and servers may call it), written to PNG files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from models.plan import PlanRequest, PlanResult
from models.routing import Id, RoutingRequest, RoutingResult


def draw_routes(
    ax: Axes, request: RoutingRequest, result: RoutingResult, colour_offset: int = 0
) -> int:
    """Draw one coloured line per route and red crosses for unassigned stops; routes drawn."""
    stops = {s.id: s for s in request.stops}
    colours = colormaps["tab20"]
    for k, route in enumerate(result.routes):
        colour = colours((k + colour_offset) % 20)
        points = [s.location for s in route.steps if s.location is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(
            xs,
            ys,
            "-",
            color=colour,
            lw=1.4,
            alpha=0.9,
            label=f"{route.vehicle_id} ({route.summary.stops})",
        )
        jobs = [s.location for s in route.steps if s.type.is_visit and s.location]
        if jobs:
            jx, jy = zip(*jobs, strict=True)
            ax.scatter(jx, jy, s=14, color=colour, zorder=3)
    for vehicle in request.vehicles:
        if vehicle.start is not None:
            ax.scatter(*vehicle.start, marker="s", s=80, color="black", zorder=4)
    missing = [stops[u.id].location for u in result.unassigned if stops[u.id].location]
    if missing:
        mx, my = zip(*missing, strict=True)
        ax.scatter(mx, my, marker="x", s=40, color="red", zorder=5, label="unassigned")
    return len(result.routes)


def _finish(fig: Figure, ax: Axes, title: str, path: Path) -> Path:
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(fontsize=7, loc="best", ncol=2)
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def plot_routes(request: RoutingRequest, result: RoutingResult, path: Path) -> Path:
    """One routing plan as a PNG."""
    fig = Figure(figsize=(9, 8))
    ax = fig.add_subplot()
    draw_routes(ax, request, result)
    summary = result.summary
    title = (
        f"{summary.routes} routes, {summary.stops_served} stops, "
        f"{summary.distance_m / 1000:.1f} km, cost {summary.cost:.2f}"
    )
    return _finish(fig, ax, title, path)


def plot_plan(
    requests: Mapping[Id, RoutingRequest], request: PlanRequest, result: PlanResult, path: Path
) -> Path:
    """Every site's van routes on one PNG (carrier shipments are not drawn)."""
    fig = Figure(figsize=(9, 8))
    ax = fig.add_subplot()
    drawn = 0
    for site in result.sites:
        drawn += draw_routes(ax, requests[site.site_id], site.routing, colour_offset=drawn)
    kpis = result.kpis
    title = (
        f"{kpis.vehicles_used} vans, {kpis.shipments_by_van} deliveries, "
        f"{kpis.distance_m / 1000:.1f} km; {kpis.shipments_by_carrier} by carrier; "
        f"cost {kpis.cost:.0f}"
    )
    return _finish(fig, ax, title, path)
