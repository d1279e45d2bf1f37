"""Order tracking: each order's public tracking token.

Revision ID: 0005_tracking
Revises: 0004_dispatch
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_tracking"
down_revision: str | Sequence[str] | None = "0004_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the table of tracking tokens (see ``engine/tracking/tables.py``)."""
    op.create_table(
        "routeplan_tracking_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_seq"],
            ["routeplan_orders.seq"],
        ),
        sa.PrimaryKeyConstraint("token"),
        sa.UniqueConstraint("order_seq", name="uq_routeplan_tracking_tokens_order"),
    )


def downgrade() -> None:
    """Undo :func:`upgrade`."""
    op.drop_table("routeplan_tracking_tokens")
