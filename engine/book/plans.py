"""Stored plans, and committing one: all of its stock reserved in one transaction, or none.

Committing a draft made from the book, in one transaction:

1. lock the plan (a second commit of it waits, then finds it committed: 409);
2. lock its orders, in key order; each must still be ``ready`` or ``backordered`` and paid;
3. take each (site, sku)'s units by one conditional update, in (site, sku) order so that
   two commits never wait for each other in a circle; every shortfall is noted;
4. if any order moved or any unit is short, answer 409 ``stale_plan`` with every short
   line, and the transaction rolls back: nothing is reserved;
5. otherwise write one reservation per shipment line, move the served orders to
   ``allocated`` and the others to ``backordered`` with the allocation's reasons, and mark
   the plan committed; store its van routes, and move the approved returns whose pickup
   is on one of them to ``pickup_scheduled`` (:func:`engine.returns.scheduling.schedule`).

A server killed at any point before the final commit leaves nothing behind: the database
rolls the open transaction back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from engine.book import ledger, records
from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.payments import PAID
from engine.db import aware
from engine.dispatch import routes as dispatch_routes
from engine.events.outbox import emit
from engine.returns import scheduling as returns_scheduling
from models.book import CommitResult, CommittedOrder, PlanRecord
from models.errors import ConflictError, ErrorCode, NotFoundError
from models.plan import PlanResult
from models.status import EventType, OrderStatus, PaymentState, TransitionCause

#: Most ids in one ``IN (...)`` list.
CHUNK = 2000


def insert(
    conn: Connection,
    plan_id: str,
    source: str,
    request: dict[str, Any],
    result: PlanResult,
    refs: list[dict[str, str]],
    now: datetime,
    actor: str | None,
) -> None:
    """Store a draft plan."""
    plan_date = request.get("plan_date") or (request.get("from_book") or {}).get("date")
    conn.execute(
        t.plans.insert().values(
            id=plan_id,
            status="draft",
            source=source,
            plan_date=None if plan_date is None else datetime.fromisoformat(plan_date).date(),
            request=request,
            result=result.model_dump(mode="json"),
            book_orders=refs,
            created_at=now,
            created_by=actor,
        )
    )


def plan_row(conn: Connection, plan_id: str, *, lock: bool = False) -> Any:
    """The plan's row (locked when asked): 404 when there is none."""
    query = select(t.plans).where(t.plans.c.id == plan_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"no plan {plan_id!r}", [{"field": "plan_id", "value": plan_id, "message": "unknown"}]
        )
    return row


def record(conn: Connection, plan_id: str) -> PlanRecord:
    """A stored plan as the API shows it."""
    m = plan_row(conn, plan_id)._mapping
    return PlanRecord.model_validate(
        {
            **m["result"],
            "id": m["id"],
            "status": m["status"],
            "source": m["source"],
            "plan_date": m["plan_date"],
            "created_at": aware(m["created_at"]),
            "committed_at": aware(m["committed_at"]),
            "created_by": m["created_by"],
            "book_orders": m["book_orders"],
            "routes": dispatch_routes.refs_of_plan(conn, plan_id),
        }
    )


def summaries(
    conn: Connection, status: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of stored plans, newest first: each one's state, origin and KPIs (read out of
    the stored result by the database, not the whole plan); ``cursor`` is the previous
    page's next cursor (an offset). The page and the next cursor (None after the last)."""
    p = t.plans.c
    kpis = p.result["kpis"].label("kpis")
    query = select(p.id, p.status, p.source, p.plan_date, p.created_at, p.committed_at, kpis)
    if status is not None:
        query = query.where(p.status == status)
    start = records.cursor(cursor)
    query = query.order_by(p.created_at.desc(), p.id.desc()).offset(start).limit(limit + 1)
    rows = [dict(row._mapping) for row in conn.execute(query).all()]
    for row in rows:
        for key in ("created_at", "committed_at"):
            row[key] = aware(row[key])
    more = len(rows) > limit
    return rows[:limit], str(start + limit) if more else None


def _reasons(result: dict[str, Any]) -> dict[str, list[str]]:
    """Each plan order id's unfulfilled lines, as ``reason: line (sku x units)`` texts."""
    out: dict[str, list[str]] = defaultdict(list)
    for line in result["allocation"]["unfulfilled"]:
        what = f"line {line.get('line_id')} ({line.get('sku')} x {line.get('quantity')})"
        out[str(line["order_id"])].append(f"{line['reason']}: {what}")
    return out


