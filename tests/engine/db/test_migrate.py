"""The migrations on SQLite and PostgreSQL: an empty database reaches the head with every
table; a second upgrade changes nothing; a database made by the code before migrations is
adopted with its rows; servers upgrading one database at once both succeed; and the
migrated schema is exactly the stores' tables (Alembic's autogenerate finds no difference).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, inspect, text

from engine.db import current_revision, ensure_schema, head_revision, upgrade
from engine.db.migrate import ADVISORY_LOCK_KEY, VERSION_TABLE, schema_differences
from engine.db.schema import API_KEYS, JOBS
from engine.jobs import JobStore
from engine.jobs.keys import KeyStore, Role
from models.errors import StoreUnavailableError
from models.jobs import JobStatus
from tests.engine.db.racers import upgrade_at_once
from tests.postgres import fresh_postgres_url

#: The tables the first migration makes, and the version table.
TABLES = {"routeplan_jobs", "routeplan_api_keys", "routeplan_alembic_version"}
#: The first revision, which every later one builds on.
FIRST = "0001_jobs_and_keys"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'routeplan.db'}"
    else:
        with fresh_postgres_url() as fresh:
            yield fresh


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _versions(url: str) -> list[str]:
    """The rows of the version table, read with plain SQL."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            ]
    finally:
        engine.dispose()


