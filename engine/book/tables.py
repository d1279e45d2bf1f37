"""The order book's tables (SQLAlchemy Core); made by the migration ``0002_order_book``.

- ``routeplan_orders``: one row per order; ``seq`` is the internal key (and the list
  cursor), ``(channel, order_id)`` the caller's, unique.
- ``routeplan_order_lines``: its lines, with the units shipped.
- ``routeplan_order_transitions``: every change of state, append-only.
- ``routeplan_idempotency``: capture keys, with the hash of the body they came with.
- ``routeplan_sites``: the sites.
- ``routeplan_stock``: one balance row per (site, sku): ``on_hand`` (the sum of its
  movements), ``reserved`` (the sum of its active reservations) and ``safety_stock``, kept in
  step in the same transaction as every movement and reservation; CHECK constraints refuse
  a negative balance or more reserved than on hand, whatever the code above does.
- ``routeplan_stock_movements``: the append-only ledger.
- ``routeplan_reservations``: units held for an order line at a site.
- ``routeplan_plans``: plans, drafts and committed, with their requests and results.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
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

orders = Table(
    "routeplan_orders",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("hold_reason", String(32)),
    Column("status_detail", Text),
    Column("warnings", _JSON, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("address", Text),
    Column("placed_at", _TIME),
    Column("promised_date", Date),
    Column("priority", Integer, nullable=False),
    Column("delivery_windows", _JSON, nullable=False),
    Column("service_s", Float),
    Column("ship_complete", Boolean, nullable=False),
    Column("max_shipments", Integer),
    Column("payment_status", String(16), nullable=False),
    Column("payment_reference", String(128)),
    Column("payment_gateway", String(32), nullable=False),
    Column("plan_id", String(36)),
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
    Column("created_by", String(128)),
    # failed deliveries so far (added by the migration 0004_dispatch)
    Column("delivery_attempts", Integer, nullable=False, server_default="0"),
    UniqueConstraint("channel", "order_id", name="uq_routeplan_orders_channel_id"),
    Index("ix_routeplan_orders_status_seq", "status", "seq"),
    Index("ix_routeplan_orders_order_id", "order_id"),
)

order_lines = Table(
    "routeplan_order_lines",
    METADATA,
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), primary_key=True),
    Column("line_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("shipped", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="ck_routeplan_order_lines_quantity"),
    CheckConstraint(
        "shipped >= 0 AND shipped <= quantity", name="ck_routeplan_order_lines_shipped"
    ),
)

transitions = Table(
    "routeplan_order_transitions",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), nullable=False),
    Column("at", _TIME, nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("cause", String(16), nullable=False),
    Column("actor", String(128)),
    Column("reason", Text),
    Index("ix_routeplan_order_transitions_order", "order_seq", "id"),
)

idempotency = Table(
    "routeplan_idempotency",
    METADATA,
    Column("key", String(300), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), nullable=False),
    Column("created_at", _TIME, nullable=False),
)

sites = Table(
    "routeplan_sites",
    METADATA,
    Column("site_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("capacity_orders", Integer),
    Column("capacity_units", Integer),
    Column("handling_cost_per_unit", Float),
    Column("opening_hours", _JSON, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("channels", _JSON, nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
)

stock = Table(
    "routeplan_stock",
    METADATA,
    Column("site_id", String(64), ForeignKey("routeplan_sites.site_id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("updated_at", _TIME, nullable=False),
    CheckConstraint("on_hand >= 0", name="ck_routeplan_stock_on_hand"),
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_routeplan_stock_reserved"),
    CheckConstraint("safety_stock >= 0", name="ck_routeplan_stock_safety"),
    Index("ix_routeplan_stock_sku", "sku"),
)

movements = Table(
    "routeplan_stock_movements",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("delta", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("reference", String(128)),
    Column("order_seq", Integer),
    Column("at", _TIME, nullable=False),
    Column("actor", String(128)),
    Index("ix_routeplan_stock_movements_site_sku", "site_id", "sku", "id"),
)

reservations = Table(
    "routeplan_reservations",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("site_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("plan_id", String(36)),
    Column("created_at", _TIME, nullable=False),
    Column("ended_at", _TIME),
    Column("created_by", String(128)),
    CheckConstraint("quantity > 0", name="ck_routeplan_reservations_quantity"),
    Index("ix_routeplan_reservations_order", "order_seq", "status"),
    Index("ix_routeplan_reservations_site_sku", "site_id", "sku", "status"),
)

plans = Table(
    "routeplan_plans",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("plan_date", Date),
    Column("request", _JSON, nullable=False),
    Column("result", _JSON, nullable=False),
    Column("book_orders", _JSON, nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("committed_at", _TIME),
    Column("created_by", String(128)),
    Index("ix_routeplan_plans_created", "created_at"),
)