def _chunks(items: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def _lock_orders(conn: Connection, refs: dict[str, dict[str, str]]) -> dict[tuple[str, str], Any]:
    """The rows of the plan's orders, locked (PostgreSQL), by (channel, order id): a few
    statements of many ids each."""
    wanted = {(ref["channel"], ref["order_id"]) for ref in refs.values()}
    o = t.orders.c
    found: dict[tuple[str, str], Any] = {}
    for chunk in _chunks(sorted({order_id for _channel, order_id in wanted})):
        query = select(t.orders).where(o.order_id.in_(chunk)).order_by(o.seq).with_for_update()
        for row in conn.execute(query).all():
            key = (row._mapping["channel"], row._mapping["order_id"])
            if key in wanted:
                found[key] = row
    return found


def overdrawn_lines(
    conn: Connection, needs: list[ledger.Need], rows: dict[str, Any]
) -> list[dict[str, Any]]:
    """The lines for which the plan asks more units than they still have open (quantity
    less shipped, less reserved since the plan was made)."""
    names = {row._mapping["seq"]: row._mapping for row in rows.values()}
    asked: dict[tuple[int, str], int] = defaultdict(int)
    for need in needs:
        asked[(need.order_seq, need.line_id)] += need.quantity
    lines, r = t.order_lines.c, t.reservations.c
    open_units: dict[tuple[int, str], int] = {}
    held: dict[tuple[int, str], int] = defaultdict(int)
    for chunk in _chunks(sorted({seq for seq, _line in asked})):
        for seq, line_id, quantity, shipped in conn.execute(
            select(lines.order_seq, lines.line_id, lines.quantity, lines.shipped).where(
                lines.order_seq.in_(chunk)
            )
        ).all():
            open_units[(seq, line_id)] = quantity - shipped
        for seq, line_id, units in conn.execute(
            select(r.order_seq, r.line_id, func.sum(r.quantity))
            .where(r.order_seq.in_(chunk), r.status == "active")
            .group_by(r.order_seq, r.line_id)
        ).all():
            held[(seq, line_id)] = int(units)
    out = []
    for (seq, line_id), quantity in sorted(asked.items()):
        free = open_units.get((seq, line_id), 0) - held[(seq, line_id)]
        if quantity > free:
            order = names[seq]
            out.append(
                {
                    "field": f"orders[{order['order_id']}].lines[{line_id}]",
                    "value": quantity,
                    "message": f"the plan reserves {quantity}; the line has {free} "
                    "unit(s) open now",
                    "order_id": order["order_id"],
                    "channel": order["channel"],
                    "line_id": line_id,
                    "needed": quantity,
                    "open": free,
                }
            )
    return out


def _draft_of_the_book(conn: Connection, plan_id: str) -> Any:
    """The plan's row, locked: 409 unless it is a draft made from the book."""
    plan = plan_row(conn, plan_id, lock=True)._mapping
    if plan["status"] != "draft":
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"plan {plan_id!r} is {plan['status']}; only a draft is committed",
            [{"field": "status", "value": plan["status"], "message": "not a draft"}],
        )
    if plan["source"] != "book":
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"plan {plan_id!r} was given in full, not made from the book: it has no book "
            "orders to reserve stock for",
            [{"field": "source", "value": plan["source"], "message": "not from the book"}],
        )
    return plan


def plannable_orders(
    conn: Connection, refs: dict[str, dict[str, str]], problems: list[dict[str, Any]]
) -> dict[str, Any]:
    """The plan's orders that are still plannable and paid, locked, by plan order id; a
    problem for each of the others."""
    rows: dict[str, Any] = {}
    locked = _lock_orders(conn, refs)
    for plan_order_id in sorted(refs, key=lambda k: (refs[k]["channel"], refs[k]["order_id"])):
        ref = refs[plan_order_id]
        row = locked.get((ref["channel"], ref["order_id"]))
        status = None if row is None else OrderStatus(row._mapping["status"])
        paid = row is not None and PaymentState(row._mapping["payment_status"]) in PAID
        if row is None or status not in lc.PLANNABLE or not paid:
            now_is = (
                "gone" if row is None else f"{status}, payment {row._mapping['payment_status']}"
            )
            problems.append(
                {
                    "field": f"orders[{plan_order_id}]",
                    "value": ref["order_id"],
                    "message": f"was ready when planned; now {now_is}",
                    "order_id": ref["order_id"],
                    "channel": ref["channel"],
                }
            )
            continue
        rows[plan_order_id] = row
    return rows


