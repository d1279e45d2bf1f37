"""A re-plan's routing requests: each site's vans cut at ``at``, their remaining stops, and
the added orders' stops (see :mod:`engine.plan.replan`).

Per van of the replaced plan:

- ``completed`` route: every stop done; the van has no part in the re-plan;
- ``dispatched`` route (out with its load): it restarts at ``at`` from its last known place
  (the last GPS fix, else the last stop it reached, else its site); the stop it is at
  (arrived, not yet done) is locked first, its windows dropped (it is there already); the
  deliveries still on board may be served by this van only; pickups not yet made may move;
- ``committed`` route or no route (still at the site): it starts from the site at ``at`` or its
  shift's start, whichever is later, and its stops may move to another van at the reassign
  penalty;
- a dispatched van may work up to :data:`OVERRUN_S` past its shift's end (and its max
  duration) to finish what it carries; the returns it has collected take room to the end;
- a stop whose windows have all passed goes as soon as it can;
- breaks: a dispatched van's break planned before ``at`` is taken; every other break keeps
  its windows that end after ``at``, and is dropped with none left.

New deliveries can only go on vans still at their site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from models.plan import FleetVehicle
from models.replan import ReplanVan
from models.routing import RoutingRequest

#: A stop status that is over: it happened, or never will on this route.
DONE = frozenset({"delivered", "failed", "skipped"})
#: Route stop kinds that are visits (not breaks or the route's end).
VISITS = frozenset({"job", "delivery", "pickup"})


@dataclass(frozen=True)
class StopNow:
    """One step of a replaced route as it stands at ``at``."""

    stop_id: str
    kind: str
    status: str
    location: tuple[float, float] | None
    planned_start_s: float


@dataclass(frozen=True)
class RouteNow:
    """A replaced plan's van route as it stands: its state, last fix and steps in order."""

    route_id: str
    site_id: str
    vehicle_id: str
    status: str
    position: tuple[float, float] | None
    stops: list[StopNow]

    def visits(self) -> list[StopNow]:
        """Its visits (no breaks, no end), in route order."""
        return [s for s in self.stops if s.kind in VISITS]


@dataclass
class SiteWork:
    """One site's part of a re-plan: its vans' state and its routing request's data."""

    site_id: str
    vans: list[ReplanVan] = field(default_factory=list)
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    stops: list[dict[str, Any]] = field(default_factory=list)
    no_van: list[str] = field(default_factory=list)  # new stops no van at the site can take


def _restart(
    route: RouteNow | None, site: tuple[float, float], stops: dict[str, dict[str, Any]]
) -> tuple[float, float]:
    """Where a van restarts from: its last fix, else the last stop it reached, else the site."""
    if route is None:
        return site
    if route.position is not None:
        return route.position
    reached = [s for s in route.visits() if s.status in DONE or s.status == "arrived"]
    for stop in reversed(reached):
        if stop.location is not None:
            return stop.location
        known = stops.get(stop.stop_id, {}).get("location")
        if known is not None:
            return (float(known[0]), float(known[1]))
    return site


def _breaks(
    vehicle: dict[str, Any], route: RouteNow | None, at_s: float, dispatched: bool
) -> list[dict[str, Any]]:
    """The van's breaks still to take (see the module doc)."""
    taken = set()
    if dispatched and route is not None:
        taken = {s.stop_id for s in route.stops if s.kind == "break" and s.planned_start_s < at_s}
    out = []
    for brk in vehicle.get("breaks", []):
        if str(brk["id"]) in taken:
            continue
        windows = [w for w in brk["time_windows"] if w["end_s"] >= at_s]
        if windows:
            windows = [{**w, "start_s": max(w["start_s"], at_s)} for w in windows]
            out.append({**brk, "time_windows": windows})
    return out


#: How long a dispatched van may work past its shift's end to finish the stop it is at and
#: bring back what it carries (the re-plan never strands goods on a van for a shift's end).
OVERRUN_S = 7200.0


def _vehicle(
    fleet_vehicle: FleetVehicle,
    site: tuple[float, float],
    start: tuple[float, float],
    at_s: float,
    dispatched: bool,
) -> dict[str, Any]:
    """The van as a routing vehicle restarting at ``start`` no earlier than ``at_s``."""
    data = fleet_vehicle.model_dump(exclude={"site_id"}, exclude_none=True, by_alias=False)
    if not fleet_vehicle.has_start and not fleet_vehicle.has_end:
        data["end"] = list(site)
    data["start"] = list(start)
    data.pop("start_index", None)
    shift = data.get("shift")
    lo = max(at_s, shift["start_s"]) if shift else at_s
    hi = shift["end_s"] if shift else lo + 86_400.0
    if dispatched:
        hi = max(hi, at_s + OVERRUN_S)
    data["shift"] = {"start_s": lo, "end_s": max(lo, hi)}
    if fleet_vehicle.max_duration_s is not None and shift and dispatched:
        spent = max(0.0, at_s - shift["start_s"])  # it has been out since its shift began
        data["max_duration_s"] = max(0.0, fleet_vehicle.max_duration_s - spent) + OVERRUN_S
    return data


