"""Event tests' fixtures: an empty, migrated database on each backend (a SQLite file, or a
fresh PostgreSQL database), and an event store on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.db import upgrade
from engine.events.store import EventStore
from tests.postgres import fresh_postgres_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database at the head of the migrations, on each backend."""
    if request.param == "sqlite":
        found = f"sqlite:///{tmp_path / 'events.db'}"
        upgrade(found)
        yield found
    else:
        with fresh_postgres_url() as found:
            upgrade(found)
            yield found


@pytest.fixture
def store(url: str) -> Iterator[EventStore]:
    """An event store on that database."""
    opened = EventStore(url)
    yield opened
    opened.close()
