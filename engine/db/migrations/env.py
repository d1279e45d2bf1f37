"""Alembic's environment: run the migrations on the connection it is given.

Programmatic use (:mod:`engine.db.migrate`) passes the connection, already in a transaction,
as ``config.attributes["connection"]``. A developer's ``alembic`` command (``alembic.ini`` at
the repository root) names the database with ``-x url=...``. On PostgreSQL a
transaction-level advisory lock is taken before anything is read, so that servers starting
at once migrate one after the other (the later ones find the work done).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, text

from engine.db.migrate import ADVISORY_LOCK_KEY, VERSION_TABLE
from engine.db.schema import all_metadata


def _run(connection: Connection) -> None:
    """Configure Alembic on ``connection`` and apply the migrations, under the lock."""
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        context.run_migrations()


def _main() -> None:
    config = context.config
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("name the database: alembic -x url=sqlite:///path/to/jobs.db ...")
    if context.is_offline_mode():
        context.configure(url=url, version_table=VERSION_TABLE, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
