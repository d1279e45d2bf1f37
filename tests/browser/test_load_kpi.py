"""The load use KPI in a real browser: the sample day (its vans' capacities are in the request
sent) is opened at its plan view; the "load use" card shows the average over the used vans of
each van's peak on-board load over its capacity, and each route's facts show its own. The
expected figures are worked out here from the request's fleet and the API's step loads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.days import Json, routes_of, small_day, visit_ids
from tests.browser.pages import open_plan, screenshot
from tests.servers import RealServer


def _load_use(route: Json, capacity: dict[str, float]) -> float | None:
    """Peak on board over capacity, the largest over the dimensions with a capacity."""
    shares = [
        max(float(step.get("load", {}).get(name, 0.0)) for step in route["steps"]) / cap
        for name, cap in capacity.items()
        if cap > 0
    ]
    return max(shares) if shares and visit_ids(route) else None


def _percent(share: float) -> str:
    """How the page writes a share: one decimal, then " %"."""
    return f"{share * 100:,.1f} %"


@pytest.fixture
def loaded(small_plan: Json) -> tuple[Json, dict[str, dict[str, float]]]:
    """The sample day as stored through the API, with each van's capacity as sent (the day
    is built the same every time)."""
    capacities = {str(v["id"]): dict(v["capacity"]) for v in small_day()["fleet"]}
    assert any(capacities.values()), "the sample fleet has capacities: the check needs them"
    return small_plan, capacities


def test_load_use_is_each_vans_peak_load_over_its_capacity(
    page: Any,
    server: RealServer,
    loaded: tuple[Json, dict[str, dict[str, float]]],
    page_errors: list[str],
) -> None:
    plan, capacities = loaded
    routes = routes_of(plan)
    for route in routes:  # the stored plan carries the van's capacity as sent
        assert route["summary"]["capacity"] == capacities[str(route["vehicle_id"])]
    expected = {
        str(r["vehicle_id"]): _load_use(r, capacities[str(r["vehicle_id"])]) for r in routes
    }
    used = [share for share in expected.values() if share is not None]
    assert used and any(0 < s <= 1 for s in used), expected
    average = sum(used) / len(used)
    open_plan(page, server.url, plan["id"])
    card = page.locator('[data-testid="kpi"][data-kpi="load_use"]')
    assert card.count() == 1, "no load use card"
    assert float(card.get_attribute("data-value") or "nan") == pytest.approx(average, abs=1e-9)
    assert _percent(average) in (card.text_content() or "")
    for vehicle, share in expected.items():
        shown = page.locator(
            f'[data-testid="route"][data-vehicle-id="{vehicle}"] [data-testid="load-use"]'
        )
        assert shown.count() == 1, f"no load use for {vehicle}"
        if share is None:
            assert shown.get_attribute("data-value") == ""
            continue
        assert float(shown.get_attribute("data-value") or "nan") == pytest.approx(share, abs=1e-9)
        assert _percent(share) in (shown.text_content() or ""), vehicle
    screenshot(page, "load-use-kpis", '[aria-label="Key figures"]')
    assert not page_errors, page_errors
