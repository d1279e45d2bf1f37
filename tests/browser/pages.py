"""Reading the dashboard page: open a view by its hash, wait for a plan to be drawn, take
screenshots into ``test-output/browser/``, and check that an element's pixels are not blank.

The page's contract with these tests is its ``data-testid`` attributes (see the tests)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import image

from tests.servers import REPO_ROOT

#: Where screenshots and the load-time figure go (gitignored).
OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
#: How long a plan view may take to draw in these tests (not the acceptance figure).
READY_TIMEOUT_MS = 30_000
#: The KPI cards the page shows, by their key in the plan's ``kpis``.
KPI_KEYS = (
    "cost",
    "routing_cost",
    "carrier_cost",
    "distance_m",
    "vehicles_used",
    "on_time_share",
    "shipments",
)


def output_dir() -> Path:
    """The screenshot folder, made if missing."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


def plan_view_selector(plan_id: str) -> str:
    """The plan view of ``plan_id`` once its map and timeline are drawn."""
    return f'[data-testid="plan-view"][data-plan-id="{plan_id}"][data-ready="true"]'


def open_plan(page: Any, base_url: str, plan_id: str) -> None:
    """Go to ``/#/plans/<id>`` and wait until the page says the plan is drawn."""
    page.goto(f"{base_url}/#/plans/{plan_id}")
    page.wait_for_selector(plan_view_selector(plan_id), timeout=READY_TIMEOUT_MS)


def open_view(page: Any, base_url: str, view: str, settle_ms: int = 1500) -> None:
    """Go to ``/#/<view>`` (orders, stock: no ready flag in the contract) and let it draw."""
    page.goto(f"{base_url}/#/{view}")
    page.wait_for_load_state("load")
    page.wait_for_timeout(settle_ms)


def screenshot(page: Any, name: str, selector: str | None = None) -> Path:
    """A PNG of the whole page, or of one element, as ``test-output/browser/<name>.png``."""
    path = output_dir() / f"{name}.png"
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).first.screenshot(path=str(path))
    return path


def distinct_colours(png: bytes) -> int:
    """How many different colours a PNG holds (1: blank)."""
    pixels = image.imread(io.BytesIO(png), format="png")
    flat = np.asarray(pixels).reshape(-1, pixels.shape[-1] if pixels.ndim == 3 else 1)
    return len(np.unique(flat, axis=0))


def attributes(page: Any, selector: str, name: str) -> list[str]:
    """The value of attribute ``name`` of every element matching ``selector``, in page order."""
    values: list[str] = page.locator(selector).evaluate_all(
        f"(nodes) => nodes.map((n) => n.getAttribute({name!r}) ?? '')"
    )
    return values


def normal(text: str) -> str:
    """Text compared loosely: lower case, underscores as spaces, single spaces."""
    return " ".join(text.replace("_", " ").lower().split())


#: The analytics page once its reports are drawn.
ANALYTICS_READY = '[data-testid="analytics-view"][data-ready="true"]'


def open_analytics(page: Any, base_url: str, search: str = "") -> None:
    """Go to ``/#/analytics`` (``search``: its query, e.g. ``?site_id=north``) and wait
    until the page says its charts are drawn."""
    page.goto(f"{base_url}/#/analytics{search}")
    page.wait_for_selector(ANALYTICS_READY, timeout=READY_TIMEOUT_MS)
