"""The tables of events and webhooks (SQLAlchemy Core); made by the migration ``0003_events``.

- ``routeplan_events``: the outbox, append-only; ``seq`` orders it, ``id`` (a uuid) is the
  event's id, the same on every delivery of it.
- ``routeplan_webhooks``: subscriptions. ``secret`` is stored as given: it is needed to sign
  every delivery, so it cannot be hashed (it is never answered back).
- ``routeplan_webhook_deliveries``: one row per (webhook, event), unique, written in the same
  transaction as the event; ``attempt`` counts the tries made, ``next_attempt_at`` says when
  the next one is due (also the lease of a claimed row).
- ``routeplan_webhook_attempts``: every try of a delivery, append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from engine.db.schema import JSON_DOCUMENT as _JSON
from engine.db.schema import METADATA

_TIME = DateTime(timezone=True)

events = Table(
    "routeplan_events",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False),
    Column("type", String(40), nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("data", _JSON, nullable=False),
    Index("ix_routeplan_events_id", "id", unique=True),
)

webhooks = Table(
    "routeplan_webhooks",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", _JSON, nullable=False),
    Column("secret", String(256), nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("disabled_at", _TIME),
    Column("created_by", String(128)),
)

deliveries = Table(
    "routeplan_webhook_deliveries",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("webhook_id", String(36), ForeignKey("routeplan_webhooks.id"), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_seq", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("http_status", Integer),
    Column("error", Text),
    Column("next_attempt_at", _TIME, nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("delivered_at", _TIME),
    UniqueConstraint("webhook_id", "event_id", name="uq_routeplan_webhook_deliveries_event"),
    Index("ix_routeplan_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_routeplan_webhook_deliveries_hook", "webhook_id", "event_seq"),
)

attempts = Table(
    "routeplan_webhook_attempts",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "delivery_id", String(36), ForeignKey("routeplan_webhook_deliveries.id"), nullable=False
    ),
    Column("attempt", Integer, nullable=False),
    Column("at", _TIME, nullable=False),
    Column("http_status", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_routeplan_webhook_attempts_delivery", "delivery_id", "attempt"),
)
