"""Payment gateways: what an order's payment may become, and who says so.

A gateway reviews each payment update before the book applies it: it may refuse it (an
unknown reference, a move its provider does not make) or check it with its provider. The
one built in, ``manual``, takes statuses as they are posted to
``POST /v1/orders/{id}/payment`` and only checks that the move is one a payment makes:

| from | may become |
|---|---|
| pending | authorised, captured, declined |
| authorised | captured, declined, refunded |
| captured | refunded |
| declined | authorised, captured (paid again) |
| refunded | (nothing) |

A real gateway is a class with a ``name`` and a ``review`` method, registered with
:func:`register_gateway` (e.g. from a plug-in module imported at start).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.engine import Connection

from engine.book import lifecycle as lc
from engine.book import orders as orders_sql
from engine.book import tables as t
from models.book import OrderRecord, PaymentUpdate
from models.errors import ConflictError, ErrorCode, InvalidInputError
from models.status import HoldReason, OrderStatus, PaymentState, TransitionCause
from models.status import PaymentState as P

#: The moves a payment makes.
PAYMENT_MOVES: dict[P, frozenset[P]] = {
    P.PENDING: frozenset({P.AUTHORISED, P.CAPTURED, P.DECLINED}),
    P.AUTHORISED: frozenset({P.CAPTURED, P.DECLINED, P.REFUNDED}),
    P.CAPTURED: frozenset({P.REFUNDED}),
    P.DECLINED: frozenset({P.AUTHORISED, P.CAPTURED}),
    P.REFUNDED: frozenset(),
}

#: Payments that let an order be planned.
PAID: frozenset[P] = frozenset({P.AUTHORISED, P.CAPTURED})


class PaymentGateway(Protocol):
    """Reviews payment updates for the orders that name it."""

    name: str

    def review(self, order_id: str, current: P, update: PaymentUpdate) -> P:
        """The payment state to store; raise a ``RouteplanError`` to refuse the update."""
        ...


class ManualGateway:
    """Statuses come through the API as posted; only impossible moves are refused."""

    name = "manual"

    def review(self, order_id: str, current: P, update: PaymentUpdate) -> P:
        """The posted status, if a payment can move there from ``current``."""
        target = P(update.status)
        if target not in PAYMENT_MOVES[current]:
            raise ConflictError(
                ErrorCode.INVALID_TRANSITION,
                f"the payment of order {order_id!r} is {current.value}; it cannot become "
                f"{target.value}",
                [
                    {
                        "field": "status",
                        "value": update.status,
                        "message": f"payment is {current.value}",
                    }
                ],
            )
        return target


_GATEWAYS: dict[str, PaymentGateway] = {"manual": ManualGateway()}


def register_gateway(gateway: PaymentGateway) -> None:
    """Make ``gateway`` available to orders whose ``payment_gateway`` is its name."""
    _GATEWAYS[gateway.name] = gateway


def gateway(name: str, field: str = "payment_gateway") -> PaymentGateway:
    """The gateway called ``name``; a 422 naming ``field`` when there is none."""
    try:
        return _GATEWAYS[name]
    except KeyError:
        known = ", ".join(sorted(_GATEWAYS))
        raise InvalidInputError.for_field(
            field, name, f"is not a payment gateway: use {known}"
        ) from None


#: Hold reasons a paid payment clears.
_PAYMENT_HOLDS = (
    HoldReason.PAYMENT_PENDING,
    HoldReason.PAYMENT_DECLINED,
    HoldReason.PAYMENT_REFUNDED,
)


def apply_payment(
    conn: Connection,
    order_id: str,
    channel: str | None,
    update_: PaymentUpdate,
    actor: str | None,
) -> OrderRecord:
    """Record a payment update its gateway accepted and move the order, in the open
    transaction (see :meth:`engine.book.store.BookStore.set_payment`)."""
    row = orders_sql.find(conn, order_id, channel, lock=True)
    m = row._mapping
    current = PaymentState(m["payment_status"])
    target = gateway(m["payment_gateway"]).review(m["order_id"], current, update_)
    now = datetime.now(UTC)
    conn.execute(
        update(t.orders)
        .where(t.orders.c.seq == m["seq"])
        .values(
            payment_status=target.value,
            payment_reference=update_.reference or m["payment_reference"],
            updated_at=now,
        )
    )
    row = orders_sql.reread(conn, m["seq"])
    status = OrderStatus(m["status"])
    cause, why = TransitionCause.PAYMENT, f"payment {target.value}"
    if target in PAID and status in (OrderStatus.ON_HOLD, OrderStatus.RECEIVED):
        if m["hold_reason"] in (None, *(h.value for h in _PAYMENT_HOLDS)):
            if m["warnings"]:
                row = orders_sql.move(
                    conn,
                    row,
                    OrderStatus.ON_HOLD,
                    cause,
                    actor,
                    now,
                    hold_reason=HoldReason.VALIDATION,
                    detail="; ".join(m["warnings"]),
                    reason=why,
                )
            else:
                row = orders_sql.move(conn, row, OrderStatus.READY, cause, actor, now, reason=why)
    elif target in (PaymentState.DECLINED, PaymentState.REFUNDED) and lc.allowed(
        status, OrderStatus.ON_HOLD
    ):
        hold = (
            HoldReason.PAYMENT_DECLINED
            if target is PaymentState.DECLINED
            else HoldReason.PAYMENT_REFUNDED
        )
        row = orders_sql.move(
            conn,
            row,
            OrderStatus.ON_HOLD,
            cause,
            actor,
            now,
            hold_reason=hold,
            detail=why,
            reason=why,
        )
    return orders_sql.record(conn, row)
