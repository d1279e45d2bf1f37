"""Dispatching a route and applying what its van reports, on an open transaction.

- :func:`dispatch`: a committed route leaves; every order on it must be ``packed`` and paid
  (409 naming the others), and moves to ``shipped`` (its reservations consumed);
  ``route.dispatched``.
- :func:`apply_event`: one event of a dispatched route at one of its stops, stored in the
  append-only log whatever it does. An event older than the stop's last one is stored but
  changes nothing (``applied`` False). ``arrived``: ``stop.arrived``; ``delivered`` (or
  ``picked_up`` at a pickup): the order ``shipped → delivered``, ``stop.delivered``;
  ``failed``: the order ``shipped → delivery_failed`` with the reason, ``stop.failed``, and
  then the failed-delivery policy (:class:`FailurePolicy`); ``departed``: the van left (a
  stop left while still pending is ``skipped``). A stop delivered or failed takes no
  further ``arrived``, ``delivered`` or ``failed`` (409).
- :func:`apply_position`: a van's reported position, on its dispatched routes.

At a return's pickup stop (kind ``pickup``), ``picked_up`` is kept on the return and
``failed`` sends it back to ``approved`` for the next plan
(:func:`engine.returns.scheduling.stop_event`).

After each, the route's live ETAs are recomputed (:func:`engine.dispatch.routes.recompute`).

The failed-delivery policy: ``requeue`` sends the order back to ``ready`` (the units of this
route's shipment count as not shipped again, so the next plan takes the order) until it has
failed ``max_attempts`` times; then, or always with ``return``, it becomes ``returned``. The
goods going back to the site are not written to the stock ledger (no receipt is made: put
them back with a stock movement if they are sellable).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, func, select, update
from sqlalchemy.engine import Connection

from engine.book import orders as orders_sql
from engine.book import tables as bt
from engine.book.payments import PAID
from engine.db import aware
from engine.dispatch import routes
from engine.dispatch import tables as t
from engine.events.outbox import emit
from engine.returns import scheduling as returns_scheduling
from models.dispatch import PositionIn, RouteEventIn
from models.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from models.status import EventType, OrderStatus, PaymentState, TransitionCause

#: Stop states after which a stop takes no more arrivals, deliveries or failures.
_FINAL = {"delivered", "failed"}
_CAUSE = TransitionCause.EVENT


@dataclass(frozen=True)
class FailurePolicy:
    """What a failed delivery does to its order: ``requeue`` (plan it again) until it has
    failed ``max_attempts`` times, then ``returned``; ``return``: ``returned`` at once."""

    mode: Literal["requeue", "return"] = "requeue"
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.mode not in ("requeue", "return"):
            raise InvalidInputError.for_field("failed_delivery_policy", self.mode, "is unknown")
        if self.max_attempts < 1:
            raise InvalidInputError.for_field(
                "max_delivery_attempts", self.max_attempts, "is less than 1"
            )


def _not_dispatched(route: Any, what: str) -> ConflictError:
    return ConflictError(
        ErrorCode.INVALID_TRANSITION,
        f"route {route['route_id']!r} is {route['status']}; {what}",
        [{"field": "status", "value": route["status"], "message": what}],
    )


def dispatch(conn: Connection, route_id: str, now: dt.datetime, actor: str | None) -> None:
    """Send a committed route out (see the module's docstring)."""
    route = routes.route_row(conn, route_id, lock=True)
    if route["status"] != "committed":
        raise _not_dispatched(route, "only a committed route is dispatched")
    seqs = [s["order_seq"] for s in routes.stop_rows(conn, route_id) if s["order_seq"]]
    o = bt.orders.c
    rows = conn.execute(
        select(bt.orders).where(o.seq.in_(seqs)).order_by(o.seq).with_for_update()
    ).all()
    problems = []
    for row in rows:
        m = row._mapping
        paid = PaymentState(m["payment_status"]) in PAID
        if m["status"] != OrderStatus.PACKED.value or not paid:
            problems.append(
                {
                    "field": f"orders[{m['order_id']}]",
                    "value": m["status"],
                    "message": "is not packed" if paid else "is not paid",
                    "order_id": m["order_id"],
                    "channel": m["channel"],
                }
            )
    if problems:
        names = ", ".join(repr(p["order_id"]) for p in problems)
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"route {route_id!r} cannot leave: order(s) {names} are not packed and paid",
            problems,
        )
    reason = f"route {route_id} dispatched"
    for row in rows:
        orders_sql.move(conn, row, OrderStatus.SHIPPED, _CAUSE, actor, now, reason=reason)
    conn.execute(
        update(t.routes)
        .where(t.routes.c.route_id == route_id)
        .values(status="dispatched", dispatched_at=now)
    )
    data = {
        "route_id": route_id,
        "plan_id": route["plan_id"],
        "site_id": route["site_id"],
        "vehicle_id": route["vehicle_id"],
        "orders": [row._mapping["order_id"] for row in rows],
    }
    emit(conn, EventType.ROUTE_DISPATCHED, data, now)


