"""Shared fixtures: the read-only shared data folder, found through the settings, and a fresh
PostgreSQL database per test (``fresh_pg_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import get_settings
from tests.postgres import fresh_postgres_url


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; tests that need it skip with a reason when it is absent."""
    path = get_settings().shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set ROUTEPLAN_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def monaco_file(shared_data: Path) -> Path:
    """The shared Monaco extract (the smallest OSM file); skips with a reason when absent."""
    path = shared_data / "osm" / "monaco.osm.pbf"
    if not path.is_file():
        pytest.skip(f"Monaco extract not found at {path}")
    return path


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """The URL of an empty database of its own on the test PostgreSQL, dropped afterwards
    (skips without a server, fails in CI): see :func:`tests.postgres.fresh_postgres_url`."""
    with fresh_postgres_url() as url:
        yield url
