"""The return lifecycle: every move between states, in one table, checked in one place.

| from | may become | how |
|---|---|---|
| (new) | requested | ``POST /v1/returns`` |
| requested | approved, rejected | ``/approve``, ``/reject`` |
| approved | pickup_scheduled | a committed plan has its pickup stop on a van route |
| approved | received | ``/receive``: the customer (or a carrier) brought it to the site |
| pickup_scheduled | received | ``/receive`` at the site, after the van's ``picked_up`` |
| pickup_scheduled | approved | the driver reported the pickup ``failed``: plan it again |
| received | restocked, disposed | ``/restock`` (a stock movement), ``/dispose`` |
| rejected, restocked, disposed | (nothing) | final |

``picked_up`` (the driver's event at the pickup stop) is kept in the history, not a state:
the goods are on the van until the site receives them.
"""

from __future__ import annotations

from models.errors import ConflictError, ErrorCode
from models.returns import ReturnStatus as S

#: The allowed moves: state -> the states it may become.
TRANSITIONS: dict[S, frozenset[S]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.PICKUP_SCHEDULED, S.RECEIVED}),
    S.PICKUP_SCHEDULED: frozenset({S.RECEIVED, S.APPROVED}),
    S.RECEIVED: frozenset({S.RESTOCKED, S.DISPOSED}),
    S.REJECTED: frozenset(),
    S.RESTOCKED: frozenset(),
    S.DISPOSED: frozenset(),
}

#: States whose units count against what an order may still return.
COUNTED: frozenset[S] = frozenset(S) - {S.REJECTED}
#: The state a plan from the book collects.
TO_COLLECT = S.APPROVED


def allowed(current: S, requested: S) -> bool:
    """Whether the table has a move from ``current`` to ``requested``."""
    return requested in TRANSITIONS[current]


def check(return_id: str, current: S, requested: S) -> None:
    """Raise a 409 ``invalid_transition`` naming both states unless the table allows it."""
    if not allowed(current, requested):
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"return {return_id!r} is {current.value}; it cannot become {requested.value}",
            [
                {
                    "field": "status",
                    "value": current.value,
                    "message": f"cannot become {requested.value}",
                }
            ],
        )
