"""Where the benchmarks find shared data and keep their caches, from the environment.

The same variables as the API's settings (``ROUTEPLAN_SHARED_DATA``, ``ROUTEPLAN_CACHE_DIR``)
with the same defaults, read here so that the benchmarks never import :mod:`api`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The shared data folder when ``ROUTEPLAN_SHARED_DATA`` is not set (relative to the repository).
DEFAULT_SHARED_DATA = Path("../shared/data")
#: The cache folder when ``ROUTEPLAN_CACHE_DIR`` is not set.
DEFAULT_CACHE_DIR = Path("~/.cache/routeplan")


def shared_data_dir() -> Path:
    """The shared data folder: as given if it exists, else relative to the repository."""
    given = Path(os.environ.get("ROUTEPLAN_SHARED_DATA", str(DEFAULT_SHARED_DATA)))
    if given.is_absolute() or given.is_dir():
        return given.resolve()
    return (REPO_ROOT / given).resolve()


def cache_dir() -> Path:
    """The folder where built artefacts are cached (created by whoever writes there)."""
    return Path(os.environ.get("ROUTEPLAN_CACHE_DIR", str(DEFAULT_CACHE_DIR))).expanduser()
