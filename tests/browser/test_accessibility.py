"""Accessibility in a real browser: axe-core (bundled by axe-playwright-python) scans the
plans list, a plan view and the analytics page; no violation may be of impact serious or
critical. Every violation found goes to ``test-output/browser/axe.json`` (the analytics
page's to ``axe-analytics.json``)."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.days import Json
from tests.browser.pages import open_analytics, open_plan, output_dir
from tests.servers import RealServer

#: The impacts the acceptance forbids.
FORBIDDEN = ("serious", "critical")


def _serious(page: Any, view: str, report: dict[str, Any]) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each; every
    violation (any impact) is kept in ``report[view]``."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core", "the scan did not run"
    report[view] = [
        {"id": v["id"], "impact": v.get("impact"), "nodes": len(v["nodes"]), "help": v["help"]}
        for v in results.response["violations"]
    ]
    lines = []
    for violation in results.response["violations"]:
        if violation.get("impact") in FORBIDDEN:
            targets = [", ".join(map(str, n["target"])) for n in violation["nodes"][:5]]
            lines.append(
                f"{violation['impact']} {violation['id']}: {violation['help']} "
                f"({len(violation['nodes'])} nodes, e.g. {'; '.join(targets)})"
            )
    return lines


def test_the_plans_list_and_the_plan_view_have_no_serious_violations(
    page: Any, server: RealServer, small_plan: Json
) -> None:
    plan = small_plan
    page.goto(f"{server.url}/#/plans")
    page.wait_for_selector(f'[data-testid="plan-row"][data-plan-id="{plan["id"]}"]')
    report: dict[str, Any] = {}
    found = {"plans list": _serious(page, "plans list", report)}
    open_plan(page, server.url, plan["id"])
    found["plan view"] = _serious(page, "plan view", report)
    (output_dir() / "axe.json").write_text(json.dumps(report, indent=1) + "\n")
    assert not any(found.values()), "\n".join(
        f"{view}: {line}" for view, lines in found.items() for line in lines
    )


def test_the_analytics_page_has_no_serious_violations(page: Any, server: RealServer) -> None:
    # the session's book (its charts with data are scanned in test_analytics.py too)
    open_analytics(page, server.url)
    report: dict[str, Any] = {}
    found = _serious(page, "analytics", report)
    page.locator("details summary").evaluate_all("(s) => s.forEach((n) => n.click())")
    found += _serious(page, "analytics, tables open", report)
    (output_dir() / "axe-analytics.json").write_text(json.dumps(report, indent=1) + "\n")
    assert not found, "\n".join(found)