def _statements(engine: Engine) -> list[str]:
    """The statements ``engine`` runs from now on (a list that grows)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.strip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_the_first_revision_is_the_jobs_and_keys(url: str) -> None:
    assert current_revision(url) is None
    assert upgrade(url, FIRST) == FIRST
    assert _versions(url) == [FIRST]
    assert _tables(url) == TABLES


def test_an_empty_database_reaches_the_head_with_every_table(url: str) -> None:
    assert current_revision(url) is None
    assert upgrade(url) == head_revision()
    assert current_revision(url) == head_revision()
    assert _versions(url) == [head_revision()]
    assert _tables(url) >= TABLES
    assert "alembic_version" not in _tables(url)  # the version table has routeplan's name


def test_a_second_upgrade_changes_nothing_and_keeps_the_rows(url: str) -> None:
    upgrade(url)
    store = JobStore(url)
    try:
        job = store.submit("routes", {"n": 1})
    finally:
        store.close()
    engine = create_engine(url)
    try:
        statements = _statements(engine)
        assert upgrade(engine) == head_revision()
        assert statements and not {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"} & set(statements)
        ensure_schema(engine)
        done = len(statements)
        ensure_schema(engine)  # once per process and database: the second asks nothing
        assert len(statements) == done
    finally:
        engine.dispose()
    assert _versions(url) == [head_revision()]
    store = JobStore(url)
    try:
        assert store.status(job.id) is JobStatus.QUEUED
    finally:
        store.close()


def test_the_migrated_schema_is_the_stores_tables(url: str) -> None:
    upgrade(url)
    assert schema_differences(url) == []


def test_the_comparison_sees_a_difference(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'routeplan.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_routeplan_jobs_status_created"))
            conn.execute(text("ALTER TABLE routeplan_api_keys ADD COLUMN extra INTEGER"))
    finally:
        engine.dispose()
    found = [difference[0] for difference in schema_differences(url)]
    assert sorted(found) == ["add_index", "remove_column"]


# ------------------------------------------------------------------ adopting an old database

#: The DDL of the code before migrations (``metadata.create_all``), per dialect; ``{by}`` is
#: the ``created_by`` column, which the oldest tables lack.
OLD_DDL = {
    "sqlite": [
        "CREATE TABLE routeplan_jobs (id VARCHAR(36) NOT NULL, kind VARCHAR(32) NOT NULL, "
        "status VARCHAR(16) NOT NULL, request JSON NOT NULL, result JSON, error JSON, "
        "progress FLOAT, best_cost FLOAT, attempts INTEGER NOT NULL, owner VARCHAR(64), "
        "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, started_at DATETIME, "
        "finished_at DATETIME, heartbeat_at DATETIME{by}, PRIMARY KEY (id))",
        "CREATE INDEX ix_routeplan_jobs_status_created ON routeplan_jobs (status, created_at)",
        "CREATE TABLE routeplan_api_keys (name VARCHAR(64) NOT NULL, role VARCHAR(16) NOT NULL, "
        "lookup VARCHAR(16) NOT NULL, hash VARCHAR(200) NOT NULL, created_at DATETIME NOT NULL, "
        "revoked_at DATETIME, PRIMARY KEY (name))",
        "CREATE UNIQUE INDEX ix_routeplan_api_keys_lookup ON routeplan_api_keys (lookup)",
    ],
    "postgresql": [
        "CREATE TABLE routeplan_jobs (id VARCHAR(36) NOT NULL, kind VARCHAR(32) NOT NULL, "
        "status VARCHAR(16) NOT NULL, request JSONB NOT NULL, result JSONB, error JSONB, "
        "progress FLOAT, best_cost FLOAT, attempts INTEGER NOT NULL, owner VARCHAR(64), "
        "created_at TIMESTAMP WITH TIME ZONE NOT NULL, "
        "updated_at TIMESTAMP WITH TIME ZONE NOT NULL, started_at TIMESTAMP WITH TIME ZONE, "
        "finished_at TIMESTAMP WITH TIME ZONE, heartbeat_at TIMESTAMP WITH TIME ZONE{by}, "
        "PRIMARY KEY (id))",
        "CREATE INDEX ix_routeplan_jobs_status_created ON routeplan_jobs (status, created_at)",
        "CREATE TABLE routeplan_api_keys (name VARCHAR(64) NOT NULL, role VARCHAR(16) NOT NULL, "
        "lookup VARCHAR(16) NOT NULL, hash VARCHAR(200) NOT NULL, "
        "created_at TIMESTAMP WITH TIME ZONE NOT NULL, revoked_at TIMESTAMP WITH TIME ZONE, "
        "PRIMARY KEY (name))",
        "CREATE UNIQUE INDEX ix_routeplan_api_keys_lookup ON routeplan_api_keys (lookup)",
    ],
}


@pytest.mark.parametrize("with_created_by", [False, True])
def test_a_database_made_before_migrations_is_adopted_with_its_rows(
    url: str, with_created_by: bool
) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    job: dict[str, Any] = {
        "id": "00000000-0000-0000-0000-000000000001",
        "kind": "routes",
        "status": "queued",
        "request": {"n": 1},
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with engine.begin() as conn:
            by = ", created_by VARCHAR(128)" if with_created_by else ""
            for statement in OLD_DDL[engine.dialect.name]:
                conn.execute(text(statement.format(by=by)))
            conn.execute(JOBS.insert().values(**job))
            conn.execute(
                API_KEYS.insert().values(
                    name="ops", role="admin", lookup="0123456789abcdef", hash="x", created_at=now
                )
            )
    finally:
        engine.dispose()
    assert current_revision(url) is None
    assert upgrade(url) == head_revision()
    assert schema_differences(url) == []
    jobs, keys = JobStore(url), KeyStore(url)
    try:
        kept = jobs.get(job["id"])
        assert kept is not None and kept.request == {"n": 1} and kept.created_by is None
        added = jobs.submit("routes", {"n": 2}, created_by="dashboard")
        assert jobs.get(added.id) is not None and jobs.get(added.id).created_by == "dashboard"
        key = keys.get("ops")
        assert key is not None and key.role is Role.ADMIN
    finally:
        jobs.close()
        keys.close()


# ------------------------------------------------------------------ servers starting at once


def test_two_processes_upgrading_one_fresh_database_at_once_both_succeed(url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    answers = context.Queue()
    racers = [
        context.Process(target=upgrade_at_once, args=(url, barrier, answers)) for _ in range(2)
    ]
    with ExitStack() as stack:
        for racer in racers:
            racer.start()
            stack.callback(racer.kill)
        results = [answers.get(timeout=120) for _ in racers]
        for racer in racers:
            racer.join(60)
    assert results == [("ok", head_revision())] * 2
    assert _versions(url) == [head_revision()]
    assert schema_differences(url) == []


def test_on_postgresql_an_upgrade_waits_for_the_advisory_lock() -> None:
    with fresh_postgres_url() as url:
        holder = create_engine(url)
        try:
            with holder.begin() as conn:  # another server migrating: it holds the lock
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                with pytest.raises(StoreUnavailableError):  # waited past its statement timeout
                    upgrade(url, connect_timeout_s=2.0, statement_timeout_s=1.0)
                assert current_revision(url) is None
            assert upgrade(url) == head_revision()  # the lock is free again
        finally:
            holder.dispose()
