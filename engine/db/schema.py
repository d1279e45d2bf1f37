"""The tables of routeplan's one database, as SQLAlchemy Core sees them.

Every store uses these tables; the migrations in ``engine/db/migrations/versions/`` make them
(a migration writes its tables out again: it must not change when this file does). A test
checks that the migrated database matches :func:`all_metadata` exactly, so a new table is
declared here (or on a ``MetaData`` of its own, added to :func:`all_metadata`) together with
the migration that makes it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

#: The one MetaData of routeplan's tables.
METADATA = MetaData()

#: JSON, stored as JSONB on PostgreSQL.
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")

#: The job store's table (:mod:`engine.jobs.store`).
JOBS = Table(
    "routeplan_jobs",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("request", JSON_DOCUMENT, nullable=False),
    Column("result", JSON_DOCUMENT),
    Column("error", JSON_DOCUMENT),
    Column("progress", Float),
    Column("best_cost", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("owner", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("created_by", String(128)),
    Index("ix_routeplan_jobs_status_created", "status", "created_at"),
)

#: The API key table (:mod:`engine.jobs.keys`).
API_KEYS = Table(
    "routeplan_api_keys",
    METADATA,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("lookup", String(16), nullable=False),
    Column("hash", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_routeplan_api_keys_lookup", "lookup", unique=True),
)


def all_metadata() -> list[MetaData]:
    """Every MetaData whose tables the migrations make (what autogenerate compares)."""
    # Each declares its tables on METADATA: the order book's, the outbox and webhooks',
    # dispatch's.
    import engine.book.tables
    import engine.dispatch.tables
    import engine.events.tables
    import engine.picking.tables
    import engine.returns.tables
    import engine.tracking.tables  # noqa: F401

    return [METADATA]
