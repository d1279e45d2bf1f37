"""The benchmarks' own reading of ``ROUTEPLAN_SHARED_DATA`` and ``ROUTEPLAN_CACHE_DIR``."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from benchmarks.paths import REPO_ROOT, cache_dir, shared_data_dir
from engine.matrices import DEFAULT_GRAPH_CACHE_DIR


def test_defaults_match_the_api_settings_and_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTEPLAN_SHARED_DATA", raising=False)
    monkeypatch.delenv("ROUTEPLAN_CACHE_DIR", raising=False)
    settings = Settings()
    assert shared_data_dir() == settings.shared_data_dir()
    assert cache_dir() == settings.cache_dir.expanduser()
    assert cache_dir() / "osm-graphs" == settings.graph_cache_dir()
    assert DEFAULT_GRAPH_CACHE_DIR.expanduser() == settings.graph_cache_dir()


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROUTEPLAN_SHARED_DATA", str(tmp_path))
    monkeypatch.setenv("ROUTEPLAN_CACHE_DIR", str(tmp_path / "cache"))
    assert shared_data_dir() == tmp_path.resolve()
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.setenv("ROUTEPLAN_SHARED_DATA", "no/such/folder")
    assert shared_data_dir() == (REPO_ROOT / "no/such/folder").resolve()
