"""Shared fixtures: the read-only shared data folder, found through the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import get_settings


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; tests that need it skip with a reason when it is absent."""
    path = get_settings().shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set ROUTEPLAN_SHARED_DATA)")
    return path
