"""Where the test browser is: Debian's ``chromium`` (``ROUTEPLAN_TEST_CHROMIUM`` names another
binary), and Playwright's Python package to drive it. When either is missing the browser tests
skip with the reason, except in CI (``CI`` set), which always has both and fails instead, as
:mod:`tests.postgres` does for PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

#: Debian's package installs the browser here.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: How to get what is missing, for the skip message.
INSTALL_HINT = "make browser (as root: apt-get install chromium) and make venv (playwright)"


def in_ci() -> bool:
    """True when the ``CI`` variable says this is a CI run."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``; in CI fail it, since CI must run the browser tests."""
    if in_ci():
        pytest.fail(f"CI cannot run the browser tests (it must): {reason}")
    pytest.skip(f"browser tests skipped: {reason} ({INSTALL_HINT})")


def chromium_path() -> Path:
    """The Chromium binary to launch; skips (or fails in CI) when it or Playwright is missing."""
    if importlib.util.find_spec("playwright") is None:
        unavailable("the Python package playwright is not installed")
    if importlib.util.find_spec("axe_playwright_python") is None:
        unavailable("the Python package axe-playwright-python is not installed")
    wanted = os.environ.get("ROUTEPLAN_TEST_CHROMIUM")
    found = wanted or shutil.which("chromium") or DEFAULT_CHROMIUM
    path = Path(found)
    if not (path.is_file() and os.access(path, os.X_OK)):
        unavailable(f"no Chromium binary at {path}")
    return path


def launch_args() -> list[str]:
    """Chromium's flags: no sandbox when running as root (it refuses to start otherwise)."""
    args = ["--disable-dev-shm-usage", "--disable-gpu"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args
