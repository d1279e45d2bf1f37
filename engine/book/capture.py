"""Capturing an order, on an open transaction: insert it as ``received``, check it, move
it to ``ready`` or ``on_hold``, and emit its events; replay a capture by its key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from engine.book import ledger
from engine.book import orders as orders_sql
from engine.book import tables as t
from engine.book.payments import PAID
from engine.events.outbox import emit
from models.book import OrderIn, OrderRecord
from models.errors import ConflictError, ErrorCode
from models.status import EventType, HoldReason, OrderStatus, PaymentState, TransitionCause


def now_utc() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


def body_hash(order: OrderIn) -> str:
    """A digest of an order's content (what an idempotent replay must match)."""
    text = json.dumps(order.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _created(conn: Connection, row: Any, now: datetime) -> Any:
    """Emit the ``order.created`` event of a captured order (after its capture transitions);
    the row."""
    m = row._mapping
    data = {
        "order_id": m["order_id"],
        "channel": m["channel"],
        "status": m["status"],
        "hold_reason": m["hold_reason"],
    }
    emit(conn, EventType.ORDER_CREATED, data, now)
    return row


def _hold_for(payment: PaymentState, warned: bool) -> HoldReason | None:
    """Why a new order waits (None: it is ready)."""
    if payment is PaymentState.DECLINED:
        return HoldReason.PAYMENT_DECLINED
    if payment not in PAID:
        return HoldReason.PAYMENT_PENDING
    return HoldReason.VALIDATION if warned else None


def replay(conn: Connection, seen: Any, digest: str, key: str) -> tuple[OrderRecord, bool]:
    if seen._mapping["request_hash"] != digest:
        raise ConflictError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            f"Idempotency-Key {key!r} was used for a different order body",
            [{"field": "Idempotency-Key", "value": key, "message": "used with another body"}],
        )
    return orders_sql.record(conn, orders_sql.reread(conn, seen._mapping["order_seq"])), False


def insert(conn: Connection, order: OrderIn, order_id: str, actor: str | None) -> Any:
    """Insert an order as ``received``, then move it to ``ready`` or ``on_hold``."""
    now = now_utc()
    warnings = [
        f"lines[{i}].sku {line.sku!r} is in no site's ledger"
        for i, line in enumerate(order.lines)
        if not ledger.sku_known(conn, line.sku)
    ]
    seq = conn.execute(
        t.orders.insert()
        .values(
            channel=order.channel,
            order_id=order_id,
            status=OrderStatus.RECEIVED.value,
            warnings=warnings,
            lon=order.location[0],
            lat=order.location[1],
            address=order.address,
            # in UTC: SQLite keeps a time's clock digits, not its offset
            placed_at=None if order.placed_at is None else order.placed_at.astimezone(UTC),
            promised_date=order.promised_date,
            priority=order.priority,
            delivery_windows=[w.model_dump(mode="json") for w in order.delivery_windows],
            service_s=order.service_s,
            ship_complete=order.ship_complete,
            max_shipments=order.max_shipments,
            payment_status=order.payment_status,
            payment_reference=order.payment_reference,
            payment_gateway=order.payment_gateway,
            created_at=now,
            updated_at=now,
            created_by=actor,
        )
        .returning(t.orders.c.seq)
    ).scalar_one()
    conn.execute(
        t.order_lines.insert(),
        [
            {
                "order_seq": seq,
                "line_id": line.id,
                "position": i,
                "sku": line.sku,
                "quantity": line.quantity,
                "shipped": 0,
            }
            for i, line in enumerate(order.lines)
        ],
    )
    cause = TransitionCause.CAPTURE
    orders_sql.write_transition(
        conn,
        seq,
        now,
        None,
        OrderStatus.RECEIVED,
        cause,
        actor,
        None,
        order_id=order_id,
        channel=order.channel,
    )
    row = orders_sql.reread(conn, seq)
    hold = _hold_for(PaymentState(order.payment_status), bool(warnings))
    if hold is None:
        row = orders_sql.move(conn, row, OrderStatus.READY, cause, actor, now)
        return _created(conn, row, now)
    detail = "; ".join(warnings) if hold is HoldReason.VALIDATION else None
    row = orders_sql.move(
        conn,
        row,
        OrderStatus.ON_HOLD,
        cause,
        actor,
        now,
        hold_reason=hold,
        detail=detail,
        reason=hold.value,
    )
    return _created(conn, row, now)
