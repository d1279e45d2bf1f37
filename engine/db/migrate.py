"""Alembic migrations of routeplan's database, applied from Python (users need no alembic.ini).

:func:`upgrade` brings a database (an Engine or a URL) to a revision, the head by default;
:func:`ensure_schema` does it once per process per URL, for the stores' first contact.
Several servers may upgrade one database at once, and only one does the work: on PostgreSQL
``env.py`` takes a transaction-level advisory lock first; on SQLite the whole upgrade is one
``BEGIN IMMEDIATE`` transaction (the others wait for the write lock, up to the busy timeout).
An upgrade that still loses a race ("already exists", "locked") reads the revision again and
tries once more. A database that cannot be reached is a ``StoreUnavailableError``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, event

from engine.db.connect import make_engine, report_unreachable
from engine.db.schema import all_metadata

#: The table where Alembic keeps the database's revision.
VERSION_TABLE = "routeplan_alembic_version"
#: The folder of the migration scripts (env.py, versions/).
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The key of the PostgreSQL advisory lock held while migrating ("routepla" in ASCII).
ADVISORY_LOCK_KEY = 0x726F757465706C61
#: What a failure to reach the database while migrating says.
UNREACHABLE = "the database could not be reached to migrate it; retry later"
#: Words of an error that means another process migrated at the same moment.
_RACE_WORDS = ("already exists", "locked", "duplicate")

_ready: set[str] = set()  # URLs migrated to the head by this process
_ready_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code: the scripts' folder, and the connection to use."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no migration in {MIGRATIONS_DIR}"
    return head


def _url_text(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


@contextmanager
def _opened(
    engine_or_url: Engine | str, connect_timeout_s: float, statement_timeout_s: float
) -> Iterator[Engine]:
    """The engine given, or a new one for the URL given (disposed at the end)."""
    if isinstance(engine_or_url, Engine):
        yield engine_or_url
        return
    engine = report_unreachable(
        make_engine(
            engine_or_url,
            connect_timeout_s=connect_timeout_s,
            statement_timeout_s=statement_timeout_s,
        ),
        UNREACHABLE,
    )
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _migrating(engine: Engine, statement_timeout_s: float) -> Iterator[Engine]:
    """The engine to migrate with: ``engine`` itself, except for a SQLite file, whose
    migrations run in one ``BEGIN IMMEDIATE`` transaction on an engine of their own."""
    if engine.dialect.name != "sqlite" or _in_memory(engine):
        yield engine
        return
    own = make_engine(
        _url_text(engine),
        connect_timeout_s=statement_timeout_s,
        statement_timeout_s=statement_timeout_s,
    )

    @event.listens_for(own, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN skips DDL

    @event.listens_for(own, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before reading the revision

    report_unreachable(own, UNREACHABLE)
    try:
        yield own
    finally:
        own.dispose()


def _revision(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _raced(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says another process was migrating too."""
    seen: BaseException | None = error
    while seen is not None:
        if any(word in str(seen).lower() for word in _RACE_WORDS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def current_revision(
    engine_or_url: Engine | str, *, connect_timeout_s: float = 3.0, statement_timeout_s: float = 5.0
) -> str | None:
    """The database's revision (None: never migrated)."""
    with (
        _opened(engine_or_url, connect_timeout_s, statement_timeout_s) as engine,
        engine.connect() as conn,
    ):
        return _revision(conn)


def upgrade(
    engine_or_url: Engine | str,
    revision: str = "head",
    *,
    connect_timeout_s: float = 3.0,
    statement_timeout_s: float = 5.0,
) -> str | None:
    """Apply the migrations up to ``revision``; the database's revision afterwards.

    Cheap when the database is there already (one read of the version table). A database
    made by routeplan before it had migrations is adopted: its tables are kept as they are,
    with their rows, and brought up to date.
    """
    with _opened(engine_or_url, connect_timeout_s, statement_timeout_s) as engine:
        try:
            return _upgrade_once(engine, revision, statement_timeout_s)
        except Exception as error:
            if not _raced(error):
                raise
        return _upgrade_once(engine, revision, statement_timeout_s)  # reads the revision again


def _upgrade_once(engine: Engine, revision: str, statement_timeout_s: float) -> str | None:
    if revision == "head":
        with engine.connect() as conn:
            if _revision(conn) == head_revision():
                return head_revision()
    with (
        _migrating(engine, statement_timeout_s) as migrating,
        migrating.connect() as conn,
        conn.begin(),
    ):
        command.upgrade(alembic_config(conn), revision)
        return _revision(conn)


def schema_differences(
    engine_or_url: Engine | str, *, connect_timeout_s: float = 3.0, statement_timeout_s: float = 5.0
) -> list[Any]:
    """What Alembic's autogenerate finds between the database and the stores' tables
    (:func:`engine.db.schema.all_metadata`): empty when the migrations made them exactly."""
    with (
        _opened(engine_or_url, connect_timeout_s, statement_timeout_s) as engine,
        engine.connect() as conn,
    ):
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        # Alembic compares a list of MetaData as it takes one for target_metadata.
        return list(compare_metadata(context, cast(MetaData, all_metadata())))


def ensure_schema(
    engine: Engine, *, connect_timeout_s: float = 3.0, statement_timeout_s: float = 5.0
) -> None:
    """Bring the database of ``engine`` to the head, once per process per URL (later calls
    return at once); raises ``StoreUnavailableError`` when it cannot be reached."""
    key = _url_text(engine)
    if key in _ready:
        return
    with _ready_lock:
        if key in _ready:
            return
        upgrade(
            engine, connect_timeout_s=connect_timeout_s, statement_timeout_s=statement_timeout_s
        )
        if not _in_memory(engine):  # each engine of an in-memory database has its own
            _ready.add(key)
