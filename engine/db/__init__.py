"""routeplan's one SQL database: bounded engines (:mod:`engine.db.connect`), its tables
(:mod:`engine.db.schema`) and their Alembic migrations (:mod:`engine.db.migrate`)."""

from __future__ import annotations

from engine.db.connect import (
    Breaker,
    Entry,
    aware,
    immediate_writes,
    make_engine,
    report_unreachable,
    stamp,
    store_engines,
)
from engine.db.migrate import current_revision, ensure_schema, head_revision, upgrade

__all__ = [
    "Breaker",
    "Entry",
    "aware",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "immediate_writes",
    "make_engine",
    "report_unreachable",
    "stamp",
    "store_engines",
    "upgrade",
]
