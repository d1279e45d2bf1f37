"""Live ETA shifts in a real browser: a day dispatched on two vans is open at its plan view;
a driver's events posted to the API move the remaining stops' live ETAs, and the page shows,
without a reload, each remaining stop's shift against the plan in words ("+30 min late",
"−5 min early") in the stop list, a ghost bar at the live time on the timeline, and the
at-risk count (live start past the window's end) in the live summary. Every expected figure
is worked out here from the API's route records; the live view is scanned by axe-core too."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.days import VISITS, Json, clock, dispatched_plan, ok
from tests.browser.pages import open_plan, output_dir, screenshot
from tests.servers import RealServer

#: The issue's bound: a posted event shows on the page within this.
LIVE_TIMEOUT_MS = 5_000
#: Stop states that are done with (their ETAs no longer move).
DONE = ("delivered", "failed", "skipped")
#: A live ETA less than this off the plan is on plan (the page's rule, written down here).
ON_PLAN_S = 30.0


@pytest.fixture
def live_server(browser: Any, tmp_path: Path) -> Iterator[RealServer]:
    """A server of this test's own: the book day's orders may be made only once per server."""
    server = RealServer(f"sqlite:///{tmp_path / 'book.db'}", tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.kill_all()


def _js_round(value: float) -> int:
    """JavaScript's Math.round (halves up), which the page's data attributes use."""
    return math.floor(value + 0.5)


def _expected(record: Json) -> dict[str, dict[str, Any]]:
    """Each remaining visit of a route record: its shift in seconds and in words, and
    whether its live start is past its window's end."""
    out = {}
    for stop in record["stops"]:
        if stop["kind"] not in VISITS or stop["status"] in DONE:
            continue
        shift = stop["eta_start_s"] - stop["planned_start_s"]
        end = stop["window_end_s"]
        past = end is not None and stop["eta_start_s"] > end
        if shift >= ON_PLAN_S or past:
            direction = "late"
        elif shift <= -ON_PLAN_S:
            direction = "early"
        else:
            direction = "on-plan"
        sign = "+" if shift >= ON_PLAN_S else "\u2212" if shift <= -ON_PLAN_S else "\u00b1"
        minutes = _js_round(abs(shift) / 60)
        size = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        words = f"{sign}{size} {direction}" + (" \u00b7 past window" if past else "")
        out[stop["stop_id"]] = {
            "shift_s": _js_round(shift),
            "direction": direction,
            "text": "on plan" if direction == "on-plan" else words,
            "past": past,
        }
    return out


_SHOWN = """(vehicle) => {
  const out = {};
  const section = `[data-testid="route"][data-vehicle-id="${vehicle}"]`;
  for (const node of document.querySelectorAll(`${section} [data-testid="eta-shift"]`)) {
    const id = node.closest('[data-testid="stop"]').dataset.stopId;
    out[id] = {shift_s: Number(node.dataset.shiftS), direction: node.dataset.direction,
               text: node.textContent};
  }
  const row = `[data-testid="timeline-row"][data-vehicle-id="${vehicle}"]`;
  const ghosts = {};
  for (const node of document.querySelectorAll(`${row} [data-testid="live-eta"]`)) {
    ghosts[node.dataset.stopId] = Number(node.dataset.shiftS);
  }
  const summary = document.querySelector('[data-testid="live-summary"]');
  return {stops: out, ghosts, atRisk: summary ? summary.dataset.atRisk : null};
}"""


def _wanted(records: dict[str, Json]) -> dict[str, Any]:
    """What the page must show for each van, from the API's records (see :data:`_SHOWN`)."""
    out: dict[str, Any] = {}
    at_risk = 0
    for vehicle, record in records.items():
        expected = _expected(record)
        at_risk += sum(e["past"] for e in expected.values())
        out[vehicle] = {
            "stops": {
                k: {key: e[key] for key in ("shift_s", "direction", "text")}
                for k, e in expected.items()
            },
            "ghosts": {k: e["shift_s"] for k, e in expected.items() if e["direction"] != "on-plan"},
        }
    for item in out.values():
        item["atRisk"] = str(at_risk)
    return out


