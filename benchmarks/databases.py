"""Throwaway databases for benchmarks and tests: a SQLite file, or a PostgreSQL database of
its own on a server, dropped (with whatever is still connected) afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: The PostgreSQL server the benchmarks use (``ROUTEPLAN_TEST_POSTGRES_URL`` when set).
POSTGRES_URL = os.environ.get(
    "ROUTEPLAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def fresh_postgres_database(server_url: str, prefix: str = "rp_bench") -> Iterator[str]:
    """The URL of a new, empty database ``<prefix>_<hex>`` on the server of ``server_url``,
    dropped on leaving."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch_database(
    kind: str, work_dir: Path, postgres_url: str = POSTGRES_URL, name: str = "routeplan"
) -> Iterator[str]:
    """A fresh database's URL: ``sqlite`` (a file ``<name>.db`` in ``work_dir``), or
    ``postgres``/``postgresql`` (a database of its own on the server of ``postgres_url``)."""
    if kind == "sqlite":
        yield f"sqlite:///{work_dir / f'{name}.db'}"
        return
    if kind not in ("postgres", "postgresql"):
        raise ValueError(f"database must be sqlite or postgres, not {kind!r}")
    with fresh_postgres_database(postgres_url) as url:
        yield url
