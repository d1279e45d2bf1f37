"""Where the test PostgreSQL server is: a skip with the reason when none answers, except in CI
(``CI`` set), where a missing server fails the test: CI always has one.

:func:`fresh_postgres_url` gives a test a database of its own on that server (made empty,
dropped afterwards), as a ``tmp_path`` file does on SQLite; the ``fresh_pg_url`` fixture of
``tests/conftest.py`` wraps it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import pytest
from sqlalchemy import create_engine, text

from benchmarks.databases import fresh_postgres_database

#: Tried in order; ``ROUTEPLAN_TEST_POSTGRES_URL`` first when set.
CANDIDATES = [
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
]


@lru_cache
def _find() -> tuple[str | None, str]:
    urls = (
        [os.environ["ROUTEPLAN_TEST_POSTGRES_URL"]]
        if "ROUTEPLAN_TEST_POSTGRES_URL" in os.environ
        else CANDIDATES
    )
    reasons = []
    for url in urls:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return url, ""
        except Exception as error:  # any failure to connect means: no server for these tests
            reasons.append(f"{url}: {type(error).__name__}: {str(error).splitlines()[0]}")
        finally:
            engine.dispose()
    return None, "; ".join(reasons)


def postgres_url() -> str:
    """The URL of a reachable PostgreSQL test database; else fail in CI, skip elsewhere."""
    url, reason = _find()
    if url is None and os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI has no PostgreSQL server (it must): {reason}")
    if url is None:
        pytest.skip(f"no PostgreSQL server answers (set ROUTEPLAN_TEST_POSTGRES_URL): {reason}")
    return url


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """The URL of a new, empty database ``rp_test_<hex>`` on the test server, dropped (with
    whatever is still connected to it) on leaving; skips or fails as :func:`postgres_url`."""
    with fresh_postgres_database(postgres_url(), prefix="rp_test") as url:
        yield url
