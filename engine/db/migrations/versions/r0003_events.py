"""Events and webhooks: the outbox, webhook subscriptions, their deliveries (one per webhook
and event, unique) and the log of every delivery attempt (see ``engine/events/tables.py``).

Revision ID: 0003_events
Revises: 0002_order_book
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_events"
down_revision: str | Sequence[str] | None = "0002_order_book"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the outbox and the webhooks' tables."""
    op.create_table(
        "routeplan_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("routeplan_events", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_events_id", ["id"], unique=True)

    op.create_table(
        "routeplan_webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "routeplan_webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["routeplan_webhooks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_routeplan_webhook_deliveries_event"),
    )
    with op.batch_alter_table("routeplan_webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_routeplan_webhook_deliveries_hook", ["webhook_id", "event_seq"], unique=False
        )

    op.create_table(
        "routeplan_webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["routeplan_webhook_deliveries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_webhook_attempts_delivery", ["delivery_id", "attempt"], unique=False
        )


def downgrade() -> None:
    """Drop the outbox and the webhooks' tables."""
    with op.batch_alter_table("routeplan_webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_webhook_attempts_delivery")

    op.drop_table("routeplan_webhook_attempts")
    with op.batch_alter_table("routeplan_webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_webhook_deliveries_hook")
        batch_op.drop_index("ix_routeplan_webhook_deliveries_due")

    op.drop_table("routeplan_webhook_deliveries")
    op.drop_table("routeplan_webhooks")
    with op.batch_alter_table("routeplan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_events_id")

    op.drop_table("routeplan_events")
