"""Re-plans on the book: read what a re-plan needs at one instant, and commit one.

Reading (:func:`replan_input`, one read transaction): the replaced plan (committed, from
the book or itself a re-plan), its routes as they stand, the routing data of every stop not
yet done (the order's location, windows for the day and priority; the shipment's weight and
volume; a return pickup's load and window as planned), the added orders (each plannable,
paid and not in the plan) with the stock still free at the plan's sites, and the cancelled
orders (each in the plan, and not on a van that is out with it).

Committing (:func:`commit`, one transaction):

1. lock the draft and the plan it replaces (which must still be committed);
2. every route must stand where the re-plan found it (the same stops done and under way,
   still out or still at the site), else 409 ``stale_plan``;
3. the added orders are reserved and moved as any plan's are (:mod:`engine.book.plans`);
4. the cancelled orders are cancelled, their stock given back;
5. the replaced plan's orders the re-plan routes no more, still only allocated, give their
   stock back (``ready``); the re-plan takes over the replaced plan's reservations and its
   shipments' picking and cartons;
6. each van's route keeps its id and its stops done and under way; the rest is rewritten
   from the new plan; a van new to the day gets a new route; a route left with nothing to
   do that never left its site is removed, one left with nothing to do after leaving is
   completed (:mod:`engine.dispatch.replan_routes`); the returns scheduled on the replaced
   plan follow (:func:`engine.returns.scheduling.carry_over`);
7. the replaced plan becomes ``superseded``, the draft ``committed``, ``plan.committed``
   is written, and the rewritten routes' live ETAs recomputed (``eta.changed`` as usual).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.book import ledger, planning, plans
from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.payments import PAID
from engine.dispatch import replan_routes
from engine.dispatch import routes as dispatch_routes
from engine.dispatch.eta import DEFAULT_THRESHOLD_S
from engine.events.outbox import emit
from engine.picking import tables as picking_tables
from engine.plan.replan import ReplanInput
from engine.plan.replan_sites import DONE, RouteNow, StopNow
from engine.returns import scheduling as returns_scheduling
from models.book import BookPlanRequest, CommitResult, OrderRecord
from models.errors import ConflictError, ErrorCode, InvalidInputError
from models.plan import PlanResult
from models.replan import OrderKey, ReplanRequest
from models.status import EventType, OrderStatus, PaymentState, TransitionCause


def book_body(source: str, request: dict[str, Any]) -> BookPlanRequest:
    """The book request a plan (or the plan a re-plan chain began with) was made from."""
    body = request.get("book", request) if source == "replan" else request
    return BookPlanRequest.model_validate(body)


def _committed(conn: Connection, plan_id: str) -> Any:
    """The plan's row: 409 unless it is committed and made from the book."""
    row = plans.plan_row(conn, plan_id)._mapping
    if row["status"] != "committed" or row["source"] not in ("book", "replan"):
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"plan {plan_id!r} is {row['status']} ({row['source']}); only a committed plan "
            "from the book is re-planned",
            [{"field": "plan_id", "value": plan_id, "message": f"{row['status']}"}],
        )
    return row


def _routes(conn: Connection, plan_id: str) -> tuple[list[RouteNow], dict[str, list[Any]]]:
    """The plan's routes as they stand, and each one's stop rows (by route id)."""
    out = []
    rows: dict[str, list[Any]] = {}
    for ref in dispatch_routes.refs_of_plan(conn, plan_id):
        m = dispatch_routes.route_row(conn, ref.route_id)
        rows[ref.route_id] = dispatch_routes.stop_rows(conn, ref.route_id)
        stops = [
            StopNow(
                stop_id=s["stop_id"],
                kind=s["kind"],
                status=s["status"],
                location=None if s["lon"] is None else (s["lon"], s["lat"]),
                planned_start_s=s["planned_start_s"],
            )
            for s in rows[ref.route_id]
        ]
        position = None if m["last_lon"] is None else (m["last_lon"], m["last_lat"])
        out.append(
            RouteNow(m["route_id"], m["site_id"], m["vehicle_id"], m["status"], position, stops)
        )
    return out, rows


def _pickup_loads(parent: PlanResult) -> dict[str, dict[str, float]]:
    """What each stop of the plan picked up (its load after, less its load before)."""
    out = {}
    for site in parent.sites:
        for route in site.routing.routes:
            for before, step in zip(route.steps, route.steps[1:], strict=False):
                gained = {k: v - before.load.get(k, 0.0) for k, v in step.load.items()}
                if step.id is not None and any(v > 1e-9 for v in gained.values()):
                    out[str(step.id)] = {k: max(v, 0.0) for k, v in gained.items()}
    return out