def needs(result: dict[str, Any], rows: dict[str, Any]) -> list[ledger.Need]:
    """One need per shipment line of the plan's orders that are still plannable."""
    needs: list[ledger.Need] = []
    for shipment in result["allocation"]["shipments"]:
        row = rows.get(str(shipment["order_id"]))
        if row is None:
            continue
        for line in shipment["lines"]:
            needs.append(
                ledger.Need(
                    order_seq=row._mapping["seq"],
                    line_id=str(line["line_id"]),
                    site_id=str(shipment["site_id"]),
                    sku=str(line["sku"]),
                    quantity=int(line["quantity"]),
                )
            )
    return needs


def take_stock(conn: Connection, needs: list[ledger.Need], now: datetime) -> list[dict[str, Any]]:
    """Take every (site, sku)'s units, in key order; a problem for each that is short."""
    problems = []
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for need in needs:
        wanted[(need.site_id, need.sku)] += need.quantity
    for site_id, sku in sorted(wanted):
        quantity = wanted[(site_id, sku)]
        if not ledger.take(conn, site_id, sku, quantity, now):
            free = ledger.available(conn, site_id, sku)
            problems.append(
                {
                    "field": f"stock[{site_id}/{sku}]",
                    "value": quantity,
                    "message": f"the plan needs {quantity}; {free} available now",
                    "site_id": site_id,
                    "sku": sku,
                    "needed": quantity,
                    "available": free,
                }
            )
    return problems


def move_orders(
    conn: Connection,
    plan_id: str,
    result: dict[str, Any],
    rows: dict[str, Any],
    served: set[int],
    now: datetime,
    actor: str | None,
) -> list[CommittedOrder]:
    """Served orders to ``allocated``, the others to ``backordered`` with their reasons
    (an allocated order the plan left out keeps what it holds)."""
    reasons = _reasons(result)
    out = []
    moves: list[orders_sql.Move] = []
    for plan_order_id, row in rows.items():
        m = row._mapping
        texts = reasons.get(plan_order_id, [])
        if m["seq"] in served:
            target = OrderStatus.ALLOCATED
            detail = None if not texts else "partly served; " + "; ".join(texts)
            order_plan = plan_id
        elif OrderStatus(m["status"]) is OrderStatus.ALLOCATED:
            continue  # still holds what an earlier plan reserved; the rest waits
        else:
            target = OrderStatus.BACKORDERED
            detail = "; ".join(texts) or "the plan left it out"
            order_plan = m["plan_id"]
        reason = f"plan {plan_id}" + (f": {detail}" if detail else "")
        moves.append(orders_sql.Move(row, target, detail, reason, order_plan))
        out.append(
            CommittedOrder(
                order_id=m["order_id"], channel=m["channel"], status=target, detail=detail
            )
        )
    orders_sql.move_many(conn, moves, TransitionCause.PLAN_COMMIT, actor, now)
    return out


def commit(conn: Connection, plan_id: str, now: datetime, actor: str | None) -> CommitResult:
    """Commit a draft plan of the book (see the module's docstring)."""
    plan = _draft_of_the_book(conn, plan_id)
    refs = {ref["plan_order_id"]: ref for ref in plan["book_orders"]}
    problems: list[dict[str, Any]] = []
    rows = plannable_orders(conn, refs, problems)
    result = plan["result"]
    wanted = needs(result, rows)
    problems.extend(overdrawn_lines(conn, wanted, rows))
    problems.extend(take_stock(conn, wanted, now))
    if problems:
        raise ConflictError(
            ErrorCode.STALE_PLAN,
            f"plan {plan_id!r} is stale: {len(problems)} of its orders or stock lines changed "
            "since it was made; nothing was reserved (plan again)",
            problems,
        )
    ledger.add_reservations(conn, wanted, now, plan_id, actor)
    served = {need.order_seq for need in wanted}
    out = move_orders(conn, plan_id, result, rows, served, now, actor)
    conn.execute(
        update(t.plans).where(t.plans.c.id == plan_id).values(status="committed", committed_at=now)
    )
    units = sum(need.quantity for need in wanted)
    committed = {"plan_id": plan_id, "orders": len(out), "units": units}
    emit(conn, EventType.PLAN_COMMITTED, committed, now)
    dispatch_routes.store_routes(conn, plan_id, result, plan["book_orders"], now)
    returns_scheduling.schedule(conn, plan_id, result, now, actor)
    return CommitResult(
        plan_id=plan_id,
        status="committed",
        reservations=len(wanted),
        units_reserved=units,
        orders=out,
    )
