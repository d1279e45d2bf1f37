"""The analytics page (``#/analytics``) in a real browser, on a server of its own whose book
holds five weeks of orders over two sites and three channels, three committed plans and a
route driven to completion (:func:`tests.browser.days.analytics_book`): the charts are
drawn, the numbers in its tables are the API's, a chart's PNG download is a PNG of it, a
table's CSV download is the API's CSV (with an API key too), the site filter narrows the
orders, an empty book says so, and axe-core finds nothing serious."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from matplotlib import image
from PIL import Image

from tests.browser.conftest import API_KEY
from tests.browser.days import analytics_book, ok
from tests.browser.pages import (
    OUTPUT_DIR,
    distinct_colours,
    open_analytics,
    output_dir,
    screenshot,
)
from tests.browser.test_accessibility import _serious
from tests.servers import REPO_ROOT, RealServer

#: The copy of the page's screenshot the README shows.
DOCS_SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "analytics.png"
#: The charts of the page with data: orders, plans, routes, the forecast and backtest.
CHARTS = (
    "orders-site",
    "orders-channel",
    "plan-cost",
    "plan-on-time",
    "routes-lateness",
    "forecast-all",
    "forecast-north",
    "backtest-all",
    "backtest-south",
)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture(scope="module")
def book_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real server (no API keys) on a SQLite file holding the analytics book."""
    folder = tmp_path_factory.mktemp("analytics-server")
    server = RealServer(f"sqlite:///{folder / 'book.db'}", folder / "server.log")
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            analytics_book(http, _today() - dt.timedelta(days=1))
        yield server
    finally:
        server.kill_all()


@pytest.fixture(scope="module")
def book_api(book_server: RealServer) -> Iterator[httpx.Client]:
    """An HTTP client of :func:`book_server`."""
    with httpx.Client(base_url=book_server.url, timeout=120) as client:
        yield client


def _range() -> dict[str, str]:
    """The page's default range: the 28 days up to today."""
    return {"from": (_today() - dt.timedelta(days=27)).isoformat(), "to": _today().isoformat()}


def _cells(page: Any, testid: str) -> list[list[str]]:
    """The text of each body row's cells of the table ``testid`` (hidden in details too)."""
    rows: list[list[str]] = page.locator(f'[data-testid="{testid}"] tbody tr').evaluate_all(
        "(rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()))"
    )
    return rows


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_page_draws_the_reports_the_api_gives(
    page: Any, book_server: RealServer, book_api: httpx.Client, page_errors: list[str]
) -> None:
    page.goto(f"{book_server.url}/#/plans")
    page.get_by_role("link", name="Analytics").click()
    page.wait_for_selector('[data-testid="analytics-view"][data-ready="true"]', timeout=30_000)
    assert page.locator('[data-nav="analytics"]').get_attribute("aria-current") == "page"
    for chart in CHARTS:
        canvas = page.locator(f'[data-testid="chart-{chart}"] canvas')
        assert canvas.count() == 1, f"no canvas in chart {chart}"
        assert distinct_colours(canvas.screenshot()) > 5, f"chart {chart} is blank"
    orders = ok(book_api.get("/v1/analytics/orders", params=_range()))
    assert orders["total"] > 100
    rows = _cells(page, "table-orders")
    assert [(r[0], int(r[1])) for r in rows[:-1]] == [
        (d["date"], d["orders"]) for d in orders["per_day"]
    ]
    assert rows[-1][:2] == ["Total", str(orders["total"])]
    assert f"{orders['total']} orders placed" in page.get_by_test_id("orders-total").inner_text()
    forecast = ok(book_api.get("/v1/analytics/forecast"))
    series = [forecast["total"], *forecast["sites"]]
    assert [s["site_id"] for s in series] == [None, "north", "south", "unplanned"]
    shown = _cells(page, "table-forecast")
    assert [r[0] for r in shown] == [d["date"] for d in series[0]["forecast"]]
    for k, s in enumerate(series):
        for row, day in zip(shown, s["forecast"], strict=True):
            assert _number(row[1 + 2 * k]) == pytest.approx(day["orders"], abs=0.051)
            lower, upper = row[2 + 2 * k].split("–")
            assert _number(lower) == pytest.approx(day["lower"], abs=0.051)
            assert _number(upper) == pytest.approx(day["upper"], abs=0.051)
    backtest = {(r[0], r[1]): r for r in _cells(page, "table-backtest")}
    total = backtest[("All sites", "all cut-offs")]
    assert _number(total[3]) == pytest.approx(series[0]["backtest"]["mae"], abs=0.0051)
    assert len(series[0]["backtest"]["origins"]) == 3
    routes = ok(book_api.get("/v1/analytics/routes", params=_range()))
    assert routes["overall"]["stops_done"] == len(_cells(page, "table-stops")) > 0
    (route,) = routes["routes"]
    shown_route = _cells(page, "table-routes")[0]
    assert shown_route[2:6] == [
        route["vehicle_id"],
        "completed",
        str(route["stops_planned"]),
        str(route["stops_done"]),
    ]
    assert _number(shown_route[6]) == pytest.approx(route["mean_lateness_s"] / 60, abs=0.051)
    plans = ok(book_api.get("/v1/analytics/plans", params=_range()))
    assert len(_cells(page, "table-plans")) == len(plans["plans"]) == 3
    for details in page.locator("details").all():
        details.locator("summary").click()
    path = screenshot(page, "analytics")
    report: dict[str, Any] = {}
    assert not _serious(page, "analytics", report), report  # with every table open
    page.locator("details[open] summary").evaluate_all("(s) => s.forEach((n) => n.click())")
    page.evaluate("window.scrollTo(0, 0)")
    top = output_dir() / "analytics-top.png"
    page.screenshot(path=str(top), full_page=True)
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(top) as shot:  # a palette of 128 colours keeps it small for the README
        shot.convert("RGB").quantize(colors=128).save(DOCS_SCREENSHOT, optimize=True)
    assert DOCS_SCREENSHOT.stat().st_size < 300_000
    assert path.stat().st_size > 0
    assert not page_errors, page_errors