def _stop_data(
    conn: Connection,
    parent: PlanResult,
    refs: dict[str, dict[str, str]],
    routes: list[RouteNow],
    stop_rows: dict[str, list[Any]],
    picked: dict[str, dict[str, float]],
    day_start: dt.datetime,
) -> dict[str, dict[str, Any]]:
    """The routing data of every stop not yet done (see the module doc)."""
    shipments = {f"{s.order_id}@{s.site_id}": s for s in parent.shipments}
    out: dict[str, dict[str, Any]] = {}
    for route in routes:
        rows = {r["stop_id"]: r for r in stop_rows[route.route_id]}
        for visit in route.visits():
            if visit.status in DONE:
                continue
            row = rows[visit.stop_id]
            data: dict[str, Any] = {
                "id": visit.stop_id,
                "location": [row["lon"], row["lat"]],
                "service_s": row["service_s"],
                "time_windows": [],
            }
            shipment = shipments.get(visit.stop_id)
            ref = refs.get(str(shipment.order_id)) if shipment is not None else None
            if shipment is not None and ref is not None:
                order = orders_sql.record(
                    conn, orders_sql.find(conn, ref["order_id"], ref["channel"])
                )
                _due, windows = planning.day_windows(order, day_start)
                data["time_windows"] = [[w.start_s, w.end_s] for w in windows]
                data["demand"] = {"weight_kg": shipment.weight_kg, "volume_l": shipment.volume_l}
                data["priority"] = min(order.priority * 10, 100)
            else:
                data["pickup"] = picked.get(visit.stop_id, {})
                if row["window_start_s"] is not None:
                    data["time_windows"] = [[row["window_start_s"], row["window_end_s"]]]
            out[visit.stop_id] = data
    return out


def _order(conn: Connection, key: OrderKey, field: str) -> OrderRecord:
    """The order a key names (404, or 409 ``ambiguous_order``)."""
    try:
        return orders_sql.record(conn, orders_sql.find(conn, key.order_id, key.channel))
    except (ConflictError, InvalidInputError) as error:
        error.details = [{**d, "field": field} for d in error.details] or error.details
        raise


def _added(
    conn: Connection, keys: list[OrderKey], refs: dict[str, dict[str, str]]
) -> list[OrderRecord]:
    """The added orders: each plannable, paid and not already in the plan."""
    in_plan = {(r["channel"], r["order_id"]) for r in refs.values()}
    out = []
    for i, key in enumerate(keys):
        order = _order(conn, key, f"add_orders[{i}]")
        if (order.channel, order.id) in in_plan:
            raise ConflictError(
                ErrorCode.INVALID_TRANSITION,
                f"order {order.id!r} is already in the plan",
                [{"field": f"add_orders[{i}]", "value": order.id, "message": "in the plan"}],
            )
        if order.status not in lc.PLANNABLE or PaymentState(order.payment_status) not in PAID:
            raise ConflictError(
                ErrorCode.INVALID_TRANSITION,
                f"order {order.id!r} is {order.status.value} (payment "
                f"{order.payment_status.value}); only ready or backordered paid orders are added",
                [{"field": f"add_orders[{i}]", "value": order.id, "message": order.status.value}],
            )
        out.append(order)
    return out


def _cancelled(
    conn: Connection,
    keys: list[OrderKey],
    refs: dict[str, dict[str, str]],
    routes: list[RouteNow],
) -> frozenset[str]:
    """The plan order ids of the cancelled orders: each in the plan, not done, and not on a
    van that is out with it."""
    by_book = {(r["channel"], r["order_id"]): pid for pid, r in refs.items()}
    where = {
        s.stop_id.rsplit("@", 1)[0]: (route, s)
        for route in routes
        for s in route.visits()
        if "@" in s.stop_id
    }
    out = set()
    for i, key in enumerate(keys):
        order = _order(conn, key, f"cancel_orders[{i}]")
        plan_order_id = by_book.get((order.channel, order.id))
        if plan_order_id is None:
            raise InvalidInputError.for_field(
                f"cancel_orders[{i}]", order.id, "is not an order of this plan"
            )
        route, stop = where.get(plan_order_id, (None, None))
        if (
            route is not None
            and stop is not None
            and (stop.status in DONE or (route.status == "dispatched" and stop.kind != "pickup"))
        ):
            raise ConflictError(
                ErrorCode.INVALID_TRANSITION,
                f"order {order.id!r} is {stop.status} on van {route.vehicle_id!r}, which "
                "is out with it: report the stop failed instead",
                [{"field": f"cancel_orders[{i}]", "value": order.id, "message": "on a van"}],
            )
        out.add(plan_order_id)
    return frozenset(out)


