"""The tables of returns (SQLAlchemy Core); made by the migration ``0007_returns``.

- ``routeplan_returns``: one row per return; ``seq`` is the internal key (and the list
  cursor), ``return_id`` the one the API shows. It keeps the pickup's place (the order's
  delivery location), the site that collects it, and once scheduled the committed plan,
  route and stop that collect it.
- ``routeplan_return_lines``: its lines (the order line, its sku, the units going back).
- ``routeplan_return_history``: every change of state, and the pickup noted on the way
  (``event``), append-only, with time, cause and actor.
- ``routeplan_return_idempotency``: ``POST /v1/returns`` keys, with their body's hash.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from engine.db.schema import METADATA

_TIME = DateTime(timezone=True)

returns = Table(
    "routeplan_returns",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("return_id", String(36), nullable=False, unique=True),
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("site_id", String(64)),
    Column("received_site_id", String(64)),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("plan_id", String(36)),
    Column("route_id", String(36)),
    Column("stop_id", String(200)),
    Column("picked_up_at", _TIME),
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
    Column("created_by", String(128)),
    Index("ix_routeplan_returns_status_seq", "status", "seq"),
    Index("ix_routeplan_returns_order", "order_seq"),
)

return_lines = Table(
    "routeplan_return_lines",
    METADATA,
    Column("return_seq", Integer, ForeignKey("routeplan_returns.seq"), primary_key=True),
    Column("line_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="ck_routeplan_return_lines_quantity"),
)

history = Table(
    "routeplan_return_history",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("return_seq", Integer, ForeignKey("routeplan_returns.seq"), nullable=False),
    Column("at", _TIME, nullable=False),
    Column("event", String(16), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("cause", String(16), nullable=False),
    Column("actor", String(128)),
    Column("note", Text),
    Index("ix_routeplan_return_history_return", "return_seq", "id"),
)

idempotency = Table(
    "routeplan_return_idempotency",
    METADATA,
    Column("key", String(300), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("return_seq", Integer, ForeignKey("routeplan_returns.seq"), nullable=False),
    Column("created_at", _TIME, nullable=False),
)
