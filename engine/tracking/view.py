"""What an order's tracking shows, on an open transaction.

The order's stop is the one on its newest route (by the route's ``created_at``; an order
whose delivery failed and was planned again is on a later route too). ``stops_before``
counts the stops at lower positions of that route still ``pending`` or ``arrived``, breaks
and the route's end left out (nobody is served there). An order on no route has its status
and nulls.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.book import orders as orders_sql
from engine.book import tables as bt
from engine.db import aware
from engine.dispatch import tables as rt
from engine.tracking import tokens
from models.dispatch import Proof
from models.status import OrderStatus
from models.tracking import OrderTracking, PublicTracking

#: Stop states still to be served.
_OPEN = ("pending", "arrived")
#: Step kinds where nobody is served.
_NOT_SERVED = ("break", "end")


def tracking_url(token: str) -> str:
    """The customer's page of a token."""
    return f"/track/{token}"


def _latest_stop(conn: Connection, order_seq: int) -> Any:
    """The order's stop on its newest route, with the route's fields; None if on none."""
    s, r = rt.route_stops.c, rt.routes.c
    row = conn.execute(
        select(
            rt.route_stops,
            r.status.label("route_status"),
            r.day_start,
            r.last_lon,
            r.last_lat,
            r.last_at,
        )
        .join(rt.routes, r.route_id == s.route_id)
        .where(s.order_seq == order_seq)
        .order_by(r.created_at.desc(), r.route_id.desc(), s.position.desc())
        .limit(1)
    ).first()
    return None if row is None else row._mapping


def _stops_before(conn: Connection, route_id: str, position: int) -> int:
    s = rt.route_stops.c
    return int(
        conn.execute(
            select(func.count())
            .select_from(rt.route_stops)
            .where(
                s.route_id == route_id,
                s.position < position,
                s.status.in_(_OPEN),
                s.kind.notin_(_NOT_SERVED),
            )
        ).scalar_one()
    )


def _stop_fields(conn: Connection, stop: Any) -> dict[str, Any]:
    """The tracking fields of a stop row from :func:`_latest_stop`."""
    day_start = aware(stop["day_start"])
    assert day_start is not None

    def clock(seconds: float | None) -> dt.datetime | None:
        return None if seconds is None else day_start + dt.timedelta(seconds=seconds)

    delivered = stop["status"] == "delivered"
    return {
        "route_id": stop["route_id"],
        "route_status": stop["route_status"],
        "stop_id": stop["stop_id"],
        "stop_status": stop["status"],
        "stops_before": _stops_before(conn, stop["route_id"], stop["position"]),
        "eta_start_time": clock(stop["eta_start_s"]),
        "planned_start_time": clock(stop["planned_start_s"]),
        "window_start_time": clock(stop["window_start_s"]),
        "window_end_time": clock(stop["window_end_s"]),
        "at_risk": bool(stop["at_risk"]),
        "vehicle_position": None
        if stop["last_lon"] is None
        else (stop["last_lon"], stop["last_lat"]),
        "vehicle_position_at": aware(stop["last_at"]),
        "last_event_at": aware(stop["last_event_at"]),
        "proof": Proof.model_validate(stop["proof"]) if delivered and stop["proof"] else None,
        "failure_reason": stop["reason"] if stop["status"] == "failed" else None,
    }


def _order_view(conn: Connection, order: Any, token: str) -> OrderTracking:
    m = order._mapping
    stop = _latest_stop(conn, m["seq"])
    fields = {} if stop is None else _stop_fields(conn, stop)
    return OrderTracking(
        order_id=m["order_id"],
        channel=m["channel"],
        status=OrderStatus(m["status"]),
        tracking_url=tracking_url(token),
        **fields,
    )


def read_order(conn: Connection, order_id: str, channel: str | None) -> OrderTracking | None:
    """The order's tracking when it has a token already; None when it has none (404 or 409
    for an unknown or ambiguous order, as ``GET /v1/orders/{id}``)."""
    order = orders_sql.find(conn, order_id, channel)
    token = tokens.token_of(conn, order._mapping["seq"])
    return None if token is None else _order_view(conn, order, token)


def make_order(
    conn: Connection, order_id: str, channel: str | None, now: dt.datetime
) -> OrderTracking:
    """The order's tracking, its token made now when it has none."""
    order = orders_sql.find(conn, order_id, channel)
    token = tokens.ensure_token(conn, order._mapping["seq"], now)
    return _order_view(conn, order, token)


def public(conn: Connection, token: str) -> PublicTracking | None:
    """What the customer's page of ``token`` shows; None for a token that is not one."""
    seq = tokens.order_of(conn, token)
    if seq is None:
        return None
    order = conn.execute(select(bt.orders).where(bt.orders.c.seq == seq)).first()
    if order is None:  # pragma: no cover - the foreign key keeps the order
        return None
    view = _order_view(conn, order, token)
    serving = view.stop_status in _OPEN
    delivered = view.stop_status == "delivered"
    return PublicTracking(
        order_id=view.order_id,
        status=view.status,
        stop_status=view.stop_status,
        stops_before=view.stops_before if serving else None,
        eta_start_time=view.eta_start_time if serving else None,
        planned_start_time=view.planned_start_time if serving else None,
        window_start_time=view.window_start_time if serving else None,
        window_end_time=view.window_end_time if serving else None,
        delivered_at=view.last_event_at if delivered else None,
        received_by=view.proof.signature_name if delivered and view.proof else None,
    )
