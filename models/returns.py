"""Returns (RMA) of the order book: what a customer sends back of a delivered order, and
where the return is in its lifecycle (``engine/returns/lifecycle.py`` holds the table).

A return names its order and, per line, the order line (``line_id``) or its ``sku`` and the
units going back; at most the units delivered less those of the order's other returns
(rejected ones do not count). Once approved, the next plan made from the book collects it:
a pickup stop at the order's delivery location, on a van of the site that shipped the order
(else the nearest site).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field, model_validator

from models.book import BookId, Channel, PositiveUnits
from models.common import StrictModel


class ReturnStatus(StrEnum):
    """Where a return is: asked for, judged, collected, received at the site, and its goods
    put back on the shelf or thrown away."""

    REQUESTED = "requested"  # the customer asked
    APPROVED = "approved"  # accepted: the next plan from the book collects it
    REJECTED = "rejected"  # refused (final)
    PICKUP_SCHEDULED = "pickup_scheduled"  # a committed plan has its pickup stop on a route
    RECEIVED = "received"  # the goods are at the site
    RESTOCKED = "restocked"  # back on hand (a stock movement at the receiving site; final)
    DISPOSED = "disposed"  # thrown away (final)


class ReturnLineIn(StrictModel):
    """Units of one order line going back: the line by its id, or by its sku."""

    line_id: BookId | None = Field(None, description="the order line's id")
    sku: BookId | None = Field(None, description="the line's sku (when it names one line)")
    quantity: PositiveUnits

    @model_validator(mode="after")
    def _named(self) -> ReturnLineIn:
        if self.line_id is None and self.sku is None:
            raise ValueError("name the order line: line_id or sku")
        return self


class ReturnIn(StrictModel):
    """A return asked for (``POST /v1/returns``)."""

    order_id: BookId
    channel: Channel | None = Field(None, description="the order's channel, when its id is shared")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500, description="why the goods go back")


class ReturnNote(StrictModel):
    """An optional note with a move of a return (why it was rejected, what was seen)."""

    note: str | None = Field(None, max_length=500)


class ReceiveIn(StrictModel):
    """The goods arrived at a site (by default the return's own)."""

    site_id: BookId | None = Field(None, description="the receiving site; default the return's")
    note: str | None = Field(None, max_length=500)


class ReturnLineRecord(StrictModel):
    """One line of a stored return."""

    line_id: str
    sku: str
    quantity: int


class ReturnEvent(StrictModel):
    """One entry of a return's history: a change of state, or a pickup noted on the way."""

    at: dt.datetime
    event: str = Field(description="status (a change of state), picked_up or pickup_failed")
    from_status: ReturnStatus | None = None
    to_status: ReturnStatus
    cause: str = Field(description="api, plan_commit or event")
    actor: str | None = None
    note: str | None = None


class ReturnPickup(StrictModel):
    """Where a scheduled return is collected: the committed plan, the route and its stop."""

    plan_id: str | None = None
    route_id: str | None = None
    stop_id: str | None = None
    picked_up_at: dt.datetime | None = None


class ReturnRecord(StrictModel):
    """A return as it now is, with its history."""

    id: str
    order_id: str
    channel: str
    status: ReturnStatus
    reason: str
    site_id: str | None = Field(None, description="the site that collects and takes it back")
    received_site_id: str | None = None
    location: tuple[float, float] = Field(description="[lon, lat] of the pickup")
    lines: list[ReturnLineRecord]
    pickup: ReturnPickup
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = None
    history: list[ReturnEvent]


class ReturnPage(StrictModel):
    """One page of returns, oldest first; ``next_cursor`` fetches the next (None: last)."""

    returns: list[ReturnRecord]
    next_cursor: str | None = None
