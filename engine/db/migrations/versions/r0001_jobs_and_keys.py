"""The job table and the API key table, as routeplan made them before it had migrations.

A database made by that older code (``metadata.create_all`` on first contact) is adopted:
a table that exists already is kept, with its rows; an old job table gains its
``created_by`` column, and an index that is missing is made.

Revision ID: 0001_jobs_and_keys
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_jobs_and_keys"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS = "routeplan_jobs"
JOBS_INDEX = "ix_routeplan_jobs_status_created"
KEYS = "routeplan_api_keys"
KEYS_INDEX = "ix_routeplan_api_keys_lookup"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _stamp(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index_names(inspector: sa.Inspector, table: str) -> set[str]:
    return {str(index["name"]) for index in inspector.get_indexes(table)}


def upgrade() -> None:
    """Make both tables, or bring the older ones up to date."""
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if JOBS not in tables:
        op.create_table(
            JOBS,
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("request", _json(), nullable=False),
            sa.Column("result", _json()),
            sa.Column("error", _json()),
            sa.Column("progress", sa.Float()),
            sa.Column("best_cost", sa.Float()),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("owner", sa.String(64)),
            _stamp("created_at", nullable=False),
            _stamp("updated_at", nullable=False),
            _stamp("started_at"),
            _stamp("finished_at"),
            _stamp("heartbeat_at"),
            sa.Column("created_by", sa.String(128)),
        )
    elif "created_by" not in {column["name"] for column in inspector.get_columns(JOBS)}:
        op.add_column(JOBS, sa.Column("created_by", sa.String(128)))
    if JOBS not in tables or JOBS_INDEX not in _index_names(inspector, JOBS):
        op.create_index(JOBS_INDEX, JOBS, ["status", "created_at"])

    if KEYS not in tables:
        op.create_table(
            KEYS,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("lookup", sa.String(16), nullable=False),
            sa.Column("hash", sa.String(200), nullable=False),
            _stamp("created_at", nullable=False),
            _stamp("revoked_at"),
        )
    if KEYS not in tables or KEYS_INDEX not in _index_names(inspector, KEYS):
        op.create_index(KEYS_INDEX, KEYS, ["lookup"], unique=True)


def downgrade() -> None:
    """Drop both tables (and every job and key in them)."""
    op.drop_table(KEYS)
    op.drop_table(JOBS)
