"""A committed plan's van routes on an open transaction: store them at commit, read them
back, and recompute their live ETAs (:mod:`engine.dispatch.eta`).

Each van route of the plan becomes a ``routeplan_routes`` row and its steps after the start
``routeplan_route_stops`` rows, numbered 1..n: the stop id (for an order, the plan's
``<plan order id>@<site id>``), the order it delivers, the delivery window (the order's
window, as seconds from the plan's day start, that holds the planned start, else the next
one), the service, the travel from the previous step (the plan's arrival minus the previous
departure) and the planned arrival and start, which are also the first live ETAs. A
return's pickup (stop id ``return:<return id>@<site id>``, which names the return) is
stored with kind ``pickup`` and no order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.book import tables as bt
from engine.db import aware
from engine.dispatch import eta
from engine.dispatch import tables as t
from engine.events.outbox import emit_many
from models.dispatch import Proof, RouteRecord, RouteRef, RouteStopRecord
from models.errors import NotFoundError
from models.plan import PICKUP_STOP_PREFIX, PlanResult
from models.routing import Route
from models.status import EventType


def _seconds(value: dt.datetime, day_start: dt.datetime) -> float:
    return (value - day_start).total_seconds()


def _window(
    windows: Sequence[dict[str, Any]], day_start: dt.datetime, start_s: float
) -> tuple[float | None, float | None]:
    """The order's window that holds ``start_s``, else the next one, else the last."""
    spans = sorted(
        (
            _seconds(dt.datetime.fromisoformat(w["start"]), day_start),
            _seconds(dt.datetime.fromisoformat(w["end"]), day_start),
        )
        for w in windows
    )
    if not spans:
        return None, None
    for a, b in spans:
        if start_s <= b:
            return a, b
    return spans[-1]