def _sites_and_stock(conn: Connection, site_ids: list[str]) -> planning.Snapshot:
    """The plan's sites and their stock as they stand (no orders yet)."""
    s, k = t.sites.c, t.stock.c
    sites = conn.execute(select(t.sites).where(s.site_id.in_(site_ids)).order_by(s.site_id))
    stock = conn.execute(select(t.stock).where(k.site_id.in_(site_ids)).order_by(k.site_id, k.sku))
    return planning.Snapshot(
        orders=[],
        sites=[ledger.site_record(r) for r in sites.all()],
        stock=[ledger.level(r) for r in stock.all()],
    )


def replan_input(
    conn: Connection, plan_id: str, body: ReplanRequest
) -> tuple[ReplanInput, list[dict[str, str]]]:
    """Everything the re-plan of ``plan_id`` reads, at one instant (see the module doc),
    and which book order each added order's plan id names."""
    row = _committed(conn, plan_id)
    parent = PlanResult.model_validate(row["result"])
    if parent.day_start is None:
        raise InvalidInputError.for_field("plan_id", plan_id, "the plan has no day start")
    book = book_body(row["source"], row["request"])
    refs = {r["plan_order_id"]: r for r in row["book_orders"]}
    routes, stop_rows = _routes(conn, plan_id)
    picked = _pickup_loads(parent)
    added = _added(conn, body.add_orders, refs)
    cancelled = _cancelled(conn, body.cancel_orders, refs, routes)
    site_ids = sorted({str(v.site_id) for v in book.fleet} | {str(s.site_id) for s in parent.sites})
    snap = _sites_and_stock(conn, site_ids)
    snap.orders.extend(added)
    request, new_refs = planning.book_plan_request(snap, book)
    planned = {(r.channel, r.order_id) for r in new_refs}
    left = sorted(o.id for o in added if (o.channel, o.id) not in planned)
    if left:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"orders {left} are not due on the plan's day or have no open units: plan them "
            "on their own day",
            [{"field": "add_orders", "value": left, "message": "not due that day"}],
        )
    taken = {r.plan_order_id for r in new_refs} & set(refs)
    if taken:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"orders {sorted(taken)} use the ids of other orders of the plan: add them in a "
            "plan of their own",
            [{"field": "add_orders", "value": sorted(taken), "message": "ids in use"}],
        )
    options = book.options
    return ReplanInput(
        parent_id=plan_id,
        parent=parent,
        fleet=request.fleet,
        site_locations={s.id: s.location for s in snap.sites},
        routes=routes,
        stops=_stop_data(conn, parent, refs, routes, stop_rows, picked, parent.day_start),
        added=request.model_copy(update={"day_start": parent.day_start}),
        cancelled=cancelled,
        at=body.at,
        options=body.options,
        matrix=None if options.matrix is None else options.matrix.model_dump(),
        time_limit_s=body.options.routing_time_limit_s or options.routing_time_limit_s,
        picked_up=picked,
    ), [r.model_dump() for r in new_refs]


def _stale_routes(conn: Connection, result: PlanResult) -> list[dict[str, Any]]:
    """The routes that moved on since the re-plan read them (stops done or under way)."""
    assert result.replan is not None
    problems = []
    for van in result.replan.vans:
        if van.route_id is None:
            continue
        done, under_way = replan_routes.route_states(conn, van.route_id)
        status = dispatch_routes.route_row(conn, van.route_id)["status"]
        state = "dispatched" if status in ("dispatched", "completed") else "at_site"
        if done != set(van.done) or under_way != set(van.locked) or state != van.state:
            problems.append(
                {
                    "field": f"routes[{van.route_id}]",
                    "value": sorted(done | under_way),
                    "message": f"van {van.vehicle_id!r} has moved on since the re-plan: "
                    f"route {status}, done {sorted(done)}, under way {sorted(under_way)}",
                }
            )
    return problems


def _cancel(
    conn: Connection,
    refs: dict[str, dict[str, str]],
    cancelled: list[str],
    now: dt.datetime,
    actor: str | None,
    plan_id: str,
) -> None:
    """Cancel the re-plan's cancelled orders; their stock is given back."""
    for plan_order_id in cancelled:
        ref = refs[plan_order_id]
        row = orders_sql.find(conn, ref["order_id"], ref["channel"], lock=True)
        orders_sql.move(
            conn,
            row,
            OrderStatus.CANCELLED,
            TransitionCause.PLAN_COMMIT,
            actor,
            now,
            reason=f"cancelled by re-plan {plan_id}",
        )


