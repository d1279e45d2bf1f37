"""``routeplan db upgrade|current`` on a SQLite file named by ``ROUTEPLAN_DATABASE_URL``: the
revision before and after, the tables made once, an unreachable database exits 4."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from api.cli import app
from api.settings import get_settings
from engine.db import head_revision

runner = CliRunner()


def _use(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ROUTEPLAN_DATABASE_URL", database_url)
    get_settings.cache_clear()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database the commands use."""
    database_url = f"sqlite:///{tmp_path / 'routeplan.db'}"
    _use(monkeypatch, database_url)
    yield database_url
    get_settings.cache_clear()


def _lines(args: list[str]) -> dict[str, str]:
    """The ``name: value`` lines a command prints, after checking that it exited 0."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def _database(url: str) -> tuple[str | None, set[str]]:
    """The revision in the version table (plain SQL) and the tables."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "routeplan_alembic_version" not in tables:
                return None, tables
            revision = conn.execute(text("SELECT version_num FROM routeplan_alembic_version"))
            return revision.scalar_one(), tables
    finally:
        engine.dispose()


def test_current_of_an_empty_database_says_so_and_names_the_head(url: str) -> None:
    shown = _lines(["db", "current"])
    assert shown["database"] == url
    assert shown["current"] == "(empty)"
    assert shown["head"] == head_revision()


def test_upgrade_prints_the_revision_before_and_after_and_makes_the_tables(url: str) -> None:
    first = _lines(["db", "upgrade"])
    assert first["before"] == "(empty)"
    revision, tables = _database(url)
    assert first["after"] == revision == head_revision()
    assert {"routeplan_jobs", "routeplan_api_keys"} <= tables
    second = _lines(["db", "upgrade"])
    assert second["before"] == second["after"] == revision
    assert _lines(["db", "current"])["current"] == revision


def test_an_unreachable_database_exits_4_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, "postgresql+psycopg://someone:hidden-pw@127.0.0.1:1/routeplan")
    try:
        for command in ("upgrade", "current"):
            result = runner.invoke(app, ["db", command])
            assert result.exit_code == 4, result.output
            assert "unavailable" in result.output and "hidden-pw" not in result.output
    finally:
        get_settings.cache_clear()


def test_a_database_at_an_unknown_revision_is_invalid_input(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:  # as left by a newer routeplan
            conn.execute(text("CREATE TABLE routeplan_alembic_version (version_num VARCHAR(32))"))
            conn.execute(text("INSERT INTO routeplan_alembic_version VALUES ('9999_future')"))
    finally:
        engine.dispose()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2, result.output
    assert "ROUTEPLAN_DATABASE_URL" in result.output and "9999_future" in result.output