def _stop(conn: Connection, route_id: str, stop_id: str) -> Any:
    s = t.route_stops.c
    row = conn.execute(
        select(t.route_stops)
        .where(s.route_id == route_id, s.stop_id == stop_id)
        .order_by(s.position)
        .limit(1)
    ).first()
    if row is None:
        raise InvalidInputError.for_field("stop_id", stop_id, f"is not a stop of route {route_id}")
    return row._mapping


def _log(
    conn: Connection,
    route_id: str,
    event: RouteEventIn,
    applied: bool,
    now: dt.datetime,
    actor: str | None,
) -> None:
    conn.execute(
        t.route_events.insert().values(
            route_id=route_id,
            type=event.type,
            stop_id=event.stop_id,
            at=event.at,
            lon=None if event.position is None else event.position[0],
            lat=None if event.position is None else event.position[1],
            proof=None if event.proof is None else event.proof.model_dump(mode="json"),
            reason=event.reason,
            applied=applied,
            received_at=now,
            actor=actor,
        )
    )


def _requeue_units(conn: Connection, seq: int, route: Any) -> None:
    """Count the units this route's shipment took as not shipped again."""
    r, lines = bt.reservations.c, bt.order_lines.c
    taken = conn.execute(
        select(r.line_id, func.sum(r.quantity))
        .where(
            r.order_seq == seq,
            r.status == "consumed",
            r.plan_id == route["plan_id"],
            r.site_id == route["site_id"],
        )
        .group_by(r.line_id)
    ).all()
    for line_id, units in taken:
        left = case((lines.shipped > int(units), lines.shipped - int(units)), else_=0)
        conn.execute(
            update(bt.order_lines)
            .where(lines.order_seq == seq, lines.line_id == line_id)
            .values(shipped=left)
        )


def _fail_order(
    conn: Connection,
    row: Any,
    route: Any,
    reason: str,
    policy: FailurePolicy,
    now: dt.datetime,
    actor: str | None,
) -> tuple[int, OrderStatus]:
    """The order to ``delivery_failed``, then on as the policy says; (attempts, status)."""
    attempts = int(row._mapping["delivery_attempts"]) + 1
    failed = orders_sql.move(
        conn,
        row,
        OrderStatus.DELIVERY_FAILED,
        _CAUSE,
        actor,
        now,
        reason=reason,
        detail=reason,
        delivery_attempts=attempts,
    )
    if policy.mode == "requeue" and attempts < policy.max_attempts:
        _requeue_units(conn, failed._mapping["seq"], route)
        why = f"delivery attempt {attempts} of {policy.max_attempts} failed: plan it again"
        orders_sql.move(conn, failed, OrderStatus.READY, _CAUSE, actor, now, reason=why)
        return attempts, OrderStatus.READY
    why = (
        "the failed-delivery policy is return"
        if policy.mode == "return"
        else f"{attempts} delivery attempts failed (at most {policy.max_attempts})"
    )
    orders_sql.move(conn, failed, OrderStatus.RETURNED, _CAUSE, actor, now, reason=why)
    return attempts, OrderStatus.RETURNED


def _check_state(stop: Any, event: RouteEventIn) -> None:
    if event.type in ("arrived", "delivered", "failed", "picked_up") and stop["status"] in _FINAL:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"stop {stop['stop_id']!r} is already {stop['status']}; it takes no {event.type}",
            [{"field": "type", "value": event.type, "message": f"stop is {stop['status']}"}],
        )


def _order_row(conn: Connection, seq: int) -> Any:
    return conn.execute(select(bt.orders).where(bt.orders.c.seq == seq).with_for_update()).one()