def orders_by_stop(
    conn: Connection, result: PlanResult, refs: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """The book rows of the plan's van shipments, by stop id."""
    by_plan_id = {ref["plan_order_id"]: ref for ref in refs}
    o = bt.orders.c
    out: dict[str, Any] = {}
    for shipment in result.shipments:
        ref = by_plan_id.get(str(shipment.order_id))
        if shipment.mode != "van" or ref is None:
            continue
        row = conn.execute(
            select(o.seq, o.delivery_windows).where(
                o.channel == ref["channel"], o.order_id == ref["order_id"]
            )
        ).first()
        if row is not None:
            out[f"{shipment.order_id}@{shipment.site_id}"] = row
    return out


def step_rows(
    route_id: str,
    route: Route,
    orders: dict[str, Any],
    day_start: dt.datetime,
    first_position: int = 1,
    skip: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The stop rows of a planned route's steps after its start (but the visits in
    ``skip``), numbered from ``first_position``: the plan's times are the first ETAs."""
    rows = []
    position = first_position
    for k, step in enumerate(route.steps[1:], start=1):
        previous = route.steps[k - 1]
        stop_id = str(step.id) if step.id is not None else step.type.value
        if step.type.is_visit and stop_id in skip:
            continue
        order = orders.get(stop_id)
        ws, we = (
            _window(order.delivery_windows, day_start, step.service_start_s)
            if order is not None
            else (None, None)
        )
        rows.append(
            {
                "route_id": route_id,
                "position": position,
                "stop_id": stop_id,
                "order_seq": None if order is None else order.seq,
                "kind": ("pickup" if stop_id.startswith(PICKUP_STOP_PREFIX) else step.type.value),
                "lon": None if step.location is None else step.location[0],
                "lat": None if step.location is None else step.location[1],
                "window_start_s": ws,
                "window_end_s": we,
                "service_s": step.service_s,
                "travel_s": max(0.0, step.arrival_s - previous.departure_s),
                "planned_arrival_s": step.arrival_s,
                "planned_start_s": step.service_start_s,
                "eta_arrival_s": step.arrival_s,
                "eta_start_s": step.service_start_s,
                "status": "pending",
                "at_risk": we is not None and step.service_start_s > we,
                "last_event_at": None,
                "proof": None,
                "reason": None,
            }
        )
        position += 1
    return rows


def insert_route(
    conn: Connection,
    plan_id: str,
    site_id: str,
    route: Route,
    orders: dict[str, Any],
    day_start: dt.datetime,
    now: dt.datetime,
) -> str:
    """Store one van route of a committed plan with its stops; its new id."""
    route_id = str(uuid.uuid4())
    conn.execute(
        t.routes.insert().values(
            route_id=route_id,
            plan_id=plan_id,
            site_id=site_id,
            vehicle_id=str(route.vehicle_id),
            status="committed",
            day_start=day_start,
            speed_mps=eta.average_speed_mps(route.summary.distance_m, route.summary.travel_s),
            created_at=now,
        )
    )
    rows = step_rows(route_id, route, orders, day_start)
    if rows:
        conn.execute(t.route_stops.insert(), rows)
    return route_id


def store_routes(
    conn: Connection,
    plan_id: str,
    result: dict[str, Any],
    refs: Sequence[dict[str, str]],
    now: dt.datetime,
) -> list[str]:
    """Store each van route of a committed plan with its stops; their ids."""
    plan = PlanResult.model_validate(result)
    if plan.day_start is None:
        return []
    orders = orders_by_stop(conn, plan, refs)
    return [
        insert_route(conn, plan_id, str(site.site_id), route, orders, plan.day_start, now)
        for site in plan.sites
        for route in site.routing.routes
    ]


def refs_of_plan(conn: Connection, plan_id: str) -> list[RouteRef]:
    """The routes stored for a plan (none for a draft)."""
    r = t.routes.c
    rows = conn.execute(
        select(r.route_id, r.site_id, r.vehicle_id)
        .where(r.plan_id == plan_id)
        .order_by(r.site_id, r.vehicle_id)
    ).all()
    return [RouteRef(route_id=a, site_id=b, vehicle_id=c) for a, b, c in rows]


def route_row(conn: Connection, route_id: str, *, lock: bool = False) -> Any:
    """The route's row: 404 when there is none."""
    query = select(t.routes).where(t.routes.c.route_id == route_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"no route {route_id!r}",
            [{"field": "route_id", "value": route_id, "message": "unknown"}],
        )
    return row._mapping


def stop_rows(conn: Connection, route_id: str) -> list[Any]:
    """The route's stops, in order."""
    s = t.route_stops.c
    return [
        row._mapping
        for row in conn.execute(
            select(t.route_stops).where(s.route_id == route_id).order_by(s.position)
        ).all()
    ]


def _orders(conn: Connection, seqs: list[int]) -> dict[int, tuple[str, str]]:
    if not seqs:
        return {}
    o = bt.orders.c
    rows = conn.execute(select(o.seq, o.order_id, o.channel).where(o.seq.in_(seqs))).all()
    return {seq: (order_id, channel) for seq, order_id, channel in rows}


def record(conn: Connection, route_id: str) -> RouteRecord:
    """A route as the API shows it."""
    m = route_row(conn, route_id)
    day_start = aware(m["day_start"])
    assert day_start is not None
    stops = stop_rows(conn, route_id)
    names = _orders(conn, [s["order_seq"] for s in stops if s["order_seq"] is not None])

    def clock(seconds: float) -> dt.datetime:
        return day_start + dt.timedelta(seconds=seconds)

    position = None if m["last_lon"] is None else (m["last_lon"], m["last_lat"])
    return RouteRecord(
        route_id=m["route_id"],
        plan_id=m["plan_id"],
        site_id=m["site_id"],
        vehicle_id=m["vehicle_id"],
        status=m["status"],
        day_start=day_start,
        dispatched_at=aware(m["dispatched_at"]),
        position=position,
        position_at=aware(m["last_at"]),
        stops=[
            RouteStopRecord(
                position=s["position"],
                stop_id=s["stop_id"],
                kind=s["kind"],
                order_id=names.get(s["order_seq"], (None, None))[0],
                channel=names.get(s["order_seq"], (None, None))[1],
                status=s["status"],
                window_start_s=s["window_start_s"],
                window_end_s=s["window_end_s"],
                service_s=s["service_s"],
                travel_s=s["travel_s"],
                planned_arrival_s=s["planned_arrival_s"],
                planned_start_s=s["planned_start_s"],
                eta_arrival_s=s["eta_arrival_s"],
                eta_start_s=s["eta_start_s"],
                planned_arrival_time=clock(s["planned_arrival_s"]),
                eta_arrival_time=clock(s["eta_arrival_s"]),
                eta_start_time=clock(s["eta_start_s"]),
                at_risk=bool(s["at_risk"]),
                last_event_at=aware(s["last_event_at"]),
                proof=None if s["proof"] is None else Proof.model_validate(s["proof"]),
                reason=s["reason"],
            )
            for s in stops
        ],
    )


def states(stops: Sequence[Any], day_start: dt.datetime) -> list[eta.StopState]:
    """The stop rows as :mod:`engine.dispatch.eta` takes them."""
    out = []
    for s in stops:
        at = aware(s["last_event_at"])
        out.append(
            eta.StopState(
                position=s["position"],
                kind=s["kind"],
                travel_s=s["travel_s"],
                service_s=s["service_s"],
                window_start_s=s["window_start_s"],
                window_end_s=s["window_end_s"],
                location=None if s["lon"] is None else (s["lon"], s["lat"]),
                status=s["status"],
                event_s=None if at is None else _seconds(at, day_start),
                eta_arrival_s=s["eta_arrival_s"],
                eta_start_s=s["eta_start_s"],
            )
        )
    return out


def recompute(conn: Connection, route_id: str, threshold_s: float, now: dt.datetime) -> int:
    """Recompute the route's live ETAs and store them; an ``eta.changed`` event for each
    order's stop whose start moved by more than ``threshold_s``; how many moved."""
    m = route_row(conn, route_id)
    day_start = aware(m["day_start"])
    assert day_start is not None
    stops = stop_rows(conn, route_id)
    last_at = aware(m["last_at"])
    gps = (
        None
        if last_at is None or m["last_lon"] is None
        else eta.Gps((m["last_lon"], m["last_lat"]), _seconds(last_at, day_start))
    )
    new = eta.live_etas(states(stops, day_start), gps, m["speed_mps"])
    names = _orders(conn, [s["order_seq"] for s in stops if s["order_seq"] is not None])
    s_c = t.route_stops.c
    changed: list[tuple[EventType, dict[str, Any]]] = []
    for s in stops:
        times = new[s["position"]]
        old = (s["eta_arrival_s"], s["eta_start_s"], bool(s["at_risk"]))
        if old == (times.arrival_s, times.start_s, times.at_risk):
            continue
        conn.execute(
            update(t.route_stops)
            .where(s_c.route_id == route_id, s_c.position == s["position"])
            .values(eta_arrival_s=times.arrival_s, eta_start_s=times.start_s, at_risk=times.at_risk)
        )
        if s["order_seq"] is not None and eta.moved(s["eta_start_s"], times.start_s, threshold_s):
            changed.append(
                (
                    EventType.ETA_CHANGED,
                    {
                        "route_id": route_id,
                        "stop_id": s["stop_id"],
                        "order_id": names.get(s["order_seq"], (None, None))[0],
                        "old_eta_s": s["eta_start_s"],
                        "new_eta_s": times.start_s,
                    },
                )
            )
    emit_many(conn, changed, now)
    return len(changed)
