"""The login form in a real browser: a server that asks for an API key shows the form and no
plans; the key typed into the field labelled "API key" opens the plans list, with the plan
stored (with that key) through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import API_KEY
from tests.browser.days import small_day, store_plan
from tests.browser.pages import screenshot
from tests.servers import RealServer


def test_the_key_entered_in_the_login_form_shows_the_plans(
    page: Any, keyed_server: RealServer
) -> None:
    headers = {"X-API-Key": API_KEY}
    with httpx.Client(base_url=keyed_server.url, timeout=60, headers=headers) as http:
        plan = store_plan(http, small_day())
    assert httpx.get(f"{keyed_server.url}/v1/plans/{plan['id']}").status_code == 401
    page.goto(f"{keyed_server.url}/#/plans")
    form = page.locator('[data-testid="login"]')
    form.wait_for(timeout=15_000)
    screenshot(page, "login")
    row = f'[data-testid="plan-row"][data-plan-id="{plan["id"]}"]'
    assert page.locator(row).count() == 0, "plans shown before the key was given"
    field = page.get_by_label("API key")
    field.fill(API_KEY)
    field.press("Enter")
    page.wait_for_selector(f'[data-testid="plan-list"] {row}', timeout=15_000)
    assert not form.is_visible(), "the login form stays after a good key"