def test_a_charts_png_download_is_a_png(page: Any, book_server: RealServer) -> None:
    open_analytics(page, book_server.url)
    page.get_by_test_id("png-orders-site").focus()
    with page.expect_download() as info:
        page.keyboard.press("Enter")  # the keyboard works it as a click does
    download = info.value
    assert download.suggested_filename == "orders-site.png"
    target = OUTPUT_DIR / "analytics-export-orders-site.png"
    download.save_as(str(target))
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert distinct_colours(data) > 5  # the chart, not a blank image
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels[0, 0, :3].tolist() == [1.0, 1.0, 1.0], "no white background"
    canvas = page.locator('[data-testid="chart-orders-site"] canvas')
    size = canvas.evaluate("(c) => [c.width, c.height]")
    # the canvas drawn inside a white margin, with the title and legend above
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width > size[0] and height > size[1]


def _download_text(page: Any, testid: str) -> tuple[str, str]:
    """Click the CSV link ``testid``: the file's suggested name and its text."""
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text()


def test_a_tables_csv_download_is_the_apis_csv(
    page: Any, book_server: RealServer, book_api: httpx.Client
) -> None:
    open_analytics(page, book_server.url, "?site_id=north")
    params = {**_range(), "site_id": "north", "format": "csv"}
    name, text = _download_text(page, "csv-orders-per-day")
    assert name == "orders-per-day.csv"
    expected = book_api.get("/v1/analytics/orders", params={**params, "table": "per_day"})
    assert text == expected.text and text.startswith("date,orders\n")
    _name, text = _download_text(page, "csv-backtest")
    expected = book_api.get(
        "/v1/analytics/forecast", params={"site_id": "north", "format": "csv", "table": "backtest"}
    )
    assert text == expected.text and len(text.splitlines()) > 10


def test_the_site_filter_narrows_the_orders(
    page: Any, book_server: RealServer, book_api: httpx.Client
) -> None:
    open_analytics(page, book_server.url)
    page.get_by_label("Site", exact=True).select_option("south")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_function("location.hash.includes('site_id=south')")
    page.wait_for_selector('[data-testid="analytics-view"][data-ready="true"]')
    south = ok(book_api.get("/v1/analytics/orders", params={**_range(), "site_id": "south"}))
    every = ok(book_api.get("/v1/analytics/orders", params=_range()))
    assert 0 < south["total"] < every["total"]
    assert _cells(page, "table-orders")[-1][:2] == ["Total", str(south["total"])]
    forecast = ok(book_api.get("/v1/analytics/forecast", params={"site_id": "south"}))
    assert forecast["total"] is None and [s["site_id"] for s in forecast["sites"]] == ["south"]
    assert page.locator('[data-testid^="chart-forecast-"]').count() == 1


def test_an_empty_book_says_so_and_a_key_opens_the_csv(
    page: Any, keyed_server: RealServer, page_errors: list[str]
) -> None:
    page.goto(f"{keyed_server.url}/#/analytics")
    field = page.get_by_label("API key")
    field.fill(API_KEY)
    field.press("Enter")
    page.wait_for_selector('[data-testid="analytics-view"][data-ready="true"]', timeout=30_000)
    assert page.locator("canvas").count() == 0, "a chart drawn with no data"
    for empty, words in [
        ("empty-orders-site", "No orders"),
        ("empty-plan-cost", "No committed plans"),
        ("empty-routes-lateness", "No dispatched or completed routes"),
        ("empty-forecast", "Not enough data"),
    ]:
        assert words in page.get_by_test_id(empty).inner_text(), empty
    assert page.locator("button.png-button").count() == 0
    screenshot(page, "analytics-empty")
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=keyed_server.url, timeout=60, headers=headers) as http:
        expected = http.get("/v1/analytics/plans", params={**_range(), "format": "csv"}).text
    assert httpx.get(f"{keyed_server.url}/v1/analytics/plans?format=csv").status_code == 401
    name, text = _download_text(page, "csv-plans")
    assert name == "plans.csv" and text == expected and text.startswith("plan_id,")
    # the browser logs the 401 before the login and the forecast's 422 as failed loads
    assert not [e for e in page_errors if "Failed to load resource" not in e], page_errors
