"""Planned against actual for the routes driven (dispatched or completed).

A stop is done when it was delivered or failed; its actual time is that event's
(``last_event_at``), in seconds from the route's day start. Its lateness is the actual
time minus its planned service start (negative: early); it is on time when the actual time
is within its delivery window (no window: neither, and left out of the on-time share).
Per route and overall: the stops done, the mean and the 90th percentile (linear) of their
lateness and the on-time share.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.analytics.days import day_of, in_range
from engine.db import aware
from engine.dispatch import tables as dt_tables
from models.analytics import LatenessSummary, RouteOutcome, RoutesReport, StopOutcome

#: The route states that have actual times.
DRIVEN = ("dispatched", "completed")
#: The stop states that are done, with an event time.
DONE = frozenset({"delivered", "failed"})
#: The stop kinds a van serves (not its end or a break).
SERVED = frozenset({"job", "pickup", "delivery"})


def stop_outcome(route: Mapping[str, Any], stop: Mapping[str, Any]) -> StopOutcome | None:
    """A stop done against its plan; None for one not done."""
    if stop["status"] not in DONE or stop["last_event_at"] is None:
        return None
    day_start = aware(route["day_start"])
    actual_at = aware(stop["last_event_at"])
    assert day_start is not None and actual_at is not None
    actual_s = (actual_at - day_start).total_seconds()
    ws, we = stop["window_start_s"], stop["window_end_s"]
    on_time = None if ws is None or we is None else bool(ws <= actual_s <= we)
    return StopOutcome(
        route_id=route["route_id"],
        plan_id=route["plan_id"],
        site_id=route["site_id"],
        vehicle_id=route["vehicle_id"],
        day=day_of(route["day_start"]),
        position=int(stop["position"]),
        stop_id=stop["stop_id"],
        status=stop["status"],
        window_start_s=ws,
        window_end_s=we,
        planned_start_s=float(stop["planned_start_s"]),
        actual_s=actual_s,
        actual_at=actual_at,
        lateness_s=actual_s - float(stop["planned_start_s"]),
        on_time=on_time,
    )


def lateness(stops: Sequence[StopOutcome]) -> dict[str, Any]:
    """The lateness figures of some stops done (:class:`LatenessSummary`'s fields)."""
    late = np.array([s.lateness_s for s in stops], dtype=float)
    judged = [s.on_time for s in stops if s.on_time is not None]
    return {
        "stops_done": len(stops),
        "delivered": sum(1 for s in stops if s.status == "delivered"),
        "failed": sum(1 for s in stops if s.status == "failed"),
        "mean_lateness_s": float(late.mean()) if len(late) else None,
        "p90_lateness_s": float(np.percentile(late, 90)) if len(late) else None,
        "on_time_share": sum(judged) / len(judged) if judged else None,
    }


def summarise(
    routes: Sequence[Mapping[str, Any]], stops: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[list[RouteOutcome], list[StopOutcome], LatenessSummary]:
    """Per route, per stop done and overall, from route rows and their stop rows (by
    route id)."""
    out_routes, out_stops = [], []
    for route in routes:
        rows = stops.get(route["route_id"], [])
        done = [o for o in (stop_outcome(route, s) for s in rows) if o is not None]
        out_stops.extend(done)
        out_routes.append(
            RouteOutcome(
                route_id=route["route_id"],
                plan_id=route["plan_id"],
                site_id=route["site_id"],
                vehicle_id=route["vehicle_id"],
                status=route["status"],
                day=day_of(route["day_start"]),
                stops_planned=sum(1 for s in rows if s["kind"] in SERVED),
                **lateness(done),
            )
        )
    return out_routes, out_stops, LatenessSummary(**lateness(out_stops))


def report(conn: Connection, first: dt.date | None, last: dt.date | None) -> RoutesReport:
    """Planned against actual for the driven routes whose day is within the range."""
    r, s = dt_tables.routes.c, dt_tables.route_stops.c
    found = [
        dict(row._mapping)
        for row in conn.execute(
            select(dt_tables.routes).where(r.status.in_(DRIVEN)).order_by(r.day_start, r.route_id)
        )
    ]
    routes = [row for row in found if in_range(day_of(row["day_start"]), first, last)]
    stops: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    ids = [row["route_id"] for row in routes]
    for k in range(0, len(ids), 500):
        query = (
            select(dt_tables.route_stops)
            .where(s.route_id.in_(ids[k : k + 500]))
            .order_by(s.route_id, s.position)
        )
        for row in conn.execute(query):
            stops[row.route_id].append(dict(row._mapping))
    out_routes, out_stops, overall = summarise(routes, stops)
    return RoutesReport(
        from_date=first, to_date=last, overall=overall, routes=out_routes, stops=out_stops
    )
