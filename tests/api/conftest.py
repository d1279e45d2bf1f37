"""An app per test with its own SQLite job store, built through ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.settings import Settings

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    """``make_client(run_jobs=True, **settings)``: a started TestClient (stopped at the end)."""
    opened: list[TestClient] = []

    def make(run_jobs: bool = True, **overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'jobs.db'}",
            "api_keys": "",
            "job_lease_s": 3.0,
            "max_sync_time_limit_s": 5.0,
            "max_time_limit_s": 60.0,
        }
        values.update(overrides)
        app = create_app(Settings(**values), run_jobs=run_jobs)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """A client of an app with default test settings and a job runner."""
    return make_client()
