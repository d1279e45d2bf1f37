"""The order lifecycle: every move between states, in one table, checked in one place.

| from | may become | how |
|---|---|---|
| (new) | received | capture (API, import) |
| received | on_hold, ready, cancelled | the capture checks: payment and warnings |
| on_hold | on_hold, ready, cancelled | payment, release, a new hold reason |
| ready | on_hold, allocated, backordered, cancelled | plan commit, payment declined or refunded |
| backordered | on_hold, ready, allocated, backordered, cancelled | the next plan commit |
| allocated | on_hold, ready, allocated, picking, cancelled | pick starts; ``ready`` gives |
| | | the stock back; a later plan reserves the rest of a partly served order |
| picking | packed, cancelled | |
| packed | shipped, cancelled | shipping consumes the reservations |
| shipped | delivered, delivery_failed | delivery events |
| delivery_failed | ready, shipped, returned | planned again, another attempt, or back |
| delivered | returned | |
| cancelled, returned | (nothing) | final |

Entering ``on_hold``, ``ready`` (from ``allocated``) or ``cancelled`` releases the order's
active reservations; entering ``shipped`` consumes them (the units leave on hand) and needs a
paid order. ``cancelled`` is possible before ``shipped`` only. Plans take ``ready`` and
``backordered`` orders, and ``allocated`` ones that still have units no reservation holds
(a partly served order: the next plan may reserve the rest); an allocated order whose last
reservation is released becomes ``ready`` again.
"""

from __future__ import annotations

from models.errors import InvalidTransitionError
from models.status import OrderStatus as S

#: The allowed moves: state -> the states it may become.
TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.ON_HOLD, S.READY, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.ON_HOLD, S.READY, S.CANCELLED}),
    S.READY: frozenset({S.ON_HOLD, S.ALLOCATED, S.BACKORDERED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.ON_HOLD, S.READY, S.ALLOCATED, S.BACKORDERED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.ON_HOLD, S.READY, S.ALLOCATED, S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.DELIVERY_FAILED}),
    S.DELIVERY_FAILED: frozenset({S.READY, S.SHIPPED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

#: States whose orders a plan takes (``allocated`` ones only for their open units).
PLANNABLE: frozenset[S] = frozenset({S.READY, S.BACKORDERED, S.ALLOCATED})
#: States in which an order may hold reservations.
RESERVABLE: frozenset[S] = frozenset({S.READY, S.BACKORDERED, S.ALLOCATED})
#: Entering these gives the order's active reservations back.
RELEASES: frozenset[S] = frozenset({S.ON_HOLD, S.READY, S.CANCELLED})
#: Entering this consumes them.
CONSUMES: frozenset[S] = frozenset({S.SHIPPED})
#: States ``POST /v1/orders/{id}/status`` may ask for; the others come from capture,
#: payments and plan commits (and ``cancelled`` from its own endpoint, too).
DIRECT: frozenset[S] = frozenset(
    {
        S.ON_HOLD,
        S.READY,
        S.PICKING,
        S.PACKED,
        S.SHIPPED,
        S.DELIVERED,
        S.DELIVERY_FAILED,
        S.RETURNED,
        S.CANCELLED,
    }
)


def allowed(current: S, requested: S) -> bool:
    """Whether the table has a move from ``current`` to ``requested``."""
    return requested in TRANSITIONS[current]


def check(order_id: str, current: S, requested: S) -> None:
    """Raise :class:`InvalidTransitionError` (409) unless the table allows the move."""
    if not allowed(current, requested):
        raise InvalidTransitionError(order_id, current.value, requested.value)
