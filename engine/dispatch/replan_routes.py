"""A committed re-plan's routes: each van keeps its route (and its id, which its driver's app
holds), its stops done and under way stay as they happened, and the rest is rewritten from
the new plan; a van new to the day gets a route of its own; an undispatched route left with
nothing to do is removed (no event can name it: events need a dispatched route).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.engine import Connection

from engine.dispatch import routes as dispatch_routes
from engine.dispatch import tables as t
from engine.dispatch.events import complete_if_done
from models.plan import PlanResult
from models.replan import ReplanVan
from models.routing import Route

#: Stop statuses a re-plan keeps as they are.
KEPT = frozenset({"delivered", "failed", "skipped", "arrived"})


def route_states(conn: Connection, route_id: str) -> tuple[set[str], set[str]]:
    """A route's stops done, and under way (arrived), now."""
    rows = dispatch_routes.stop_rows(conn, route_id)
    done = {r["stop_id"] for r in rows if r["status"] in KEPT - {"arrived"}}
    return done, {r["stop_id"] for r in rows if r["status"] == "arrived"}


def _rewrite(
    conn: Connection,
    route_id: str,
    plan_id: str,
    route: Route | None,
    orders: dict[str, Any],
    day_start: dt.datetime,
) -> None:
    """Keep the route's stops done and under way (renumbered first, in their order), and
    write the new plan's steps after them."""
    kept = [dict(r) for r in dispatch_routes.stop_rows(conn, route_id) if r["status"] in KEPT]
    kept.sort(key=lambda r: (r["status"] == "arrived", r["position"]))
    for k, row in enumerate(kept, start=1):
        row["position"] = k
    skip = frozenset(r["stop_id"] for r in kept)
    new = (
        dispatch_routes.step_rows(
            route_id, route, orders, day_start, first_position=len(kept) + 1, skip=skip
        )
        if route is not None
        else []
    )
    conn.execute(delete(t.route_stops).where(t.route_stops.c.route_id == route_id))
    if kept or new:
        conn.execute(t.route_stops.insert(), kept + new)
    conn.execute(update(t.routes).where(t.routes.c.route_id == route_id).values(plan_id=plan_id))


def store(
    conn: Connection,
    plan_id: str,
    result: PlanResult,
    vans: Sequence[ReplanVan],
    refs: Sequence[dict[str, str]],
    now: dt.datetime,
) -> list[str]:
    """Store a committed re-plan's routes (see the module doc); the dispatched routes
    rewritten, whose live ETAs want recomputing."""
    assert result.day_start is not None
    orders = dispatch_routes.orders_by_stop(conn, result, refs)
    new_routes = {
        str(route.vehicle_id): (str(site.site_id), route)
        for site in result.sites
        for route in site.routing.routes
    }
    rewritten = []
    for van in vans:
        site_id, route = new_routes.pop(str(van.vehicle_id), (str(van.site_id), None))
        if van.route_id is None:
            if route is not None:
                dispatch_routes.insert_route(
                    conn, plan_id, site_id, route, orders, result.day_start, now
                )
            continue
        if route is None and van.state == "at_site" and not van.done:
            conn.execute(delete(t.route_stops).where(t.route_stops.c.route_id == van.route_id))
            conn.execute(delete(t.routes).where(t.routes.c.route_id == van.route_id))
            continue
        _rewrite(conn, van.route_id, plan_id, route, orders, result.day_start)
        if van.state == "dispatched":
            complete_if_done(conn, van.route_id)
            rewritten.append(van.route_id)
    return rewritten
