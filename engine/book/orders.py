"""Orders on an open transaction: find one, read it back, move it through the lifecycle.

Every move goes through :func:`move`, which checks the lifecycle table
(:mod:`engine.book.lifecycle`), changes the row only if its state is still the one read
(compare-and-set), writes the transition, and releases or consumes the order's
reservations as the target state asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from engine.book import ledger
from engine.book import lifecycle as lc
from engine.book import tables as t
from engine.db import aware, stamp
from engine.events.outbox import emit, emit_many
from models.book import DeliveryWindow, OrderLineRecord, OrderRecord
from models.errors import ConflictError, ErrorCode, NotFoundError
from models.status import EventType, HoldReason, OrderStatus, PaymentState, TransitionCause


def find(conn: Connection, order_id: str, channel: str | None, *, lock: bool = False) -> Any:
    """The order row with this id (in ``channel`` when given): 404 when there is none,
    409 ``ambiguous_order`` when the id is used in several channels and none is named."""
    o = t.orders.c
    query = select(t.orders).where(o.order_id == order_id)
    if channel is not None:
        query = query.where(o.channel == channel)
    if lock:
        query = query.with_for_update()
    rows = conn.execute(query.limit(5)).all()
    if not rows:
        where = f" in channel {channel!r}" if channel is not None else ""
        raise NotFoundError(
            f"no order {order_id!r}{where}",
            [{"field": "order_id", "value": order_id, "message": "unknown"}],
        )
    if len(rows) > 1:
        channels = sorted(row._mapping["channel"] for row in rows)
        raise ConflictError(
            ErrorCode.AMBIGUOUS_ORDER,
            f"order id {order_id!r} is used by channels {channels}: name one (channel=...)",
            [{"field": "channel", "value": None, "message": f"one of {channels}"}],
        )
    return rows[0]


def records(conn: Connection, rows: Sequence[Any]) -> list[OrderRecord]:
    """Order rows as the API shows them, with their lines, reserved units and sites."""
    seqs = [row._mapping["seq"] for row in rows]
    if not seqs:
        return []
    lines: dict[int, list[Any]] = defaultdict(list)
    for line in conn.execute(
        select(t.order_lines)
        .where(t.order_lines.c.order_seq.in_(seqs))
        .order_by(t.order_lines.c.order_seq, t.order_lines.c.position)
    ).all():
        lines[line._mapping["order_seq"]].append(line._mapping)
    r = t.reservations.c
    reserved: dict[tuple[int, str], int] = defaultdict(int)
    sites: dict[int, set[str]] = defaultdict(set)
    for seq, line_id, site_id, status, quantity in conn.execute(
        select(r.order_seq, r.line_id, r.site_id, r.status, r.quantity).where(
            r.order_seq.in_(seqs), r.status.in_(["active", "consumed"])
        )
    ).all():
        sites[seq].add(site_id)
        if status == "active":
            reserved[(seq, line_id)] += quantity
    out = []
    for row in rows:
        m = row._mapping
        seq = m["seq"]
        out.append(
            OrderRecord(
                id=m["order_id"],
                channel=m["channel"],
                status=OrderStatus(m["status"]),
                hold_reason=HoldReason(m["hold_reason"]) if m["hold_reason"] else None,
                status_detail=m["status_detail"],
                warnings=list(m["warnings"] or []),
                location=(m["lon"], m["lat"]),
                address=m["address"],
                lines=[
                    OrderLineRecord(
                        id=line["line_id"],
                        sku=line["sku"],
                        quantity=line["quantity"],
                        reserved=reserved[(seq, line["line_id"])],
                        shipped=line["shipped"],
                    )
                    for line in lines[seq]
                ],
                placed_at=aware(m["placed_at"]),
                promised_date=m["promised_date"],
                priority=m["priority"],
                delivery_windows=[DeliveryWindow.model_validate(w) for w in m["delivery_windows"]],
                service_s=m["service_s"],
                ship_complete=m["ship_complete"],
                max_shipments=m["max_shipments"],
                payment_status=PaymentState(m["payment_status"]),
                payment_reference=m["payment_reference"],
                payment_gateway=m["payment_gateway"],
                plan_id=m["plan_id"],
                site_ids=sorted(sites[seq]),
                created_at=stamp(m["created_at"]),
                updated_at=stamp(m["updated_at"]),
                created_by=m["created_by"],
            )
        )
    return out


def record(conn: Connection, row: Any) -> OrderRecord:
    """One order row as the API shows it."""
    return records(conn, [row])[0]


def reread(conn: Connection, seq: int) -> Any:
    """The order row with this internal key (it exists)."""
    return conn.execute(select(t.orders).where(t.orders.c.seq == seq)).one()


def write_transition(
    conn: Connection,
    seq: int,
    now: datetime,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    cause: TransitionCause,
    actor: str | None,
    reason: str | None,
    *,
    order_id: str | None = None,
    channel: str | None = None,
) -> None:
    """Append one transition to the order's history, and its ``order.status_changed`` event
    (``order_id`` and ``channel`` are read from the order when not given)."""
    conn.execute(
        t.transitions.insert().values(
            order_seq=seq,
            at=now,
            from_status=None if from_status is None else from_status.value,
            to_status=to_status.value,
            cause=cause.value,
            actor=actor,
            reason=reason,
        )
    )
    if order_id is None or channel is None:
        order_id, channel = conn.execute(
            select(t.orders.c.order_id, t.orders.c.channel).where(t.orders.c.seq == seq)
        ).one()
    emit(
        conn,
        EventType.ORDER_STATUS_CHANGED,
        _changed(
            order_id, channel, from_status and from_status.value, to_status.value, cause, reason
        ),
        now,
    )


def _changed(
    order_id: str,
    channel: str,
    from_status: str | None,
    to_status: str,
    cause: TransitionCause,
    reason: str | None,
) -> dict[str, Any]:
    """The data of an ``order.status_changed`` event."""
    return {
        "order_id": order_id,
        "channel": channel,
        "from": from_status,
        "to": to_status,
        "cause": cause.value,
        "reason": reason,
    }


def move(
    conn: Connection,
    row: Any,
    target: OrderStatus,
    cause: TransitionCause,
    actor: str | None,
    now: datetime,
    *,
    reason: str | None = None,
    hold_reason: HoldReason | None = None,
    detail: str | None = None,
    **values: Any,
) -> Any:
    """Move the order of ``row`` to ``target`` (409 ``invalid_transition`` when the table
    has no such move), with its side effects; the row as it now is."""
    m = row._mapping
    current = OrderStatus(m["status"])
    lc.check(m["order_id"], current, target)
    o = t.orders.c
    done = conn.execute(
        update(t.orders)
        .where(o.seq == m["seq"], o.status == current.value)
        .values(
            status=target.value,
            hold_reason=None if hold_reason is None else hold_reason.value,
            status_detail=detail,
            updated_at=now,
            **values,
        )
    )
    if done.rowcount != 1:  # changed since it was read: do it all again on the new state
        raise ledger.RetryTransactionError()
    if target in lc.RELEASES:
        ledger.release_order(conn, m["seq"], now)
        conn.execute(update(t.orders).where(o.seq == m["seq"]).values(plan_id=None))
    if target in lc.CONSUMES:
        ledger.consume_order(conn, m["seq"], now, actor)
    write_transition(
        conn,
        m["seq"],
        now,
        current,
        target,
        cause,
        actor,
        reason or detail,
        order_id=m["order_id"],
        channel=m["channel"],
    )
    return reread(conn, m["seq"])


@dataclass(frozen=True)
class Move:
    """One order's move in :func:`move_many`: the locked row, where it goes, and why."""

    row: Any
    target: OrderStatus
    detail: str | None
    reason: str
    plan_id: str | None