def _release_unrouted(
    conn: Connection,
    refs: dict[str, dict[str, str]],
    result: PlanResult,
    now: dt.datetime,
    actor: str | None,
    plan_id: str,
) -> None:
    """The replaced plan's orders that the re-plan routes no more give their stock back and
    are ``ready`` for the next plan (when still only allocated; picked or packed ones stay
    as they are, in the plan's ``unassigned``)."""
    for shipment in result.shipments:
        ref = refs.get(str(shipment.order_id))
        if shipment.mode != "unrouted" or ref is None:
            continue
        row = orders_sql.find(conn, ref["order_id"], ref["channel"], lock=True)
        if OrderStatus(row._mapping["status"]) is OrderStatus.ALLOCATED:
            orders_sql.move(
                conn,
                row,
                OrderStatus.READY,
                TransitionCause.PLAN_COMMIT,
                actor,
                now,
                reason=f"re-plan {plan_id} routes it no more",
            )


def _take_over(conn: Connection, parent_id: str, plan_id: str) -> None:
    """The re-plan takes over what belongs to the plan it replaces: its reservations (so a
    failed delivery gives the units back as before) and the shipments' picking and cartons."""
    r = t.reservations.c
    conn.execute(update(t.reservations).where(r.plan_id == parent_id).values(plan_id=plan_id))
    for table in (picking_tables.pack_shipments, picking_tables.cartons):
        conn.execute(update(table).where(table.c.plan_id == parent_id).values(plan_id=plan_id))


def commit(conn: Connection, plan_id: str, now: dt.datetime, actor: str | None) -> CommitResult:
    """Commit a re-planned draft (see the module doc)."""
    draft = plans.plan_row(conn, plan_id, lock=True)._mapping
    if draft["status"] != "draft":
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"plan {plan_id!r} is {draft['status']}; only a draft is committed",
            [{"field": "status", "value": draft["status"], "message": "not a draft"}],
        )
    result = PlanResult.model_validate(draft["result"])
    assert result.replan is not None
    parent_id = result.replan.parent_plan_id
    parent = plans.plan_row(conn, parent_id, lock=True)._mapping
    problems: list[dict[str, Any]] = []
    if parent["status"] != "committed":
        problems.append(
            {"field": "parent_plan_id", "value": parent_id, "message": f"is {parent['status']}"}
        )
    problems.extend(_stale_routes(conn, result))
    refs = {r["plan_order_id"]: r for r in draft["book_orders"]}
    added = {k: refs[k] for k in map(str, result.replan.added_orders) if k in refs}
    rows = plans.plannable_orders(conn, added, problems)
    needs = plans.needs(draft["result"], rows)
    problems.extend(plans.overdrawn_lines(conn, needs, rows))
    problems.extend(plans.take_stock(conn, needs, now))
    if problems:
        raise ConflictError(
            ErrorCode.STALE_PLAN,
            f"re-plan {plan_id!r} is stale: {len(problems)} of its routes, orders or stock "
            "lines changed since it was made; nothing was changed (re-plan again)",
            problems,
        )
    ledger.add_reservations(conn, needs, now, plan_id, actor)
    out = plans.move_orders(
        conn, plan_id, draft["result"], rows, {n.order_seq for n in needs}, now, actor
    )
    parent_refs = {r["plan_order_id"]: r for r in parent["book_orders"]}
    cancelled = [str(x) for x in result.replan.cancelled_orders]
    _cancel(conn, parent_refs, cancelled, now, actor, plan_id)
    _release_unrouted(conn, parent_refs, result, now, actor, plan_id)
    _take_over(conn, parent_id, plan_id)
    p = t.plans.c
    conn.execute(update(t.plans).where(p.id == parent_id).values(status="superseded"))
    conn.execute(
        update(t.plans).where(p.id == plan_id).values(status="committed", committed_at=now)
    )
    units = sum(need.quantity for need in needs)
    emit(
        conn,
        EventType.PLAN_COMMITTED,
        {"plan_id": plan_id, "replan_of": parent_id, "orders": len(out), "units": units},
        now,
    )
    rewritten = replan_routes.store(
        conn, plan_id, result, result.replan.vans, draft["book_orders"], now
    )
    returns_scheduling.carry_over(conn, parent_id, plan_id, draft["result"], now, actor)
    for route_id in rewritten:
        dispatch_routes.recompute(conn, route_id, DEFAULT_THRESHOLD_S, now)
    return CommitResult(
        plan_id=plan_id,
        status="committed",
        reservations=len(needs),
        units_reserved=units,
        orders=out,
    )


def commit_any(conn: Connection, plan_id: str, now: dt.datetime, actor: str | None) -> CommitResult:
    """Commit a draft: a re-plan by :func:`commit`, any other by :func:`plans.commit`."""
    if plans.plan_row(conn, plan_id)._mapping["source"] == "replan":
        return commit(conn, plan_id, now, actor)
    return plans.commit(conn, plan_id, now, actor)