def _apply(
    conn: Connection,
    route: Any,
    stop: Any,
    event: RouteEventIn,
    policy: FailurePolicy,
    now: dt.datetime,
    actor: str | None,
) -> dict[str, Any]:
    """Change the stop and its order as the event says; the stop's new values."""
    day_start = aware(route["day_start"])
    assert day_start is not None
    at_s = (event.at - day_start).total_seconds()
    values: dict[str, Any] = {"last_event_at": event.at}
    seq = stop["order_seq"]
    order = None if seq is None else _order_row(conn, seq)
    data: dict[str, Any] = {
        "route_id": route["route_id"],
        "stop_id": stop["stop_id"],
        "order_id": None if order is None else order._mapping["order_id"],
        "at": event.at.isoformat(),
    }
    if stop["kind"] == "pickup" and event.type in ("picked_up", "failed"):
        returns_scheduling.stop_event(
            conn, route["route_id"], stop["stop_id"], event.type, event.at, event.reason, now, actor
        )
    if event.type == "arrived":
        values.update(status="arrived", eta_arrival_s=at_s)
        emit(conn, EventType.STOP_ARRIVED, data, now)
    elif event.type in ("delivered", "picked_up"):
        if stop["status"] == "pending":
            values.update(eta_arrival_s=at_s, eta_start_s=at_s)
        values.update(status="delivered")
        if event.proof is not None:
            values["proof"] = event.proof.model_dump(mode="json")
        if order is not None and event.type == "delivered":
            why = f"delivered on route {route['route_id']}"
            orders_sql.move(conn, order, OrderStatus.DELIVERED, _CAUSE, actor, now, reason=why)
        data["proof"] = values.get("proof")
        emit(conn, EventType.STOP_DELIVERED, data, now)
    elif event.type == "failed":
        reason = event.reason or "the delivery failed"
        if stop["status"] == "pending":
            values.update(eta_arrival_s=at_s, eta_start_s=at_s)
        values.update(status="failed", reason=reason)
        if order is not None:
            attempts, then = _fail_order(conn, order, route, reason, policy, now, actor)
            data.update(attempts=attempts, order_status=then.value)
        data["reason"] = reason
        emit(conn, EventType.STOP_FAILED, data, now)
    elif stop["status"] == "pending":  # departed from a stop it did not report
        values["status"] = "skipped"
    return values


def complete_if_done(conn: Connection, route_id: str) -> None:
    """Mark the route completed when no order or pickup stop of it is left to serve."""
    left = [
        s
        for s in routes.stop_rows(conn, route_id)
        if (s["order_seq"] is not None or s["kind"] == "pickup")
        and s["status"] in ("pending", "arrived")
    ]
    if not left:
        conn.execute(
            update(t.routes).where(t.routes.c.route_id == route_id).values(status="completed")
        )


def _move_van(conn: Connection, route: Any, position: tuple[float, float], at: dt.datetime) -> bool:
    """Keep the van's reported place when it is newer than the last; whether it was."""
    last_at = aware(route["last_at"])
    if last_at is not None and at <= last_at:
        return False
    conn.execute(
        update(t.routes)
        .where(t.routes.c.route_id == route["route_id"])
        .values(last_lon=position[0], last_lat=position[1], last_at=at)
    )
    return True


def apply_event(
    conn: Connection,
    route_id: str,
    event: RouteEventIn,
    policy: FailurePolicy,
    threshold_s: float,
    now: dt.datetime,
    actor: str | None,
) -> bool:
    """Apply one event of a dispatched route (see the module's docstring); whether it
    changed anything (False: older than the stop's last event, stored only)."""
    route = routes.route_row(conn, route_id, lock=True)
    if route["status"] != "dispatched":
        raise _not_dispatched(route, "events are taken by dispatched routes only")
    stop = _stop(conn, route_id, event.stop_id)
    last = aware(stop["last_event_at"])
    if last is not None and event.at < last:
        _log(conn, route_id, event, False, now, actor)
        return False
    _check_state(stop, event)
    values = _apply(conn, route, stop, event, policy, now, actor)
    s = t.route_stops.c
    conn.execute(
        update(t.route_stops)
        .where(s.route_id == route_id, s.position == stop["position"])
        .values(**values)
    )
    if event.position is not None:
        _move_van(conn, route, event.position, event.at)
    _log(conn, route_id, event, True, now, actor)
    routes.recompute(conn, route_id, threshold_s, now)
    complete_if_done(conn, route_id)
    return True


def _on_the_day(route: Any, at: dt.datetime) -> bool:
    """Whether ``at`` falls in the 24 hours from the route's day start."""
    day_start = aware(route["day_start"])
    return day_start is not None and dt.timedelta(0) <= at - day_start < dt.timedelta(days=1)


def apply_position(
    conn: Connection, vehicle_id: str, report: PositionIn, threshold_s: float, now: dt.datetime
) -> list[str]:
    """Note a van's position on its dispatched routes that started by then, and recompute
    their ETAs; the routes' ids (404 when it has none)."""
    r = t.routes.c
    rows = conn.execute(
        select(t.routes)
        .where(r.vehicle_id == vehicle_id, r.status == "dispatched")
        .order_by(r.day_start, r.route_id)
        .with_for_update()
    ).all()
    found = [row._mapping for row in rows if _on_the_day(row._mapping, report.at)]
    if not found:
        raise NotFoundError(
            f"vehicle {vehicle_id!r} has no dispatched route on the day of {report.at}",
            [{"field": "vehicle_id", "value": vehicle_id, "message": "no dispatched route"}],
        )
    for route in found:
        if _move_van(conn, route, report.position, report.at):
            routes.recompute(conn, route["route_id"], threshold_s, now)
    return [route["route_id"] for route in found]