def move_many(
    conn: Connection, moves: list[Move], cause: TransitionCause, actor: str | None, now: datetime
) -> None:
    """Move many locked orders at once (a plan commit): each checked by the lifecycle
    table, then one batch of updates and one of transitions. Only for targets without side
    effects on reservations (``allocated``, ``backordered``)."""
    if not moves:
        return
    for move_ in moves:
        m = move_.row._mapping
        assert move_.target not in lc.RELEASES | lc.CONSUMES, move_.target
        lc.check(m["order_id"], OrderStatus(m["status"]), move_.target)
    o = t.orders.c
    conn.execute(
        update(t.orders)
        .where(o.seq == bindparam("b_seq"))
        .values(
            status=bindparam("b_status"),
            hold_reason=None,
            status_detail=bindparam("b_detail"),
            plan_id=bindparam("b_plan"),
            updated_at=now,
        ),
        [
            {
                "b_seq": move_.row._mapping["seq"],
                "b_status": move_.target.value,
                "b_detail": move_.detail,
                "b_plan": move_.plan_id,
            }
            for move_ in moves
        ],
    )
    conn.execute(
        t.transitions.insert(),
        [
            {
                "order_seq": move_.row._mapping["seq"],
                "at": now,
                "from_status": move_.row._mapping["status"],
                "to_status": move_.target.value,
                "cause": cause.value,
                "actor": actor,
                "reason": move_.reason,
            }
            for move_ in moves
        ],
    )
    emit_many(
        conn,
        [
            (
                EventType.ORDER_STATUS_CHANGED,
                _changed(
                    move_.row._mapping["order_id"],
                    move_.row._mapping["channel"],
                    move_.row._mapping["status"],
                    move_.target.value,
                    cause,
                    move_.reason,
                ),
            )
            for move_ in moves
        ],
        now,
    )


def active_units(conn: Connection, seq: int, line_id: str) -> int:
    """Units of one order line held by active reservations."""
    r = t.reservations.c
    total = conn.execute(
        select(func.coalesce(func.sum(r.quantity), 0)).where(
            r.order_seq == seq, r.line_id == line_id, r.status == "active"
        )
    ).scalar_one()
    return int(total)