def _wait_shown(page: Any, wanted: dict[str, Any]) -> None:
    """Wait (at most 5 s) until every van's stops, ghosts and the at-risk count are as
    wanted; on a timeout, fail with what the page shows."""
    try:
        page.wait_for_function(
            f"""(wanted) => Object.entries(wanted).every(([vehicle, want]) =>
                JSON.stringify(({_SHOWN})(vehicle)) === JSON.stringify(want))""",
            arg={v: _ordered(w) for v, w in wanted.items()},
            timeout=LIVE_TIMEOUT_MS,
        )
    except Exception as error:  # the page's own figures make the failure readable
        shown = {v: page.evaluate(_SHOWN, v) for v in wanted}
        raise AssertionError(f"page shows {shown}, wanted {wanted}") from error


def _ordered(want: dict[str, Any]) -> dict[str, Any]:
    """``want`` with keys in the order the page's function builds them (JSON compared)."""
    return {"stops": want["stops"], "ghosts": want["ghosts"], "atRisk": want["atRisk"]}


def _records(api: httpx.Client, refs: list[Json]) -> dict[str, Json]:
    return {r["vehicle_id"]: ok(api.get(f"/v1/routes/{r['route_id']}")) for r in refs}


def _first_visit(record: Json) -> Json:
    return next(s for s in record["stops"] if s["kind"] in VISITS)


def _serious_axe(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    response = Axe().run(page).response
    assert response["testEngine"]["name"] == "axe-core", "the scan did not run"
    (output_dir() / "axe-live-eta.json").write_text(json.dumps(response["violations"]) + "\n")
    return [
        f"{v['impact']} {v['id']}: {v['help']}"
        for v in response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_live_eta_shifts_and_the_at_risk_count_follow_the_events(
    page: Any, live_server: RealServer, page_errors: list[str]
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=60) as api:
        plan = dispatched_plan(api)
        refs = sorted(plan["routes"], key=lambda r: r["vehicle_id"])
        assert len(refs) == 2, "the day needs both vans: one runs early, one late"
        early, late = refs
        records = _records(api, refs)
        open_plan(page, live_server.url, plan["id"])
        page.evaluate("window.__notReloaded = true")
        _wait_shown(page, _wanted(records))  # nothing moved yet: every stop on plan
        assert all(
            e["direction"] == "on-plan" for r in records.values() for e in _expected(r).values()
        )
        page.wait_for_timeout(1000)  # the event stream connects after the page is drawn

        # van A: its first stop done 5 min sooner than planned; van B: 30 min late there
        first = _first_visit(records[early["vehicle_id"]])
        body = {
            "type": "delivered",
            "stop_id": first["stop_id"],
            "at": clock(first["planned_start_s"]),
        }
        ok(api.post(f"/v1/routes/{early['route_id']}/events", json=body))
        first = _first_visit(records[late["vehicle_id"]])
        at_s = first["planned_arrival_s"] + 1800
        body = {"type": "arrived", "stop_id": first["stop_id"], "at": clock(at_s)}
        ok(api.post(f"/v1/routes/{late['route_id']}/events", json=body))
        records = _records(api, refs)
        wanted = _wanted(records)
        directions = {
            v: {e["direction"] for e in _expected(r).values()} for v, r in records.items()
        }
        assert directions == {early["vehicle_id"]: {"early"}, late["vehicle_id"]: {"late"}}
        assert wanted[late["vehicle_id"]]["atRisk"] == "0"
        _wait_shown(page, wanted)
        texts = page.locator('[data-testid="eta-shift"]').all_text_contents()
        assert "\u22125 min early" in texts and "+30 min late" in texts, texts
        screenshot(page, "live-eta-shifts")
        screenshot(page, "live-eta-timeline", '[data-testid="timeline"]')

        # van B's first stop is only done near its window's end: the rest are at risk
        body = {"type": "delivered", "stop_id": first["stop_id"], "at": clock(61_200 - 60)}
        ok(api.post(f"/v1/routes/{late['route_id']}/events", json=body))
        records = _records(api, refs)
        wanted = _wanted(records)
        at_risk = int(wanted[late["vehicle_id"]]["atRisk"])
        assert at_risk == len(wanted[late["vehicle_id"]]["stops"]) > 0
        _wait_shown(page, wanted)
        summary = page.locator('[data-testid="live-summary"]').text_content() or ""
        assert f"{at_risk} at risk" in summary, summary
        risky = page.locator('[data-testid="eta-shift"][data-direction="late"]')
        assert all("past window" in t for t in risky.all_text_contents())
        assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
        screenshot(page, "live-eta-at-risk")
        found = _serious_axe(page)
        assert not found, "\n".join(found)
    assert not page_errors, page_errors
