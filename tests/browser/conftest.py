"""Fixtures of the browser tests: one headless Chromium per session (Playwright), a fresh page
per test, a real ``routeplan serve`` on a SQLite file of its own (one for the session, one per
test that needs API keys), and an HTTP client to store plans through the API. Without
Chromium or Playwright they skip (fail in CI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.chromium import chromium_path, launch_args, unavailable
from tests.browser.days import Json, small_day, store_plan
from tests.servers import RealServer

#: The page size of every test (a laptop screen).
VIEWPORT = {"width": 1440, "height": 900}
#: An API key for the server that asks for one.
API_KEY = "browser-test-key-1"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's binary, never Playwright's download)."""
    path = chromium_path()
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=str(path), headless=True, args=launch_args()
            )
        except Error as error:
            unavailable(f"{path} does not start: {str(error).splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page_errors() -> list[str]:
    """The browser console's errors and the page's uncaught exceptions during a test."""
    return []


@pytest.fixture
def page(browser: Any, page_errors: list[str]) -> Iterator[Any]:
    """A new page in a context of its own (no storage shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()


def _serve(folder: Path, env: dict[str, str]) -> Iterator[RealServer]:
    server = RealServer(f"sqlite:///{folder / 'book.db'}", folder / "server.log", env)
    server.start()
    try:
        yield server
    finally:
        server.kill_all()


@pytest.fixture(scope="session")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real server on a fresh SQLite file, no API keys, shared by the tests of the session
    (each stores what it shows; the book's orders are only the live test's)."""
    yield from _serve(tmp_path_factory.mktemp("browser-server"), {})


@pytest.fixture
def keyed_server(browser: Any, tmp_path: Path) -> Iterator[RealServer]:
    """A real server that asks for :data:`API_KEY`."""
    yield from _serve(tmp_path, {"ROUTEPLAN_API_KEYS": API_KEY})


@pytest.fixture(scope="session")
def api(server: RealServer) -> Iterator[httpx.Client]:
    """An HTTP client of :func:`server`."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def stored(api: httpx.Client) -> Callable[[Json], Json]:
    """Stores a plan request through ``POST /v1/plans`` and returns the stored plan."""
    return lambda body: store_plan(api, body)


@pytest.fixture(scope="session")
def small_plan(api: httpx.Client) -> Json:
    """The small sample day (:func:`tests.browser.days.small_day`), stored once."""
    return store_plan(api, small_day())
