"""The table of tracking (SQLAlchemy Core); made by the migration ``0005_tracking``.

- ``routeplan_tracking_tokens``: one public tracking token per order (``order_seq`` unique),
  random (:func:`engine.tracking.tokens.new_token`), made on the order's first tracking
  request and kept.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, UniqueConstraint

from engine.db.schema import METADATA

tracking_tokens = Table(
    "routeplan_tracking_tokens",
    METADATA,
    Column("token", String(64), primary_key=True),
    Column("order_seq", Integer, ForeignKey("routeplan_orders.seq"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("order_seq", name="uq_routeplan_tracking_tokens_order"),
)
