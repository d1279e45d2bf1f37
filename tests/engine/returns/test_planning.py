"""A return's pickup windows on the planned day (worked out here by hand), and the stop
bounds of the caps counting pickups."""

from __future__ import annotations

import datetime as dt

from engine.plan.pipeline import site_stop_bounds
from engine.returns.planning import day_windows
from models.book import DeliveryWindow
from models.plan import PlanPickup, PlanRequest

DAY_START = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)


def _window(start: str, end: str) -> DeliveryWindow:
    return DeliveryWindow.model_validate({"start": start, "end": end})


def test_windows_on_the_day_are_kept_in_seconds_from_its_start() -> None:
    got = day_windows([_window("2026-12-05T09:00:00Z", "2026-12-05T12:30:00Z")], DAY_START)
    assert [(w.start_s, w.end_s) for w in got] == [(9 * 3600, 12.5 * 3600)]


def test_windows_of_another_day_keep_their_clock_time() -> None:
    got = day_windows([_window("2026-12-01T14:00:00Z", "2026-12-01T16:00:00Z")], DAY_START)
    assert [(w.start_s, w.end_s) for w in got] == [(14 * 3600, 16 * 3600)]


def test_a_window_of_a_whole_day_is_no_window() -> None:
    assert day_windows([_window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z")], DAY_START) == []


def test_pickups_count_as_stops_of_their_site() -> None:
    request = PlanRequest.model_validate(
        {
            "sites": [{"id": "w1", "location": [4.9, 52.37]}],
            "stock": [],
            "orders": [],
            "fleet": [{"id": "v", "site_id": "w1", "capacity": {"weight_kg": 10}}],
            "pickups": [
                {
                    "id": "ret_1",
                    "order_id": "o-1",
                    "site_id": "w1",
                    "location": [4.91, 52.36],
                    "lines": [{"line_id": "l1", "sku": "kettle", "quantity": 1}],
                }
            ],
        }
    )
    assert site_stop_bounds(request) == {"w1": 1}
    (pickup,) = request.pickups
    assert isinstance(pickup, PlanPickup) and pickup.stop_id == "return:ret_1@w1"
