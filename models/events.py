"""Events and webhooks: a subscription (:class:`WebhookIn`, answered as :class:`Webhook`,
without its secret), the deliveries of events to it (:class:`Delivery`, each try an
:class:`Attempt`), and the events of the outbox (:class:`Event`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from models.common import StrictModel
from models.status import EventType

#: What a delivery is doing: waiting for its first try, delivered, waiting for a retry after
#: a failed try, or given up after the last allowed try (or its webhook was disabled).
DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]
#: An event type a webhook subscribes to, or ``"*"`` for all of them.
EventFilter = EventType | Literal["*"]
#: The longest webhook URL.
MAX_URL_CHARS = 2000


class WebhookIn(StrictModel):
    """A webhook to make: where to POST events, which ones, and the secret that signs them."""

    url: Annotated[
        str,
        Field(
            min_length=8,
            max_length=MAX_URL_CHARS,
            pattern=r"^https?://",
            description="an http or https URL that receives the events by POST",
        ),
    ]
    events: Annotated[
        list[EventFilter],
        Field(min_length=1, max_length=len(EventType) + 1, description='types, or ["*"]'),
    ]
    secret: Annotated[
        str,
        Field(
            min_length=16,
            max_length=256,
            description="signs every delivery (Routeplan-Signature); never answered back",
        ),
    ]

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http or https URL")
        if not parts.hostname:
            raise ValueError(f"{value!r} names no host")
        return value

    @field_validator("events")
    @classmethod
    def _no_repeats(cls, value: list[EventFilter]) -> list[EventFilter]:
        if len(set(value)) != len(value):
            raise ValueError("names an event type twice")
        return value


class Webhook(StrictModel):
    """A webhook as stored (its secret is never answered back)."""

    id: str
    url: str
    events: list[EventFilter]
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None
    created_by: str | None = None


class WebhookList(StrictModel):
    """The webhooks, oldest first (disabled ones included)."""

    webhooks: list[Webhook]


class Attempt(StrictModel):
    """One try of a delivery: when, what the receiver answered (or the error), how long."""

    attempt: Annotated[int, Field(ge=1)]
    at: dt.datetime
    http_status: int | None = None
    error: str | None = None
    duration_ms: Annotated[int, Field(ge=0)]


class Delivery(StrictModel):
    """One event for one webhook: its state, the tries made, and when the next one is due."""

    id: str
    webhook_id: str
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempt: Annotated[int, Field(ge=0, description="tries made so far")]
    http_status: int | None = None
    error: str | None = None
    next_attempt_at: dt.datetime | None = Field(
        default=None, description="when the next try is due (None: no more tries)"
    )
    created_at: dt.datetime
    delivered_at: dt.datetime | None = None
    attempts: list[Attempt]


class DeliveryList(StrictModel):
    """A webhook's deliveries, newest first, each with its tries."""

    webhook_id: str
    deliveries: list[Delivery]


class Event(StrictModel):
    """One event of the outbox; webhooks receive ``{id, type, created_at, data}``."""

    id: str = Field(description="the event's id, the same on every delivery of it")
    seq: Annotated[int, Field(ge=1, description="its place in the outbox (?after=)")]
    type: EventType
    created_at: dt.datetime
    data: dict[str, Any]


class EventPage(StrictModel):
    """Events after a place in the outbox, oldest first; ``next_after`` continues."""

    events: list[Event]
    next_after: int