def _on_board_already(
    vehicle: dict[str, Any], route: RouteNow, picked: dict[str, dict[str, float]]
) -> None:
    """Take the returns the van has collected out of its capacity: they ride to the end."""
    capacity = dict(vehicle.get("capacity", {}))
    for visit in route.visits():
        if visit.kind == "pickup" and visit.status in DONE - {"failed"}:
            for name, amount in picked.get(visit.stop_id, {}).items():
                if name in capacity:
                    capacity[name] = max(0.0, capacity[name] - amount)
    vehicle["capacity"] = capacity


def _still_open(stop: dict[str, Any], at_s: float) -> dict[str, Any]:
    """A stop whose windows have all passed goes as soon as it can (as the book plans an
    order whose windows are over), not never."""
    windows = stop.get("time_windows") or []
    if windows and all(float(w[1]) < at_s for w in windows):
        return {**stop, "time_windows": []}
    return stop


def _van(
    work: SiteWork,
    fleet_vehicle: FleetVehicle,
    route: RouteNow | None,
    site: tuple[float, float],
    stops: dict[str, dict[str, Any]],
    picked: dict[str, dict[str, float]],
    at_s: float,
) -> None:
    """Add one van and its remaining stops to the site's work."""
    vid = str(fleet_vehicle.id)
    dispatched = route is not None and route.status == "dispatched"
    home = tuple(fleet_vehicle.start) if fleet_vehicle.start is not None else site
    start = _restart(route, site, stops) if dispatched else (float(home[0]), float(home[1]))
    vehicle = _vehicle(fleet_vehicle, site, start, at_s, dispatched)
    vehicle["breaks"] = _breaks(vehicle, route, at_s, dispatched)
    if dispatched and route is not None:
        _on_board_already(vehicle, route, picked)
    done: list[str] = []
    locked: list[str] = []
    on_board: list[str] = []
    for visit in route.visits() if route is not None else []:
        if visit.status in DONE:
            done.append(visit.stop_id)
            continue
        if visit.stop_id not in stops:
            continue  # cancelled
        stop = _still_open(dict(stops[visit.stop_id]), at_s)
        if visit.status == "arrived" and dispatched:
            stop["time_windows"] = []  # it is there already
            locked.append(visit.stop_id)
        if dispatched and stop.get("demand") and visit.kind != "pickup":
            stop["vehicles"] = [vid]  # the goods are on this van
            on_board.append(visit.stop_id)
        else:
            stop["assigned_vehicle"] = vid
        work.stops.append(stop)
    vehicle["locked_stops"] = locked
    work.vehicles.append(vehicle)
    work.vans.append(
        ReplanVan(
            vehicle_id=vid,
            site_id=work.site_id,
            route_id=None if route is None else route.route_id,
            state="dispatched" if dispatched else "at_site",
            done=done,
            locked=locked,
            on_board=on_board,
            start=start,
            start_s=vehicle["shift"]["start_s"],
        )
    )


def site_work(
    site_id: str,
    site: tuple[float, float],
    fleet: list[FleetVehicle],
    routes: dict[str, RouteNow],
    stops: dict[str, dict[str, Any]],
    new_stops: list[dict[str, Any]],
    at_s: float,
    picked: dict[str, dict[str, float]] | None = None,
) -> SiteWork:
    """The site's vans cut at ``at_s`` and every stop left to route (see the module doc);
    ``picked``: what each return pickup of the replaced plan loads (by stop id)."""
    work = SiteWork(site_id)
    for fleet_vehicle in fleet:
        route = routes.get(str(fleet_vehicle.id))
        if route is not None and route.status == "completed":
            continue
        _van(work, fleet_vehicle, route, site, stops, picked or {}, at_s)
    at_site = [van.vehicle_id for van in work.vans if van.state == "at_site"]
    for stop in new_stops:
        if not at_site and stop.get("demand"):
            work.no_van.append(str(stop["id"]))
            continue
        work.stops.append({**stop, "vehicles": at_site} if stop.get("demand") else stop)
    return work


def routing_request(
    work: SiteWork,
    matrix: dict[str, Any] | None,
    time_limit_s: float,
    seed: int,
    reassign_penalty: float,
    day_start: dt.datetime | None,
) -> RoutingRequest:
    """The site's routing request for the rest of the day."""
    return RoutingRequest.model_validate(
        {
            "stops": work.stops,
            "vehicles": work.vehicles,
            "matrix": matrix,
            "options": {
                "time_limit_s": time_limit_s,
                "seed": seed,
                "workers": 1,
                "reassign_penalty": reassign_penalty,
            },
            "day_start": day_start,
        }
    )
