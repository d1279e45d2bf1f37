"""Returns (RMA): each return, its lines and its history (see ``engine/returns/tables.py``).

Revision ID: 0007_returns
Revises: 0006_pick_pack
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_returns"
down_revision: str | Sequence[str] | None = "0006_pick_pack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _returns() -> None:
    """The returns."""
    op.create_table(
        "routeplan_returns",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("received_site_id", sa.String(length=64), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("route_id", sa.String(length=36), nullable=True),
        sa.Column("stop_id", sa.String(length=200), nullable=True),
        sa.Column("picked_up_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["order_seq"], ["routeplan_orders.seq"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("return_id"),
    )
    with op.batch_alter_table("routeplan_returns", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_returns_order", ["order_seq"], unique=False)
        batch_op.create_index("ix_routeplan_returns_status_seq", ["status", "seq"], unique=False)


def _lines_and_keys() -> None:
    """Their lines and the capture keys."""
    op.create_table(
        "routeplan_return_lines",
        sa.Column("return_seq", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_routeplan_return_lines_quantity"),
        sa.ForeignKeyConstraint(["return_seq"], ["routeplan_returns.seq"]),
        sa.PrimaryKeyConstraint("return_seq", "line_id"),
    )
    op.create_table(
        "routeplan_return_idempotency",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("return_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["return_seq"], ["routeplan_returns.seq"]),
        sa.PrimaryKeyConstraint("key"),
    )


def _history() -> None:
    """Their history."""
    op.create_table(
        "routeplan_return_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("return_seq", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["return_seq"], ["routeplan_returns.seq"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_return_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_return_history_return", ["return_seq", "id"], unique=False
        )


def upgrade() -> None:
    """Make the returns, their lines, history and capture keys."""
    _returns()
    _lines_and_keys()
    _history()


def downgrade() -> None:
    """Undo :func:`upgrade`."""
    with op.batch_alter_table("routeplan_return_history", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_return_history_return")
    op.drop_table("routeplan_return_history")
    op.drop_table("routeplan_return_idempotency")
    op.drop_table("routeplan_return_lines")
    with op.batch_alter_table("routeplan_returns", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_returns_status_seq")
        batch_op.drop_index("ix_routeplan_returns_order")
    op.drop_table("routeplan_returns")
