"""Returns on the vans, on an open transaction: scheduled by a plan commit, collected (or
not) on the route.

- :func:`schedule` (called by :func:`engine.book.plans.commit`, after the routes are
  stored): each approved return whose pickup stop is on a van route of the committed plan
  becomes ``pickup_scheduled``, with the plan, route and stop kept on it. A return that is
  no longer approved (rejected, or scheduled by another plan meanwhile) is left as it is.
- :func:`stop_event` (called by :mod:`engine.dispatch.events` at a pickup stop):
  ``picked_up`` keeps the pickup in the return's history and its time (the state stays
  ``pickup_scheduled`` until the site receives the goods); ``failed`` sends the return back
  to ``approved`` so that the next plan collects it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.dispatch import tables as dt_
from engine.returns import changes
from engine.returns import tables as t
from models.plan import PICKUP_STOP_PREFIX
from models.returns import ReturnStatus
from models.status import TransitionCause


def return_of_stop(stop_id: str) -> str | None:
    """The return a pickup stop id (``return:<id>@<site>``) names, else None."""
    if not stop_id.startswith(PICKUP_STOP_PREFIX) or "@" not in stop_id:
        return None
    return stop_id[len(PICKUP_STOP_PREFIX) :].rsplit("@", 1)[0] or None


def _pickup_stops(result: dict[str, Any]) -> dict[str, str]:
    """return id -> its stop id, for each pickup on a van route of the plan's result."""
    out: dict[str, str] = {}
    for site in result.get("sites", []):
        for route in site["routing"]["routes"]:
            for step in route["steps"]:
                stop_id = None if step.get("id") is None else str(step["id"])
                return_id = None if stop_id is None else return_of_stop(stop_id)
                if return_id is not None and stop_id is not None:
                    out[return_id] = stop_id
    return out


def _locked(conn: Connection, return_id: str) -> Any:
    """The return's row, locked, or None when there is none."""
    return conn.execute(
        select(t.returns).where(t.returns.c.return_id == return_id).with_for_update()
    ).first()


def schedule(
    conn: Connection, plan_id: str, result: dict[str, Any], now: datetime, actor: str | None
) -> list[str]:
    """Move the plan's collected returns to ``pickup_scheduled``; their ids."""
    s, r = dt_.route_stops.c, dt_.routes.c
    moved = []
    for return_id, stop_id in sorted(_pickup_stops(result).items()):
        found = _locked(conn, return_id)
        if found is None or found._mapping["status"] != ReturnStatus.APPROVED.value:
            continue
        route_id = conn.execute(
            select(s.route_id)
            .join(dt_.routes, r.route_id == s.route_id)
            .where(r.plan_id == plan_id, s.stop_id == stop_id)
        ).scalar()
        changes.move(
            conn,
            found,
            ReturnStatus.PICKUP_SCHEDULED,
            TransitionCause.PLAN_COMMIT,
            actor,
            now,
            f"plan {plan_id}" + (f", route {route_id}" if route_id else ""),
            plan_id=plan_id,
            route_id=route_id,
            stop_id=stop_id,
        )
        moved.append(return_id)
    return moved


def stop_event(
    conn: Connection,
    route_id: str,
    stop_id: str,
    event: str,
    at: datetime,
    reason: str | None,
    now: datetime,
    actor: str | None,
) -> None:
    """Apply a driver's ``picked_up`` or ``failed`` at a pickup stop to its return."""
    return_id = return_of_stop(stop_id)
    found = None if return_id is None else _locked(conn, return_id)
    if found is None or found._mapping["status"] != ReturnStatus.PICKUP_SCHEDULED.value:
        return
    cause = TransitionCause.EVENT
    if event == "picked_up":
        conn.execute(
            t.returns.update()
            .where(t.returns.c.seq == found._mapping["seq"])
            .values(picked_up_at=at, updated_at=now)
        )
        changes.note_event(conn, found, "picked_up", cause, actor, now, f"route {route_id}")
    elif event == "failed":
        why = f"the pickup failed on route {route_id}" + (f": {reason}" if reason else "")
        changes.note_event(conn, found, "pickup_failed", cause, actor, now, why)
        changes.move(
            conn,
            found,
            ReturnStatus.APPROVED,
            cause,
            actor,
            now,
            "collect it on the next plan",
            plan_id=None,
            route_id=None,
            stop_id=None,
        )


def carry_over(
    conn: Connection,
    parent_id: str,
    plan_id: str,
    result: dict[str, Any],
    now: datetime,
    actor: str | None,
) -> None:
    """A committed re-plan takes over the returns its replaced plan scheduled: each pickup
    still on a route points at the new plan and its route; one the re-plan no longer
    routes (and not collected yet) is ``approved`` again, for the next plan."""
    s, r, rt = dt_.route_stops.c, dt_.routes.c, t.returns.c
    stops = _pickup_stops(result)
    scheduled = conn.execute(
        select(rt.return_id).where(
            rt.plan_id == parent_id, rt.status == ReturnStatus.PICKUP_SCHEDULED.value
        )
    ).scalars()
    for return_id in sorted(scheduled):
        found = _locked(conn, return_id)
        if found is None:
            continue
        stop_id = stops.get(return_id)
        if stop_id is None:
            if found._mapping["picked_up_at"] is None:
                changes.move(
                    conn,
                    found,
                    ReturnStatus.APPROVED,
                    TransitionCause.PLAN_COMMIT,
                    actor,
                    now,
                    f"re-plan {plan_id} no longer collects it",
                    plan_id=None,
                    route_id=None,
                    stop_id=None,
                )
            continue
        route_id = conn.execute(
            select(s.route_id)
            .join(dt_.routes, r.route_id == s.route_id)
            .where(r.plan_id == plan_id, s.stop_id == stop_id)
        ).scalar()
        conn.execute(
            update(t.returns)
            .where(rt.return_id == return_id)
            .values(plan_id=plan_id, route_id=route_id, stop_id=stop_id)
        )
