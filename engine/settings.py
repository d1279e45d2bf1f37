"""Settings read from the environment (prefix ``ROUTEPLAN_``), behind a cached getter."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Where shared data lives and other deployment choices."""

    model_config = SettingsConfigDict(env_prefix="ROUTEPLAN_", extra="ignore")

    shared_data: Path = Path("../shared/data")

    def shared_data_dir(self) -> Path:
        """The shared data folder: as given if it exists, else relative to the repository."""
        if self.shared_data.is_absolute() or self.shared_data.is_dir():
            return self.shared_data.resolve()
        return (REPO_ROOT / self.shared_data).resolve()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests may clear the cache to override)."""
    return Settings()
