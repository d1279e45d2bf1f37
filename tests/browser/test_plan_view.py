"""The plan view in a real browser: a plan stored through the API (the sample day, 60 orders)
is opened at ``/#/plans/<id>``; what the page shows is compared with the API's own JSON of the
plan: every route's van, one route's stops in order, every unassigned item with its reason,
the KPI values, one drawn map path per route and a timeline row per van. The plans list links
to it. Screenshots go to ``test-output/browser/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.days import Json, routes_of, visit_ids
from tests.browser.pages import (
    KPI_KEYS,
    attributes,
    distinct_colours,
    normal,
    open_plan,
    plan_view_selector,
    screenshot,
)
from tests.servers import RealServer


def _check_routes(page: Any, routes: list[Json]) -> None:
    """Each route has its section, with its van's id in its text; the longest route's stops
    are there in visiting order."""
    vehicles = [str(r["vehicle_id"]) for r in routes]
    assert sorted(attributes(page, '[data-testid="route"]', "data-vehicle-id")) == sorted(vehicles)
    for vehicle in vehicles:
        section = page.locator(f'[data-testid="route"][data-vehicle-id="{vehicle}"]')
        assert vehicle in (section.text_content() or ""), f"van {vehicle} not named on the page"
    longest = max(routes, key=lambda r: len(visit_ids(r)))
    stops = attributes(
        page,
        f'[data-testid="route"][data-vehicle-id="{longest["vehicle_id"]}"] [data-testid="stop"]',
        "data-stop-id",
    )
    assert stops == visit_ids(longest), f"stops of {longest['vehicle_id']} on the page"


def _check_unassigned(page: Any, plan: Json) -> None:
    """Every item the plan left out is on the page, under its order id, with its reason."""
    assert plan["unassigned"], "the sample day leaves some lines out: the check needs one"
    items = page.locator('[data-testid="unassigned-item"]')
    shown: dict[str, list[str]] = {}
    for k in range(items.count()):
        item = items.nth(k)
        reason = item.locator('[data-testid="reason"]').first.text_content() or ""
        shown.setdefault(item.get_attribute("data-order-id") or "", []).append(normal(reason))
    assert set(shown) == {str(u["order_id"]) for u in plan["unassigned"]}
    for left in plan["unassigned"]:
        texts = shown[str(left["order_id"])]
        wanted = (normal(left["reason"]), normal(left["message"]))
        assert any(w in t for t in texts for w in wanted), (left, texts)


def _check_kpis(page: Any, kpis: Json) -> None:
    """One card per KPI; its raw value is the API's."""
    for key in KPI_KEYS:
        cards = page.locator(f'[data-testid="kpi"][data-kpi="{key}"]')
        assert cards.count() == 1, f"KPI card {key}: {cards.count()} on the page"
        value = cards.first.get_attribute("data-value")
        assert value is not None and float(value) == pytest.approx(kpis[key], abs=1e-9), key


def _check_map(page: Any, routes: list[Json]) -> None:
    """One path per route, each with a shape and a size on screen; the map is not blank."""
    paths = page.locator('[data-testid="map"] path.route-path')
    assert paths.count() == len(routes)
    assert sorted(attributes(page, '[data-testid="map"] path.route-path', "data-vehicle-id")) == (
        sorted(str(r["vehicle_id"]) for r in routes)
    )
    for k in range(paths.count()):
        path = paths.nth(k)
        assert (path.get_attribute("d") or "").strip(), "a route path with no shape"
        box = path.bounding_box()
        assert box is not None and box["width"] + box["height"] > 1, box
    area = page.locator('[data-testid="map"]').first
    box = area.bounding_box()
    assert box is not None and box["width"] >= 200 and box["height"] >= 150, box
    assert distinct_colours(area.screenshot()) > 2, "the map's pixels are blank"


def test_the_plan_view_shows_what_the_api_holds(
    page: Any, server: RealServer, small_plan: Json, page_errors: list[str]
) -> None:
    plan = small_plan
    routes = routes_of(plan)
    assert len(routes) >= 2, "the sample day needs vans on the road"
    open_plan(page, server.url, plan["id"])
    screenshot(page, "plan-view")
    screenshot(page, "timeline", '[data-testid="timeline"]')
    screenshot(page, "map", '[data-testid="map"]')
    _check_routes(page, routes)
    _check_unassigned(page, plan)
    _check_kpis(page, plan["kpis"])
    _check_map(page, routes)
    rows = attributes(
        page, '[data-testid="timeline"] [data-testid="timeline-row"]', "data-vehicle-id"
    )
    assert sorted(rows) == sorted(str(r["vehicle_id"]) for r in routes)
    assert not page_errors, page_errors


def test_the_plans_list_links_to_each_plan(
    page: Any, server: RealServer, small_plan: Json, page_errors: list[str]
) -> None:
    plan = small_plan
    page.goto(f"{server.url}/#/plans")
    row = page.locator(
        f'[data-testid="plan-list"] [data-testid="plan-row"][data-plan-id="{plan["id"]}"]'
    )
    row.wait_for(timeout=15_000)
    screenshot(page, "plans-list")
    link = row.locator(f'a[href$="#/plans/{plan["id"]}"]')
    assert link.count() >= 1, row.inner_html()
    link.first.click()
    page.wait_for_selector(plan_view_selector(plan["id"]), timeout=30_000)
    assert page.url.endswith(f"#/plans/{plan['id']}")
    assert not page_errors, page_errors
