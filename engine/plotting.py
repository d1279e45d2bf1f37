"""Draw a routing plan on a map-like plot (matplotlib, written to a PNG file)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from models.routing import RoutingRequest, RoutingResult, StepType


def plot_routes(request: RoutingRequest, result: RoutingResult, path: Path) -> Path:
    """One coloured line per route, served stops as dots, unassigned ones as red crosses."""
    fig, ax = plt.subplots(figsize=(9, 8))
    stops = {s.id: s for s in request.stops}
    colours = plt.get_cmap("tab20")
    for k, route in enumerate(result.routes):
        points = [s.location for s in route.steps if s.location is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(
            xs,
            ys,
            "-",
            color=colours(k % 20),
            lw=1.4,
            alpha=0.9,
            label=f"{route.vehicle_id} ({route.summary.stops})",
        )
        jobs = [s.location for s in route.steps if s.type == StepType.STOP and s.location]
        if jobs:
            jx, jy = zip(*jobs, strict=True)
            ax.scatter(jx, jy, s=14, color=colours(k % 20), zorder=3)
    for vehicle in request.vehicles:
        if vehicle.start is not None:
            ax.scatter(*vehicle.start, marker="s", s=80, color="black", zorder=4)
    missing = [stops[u.id].location for u in result.unassigned if stops[u.id].location]
    if missing:
        mx, my = zip(*missing, strict=True)
        ax.scatter(mx, my, marker="x", s=40, color="red", zorder=5, label="unassigned")
    summary = result.summary
    ax.set_title(
        f"{summary.routes} routes, {summary.stops_served} stops, "
        f"{summary.distance_m / 1000:.1f} km, cost {summary.cost:.2f}"
    )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(fontsize=7, loc="best", ncol=2)
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
