"""The order book: orders, their lines and transitions, capture keys, sites, stock balances,
the stock ledger, reservations and plans (see ``engine/book/tables.py``).

The stock balance keeps CHECK constraints (never below zero, never more reserved than on
hand), a last guard against overselling.

Revision ID: 0002_order_book
Revises: 0001_jobs_and_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_order_book"
down_revision: str | Sequence[str] | None = "0001_jobs_and_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the order book's tables."""
    _orders()
    _plans()
    _sites_and_movements()
    _keys_lines_and_transitions()
    _reservations_and_stock()


def _orders() -> None:
    """The orders, with their indexes."""
    op.create_table(
        "routeplan_orders",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("hold_reason", sa.String(length=32), nullable=True),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "delivery_windows",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("service_s", sa.Float(), nullable=True),
        sa.Column("ship_complete", sa.Boolean(), nullable=False),
        sa.Column("max_shipments", sa.Integer(), nullable=True),
        sa.Column("payment_status", sa.String(length=16), nullable=False),
        sa.Column("payment_reference", sa.String(length=128), nullable=True),
        sa.Column("payment_gateway", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("channel", "order_id", name="uq_routeplan_orders_channel_id"),
    )
    with op.batch_alter_table("routeplan_orders", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_orders_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_routeplan_orders_status_seq", ["status", "seq"], unique=False)


def _plans() -> None:
    """The plans, drafts and committed."""
    op.create_table(
        "routeplan_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=True),
        sa.Column(
            "request",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "book_orders",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_plans", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_plans_created", ["created_at"], unique=False)


def _sites_and_movements() -> None:
    """The sites and the stock ledger (its movements)."""
    op.create_table(
        "routeplan_sites",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("capacity_orders", sa.Integer(), nullable=True),
        sa.Column("capacity_units", sa.Integer(), nullable=True),
        sa.Column("handling_cost_per_unit", sa.Float(), nullable=True),
        sa.Column(
            "opening_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column(
            "channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "routeplan_stock_movements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("order_seq", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_stock_movements_site_sku", ["site_id", "sku", "id"], unique=False
        )


def _keys_lines_and_transitions() -> None:
    """The capture keys, the order lines and the orders' transitions."""
    op.create_table(
        "routeplan_idempotency",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_seq"],
            ["routeplan_orders.seq"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "routeplan_order_lines",
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_routeplan_order_lines_quantity"),
        sa.CheckConstraint(
            "shipped >= 0 AND shipped <= quantity", name="ck_routeplan_order_lines_shipped"
        ),
        sa.ForeignKeyConstraint(
            ["order_seq"],
            ["routeplan_orders.seq"],
        ),
        sa.PrimaryKeyConstraint("order_seq", "line_id"),
    )
    op.create_table(
        "routeplan_order_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_seq"],
            ["routeplan_orders.seq"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_order_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_order_transitions_order", ["order_seq", "id"], unique=False
        )


def _reservations_and_stock() -> None:
    """The reservations and the stock balances (with their CHECKs)."""
    op.create_table(
        "routeplan_reservations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint("quantity > 0", name="ck_routeplan_reservations_quantity"),
        sa.ForeignKeyConstraint(
            ["order_seq"],
            ["routeplan_orders.seq"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_reservations_order", ["order_seq", "status"], unique=False
        )
        batch_op.create_index(
            "ix_routeplan_reservations_site_sku", ["site_id", "sku", "status"], unique=False
        )

    op.create_table(
        "routeplan_stock",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name="ck_routeplan_stock_on_hand"),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name="ck_routeplan_stock_reserved"
        ),
        sa.CheckConstraint("safety_stock >= 0", name="ck_routeplan_stock_safety"),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["routeplan_sites.site_id"],
        ),
        sa.PrimaryKeyConstraint("site_id", "sku"),
    )
    with op.batch_alter_table("routeplan_stock", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_stock_sku", ["sku"], unique=False)


def downgrade() -> None:
    """Drop the order book's tables."""
    with op.batch_alter_table("routeplan_stock", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_stock_sku")

    op.drop_table("routeplan_stock")
    with op.batch_alter_table("routeplan_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_reservations_site_sku")
        batch_op.drop_index("ix_routeplan_reservations_order")

    op.drop_table("routeplan_reservations")
    with op.batch_alter_table("routeplan_order_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_order_transitions_order")

    op.drop_table("routeplan_order_transitions")
    op.drop_table("routeplan_order_lines")
    op.drop_table("routeplan_idempotency")
    with op.batch_alter_table("routeplan_stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_stock_movements_site_sku")

    op.drop_table("routeplan_stock_movements")
    op.drop_table("routeplan_sites")
    with op.batch_alter_table("routeplan_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_plans_created")

    op.drop_table("routeplan_plans")
    with op.batch_alter_table("routeplan_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_orders_status_seq")
        batch_op.drop_index("ix_routeplan_orders_order_id")

    op.drop_table("routeplan_orders")
