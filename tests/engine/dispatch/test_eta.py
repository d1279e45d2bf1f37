"""Live ETAs on a small route, every expected time worked out by hand in the comments."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine.dispatch.eta import (
    Gps,
    StopState,
    average_speed_mps,
    haversine_m,
    live_etas,
    moved,
    place,
)

#: Stop 2's place; stop 1's is 0.01 degrees east of it on the equator.
S2 = (0.0, 0.0)


def _stop(position: int, kind: str, travel: float, service: float, window, eta_s: float):
    ws, we = window if window else (None, None)
    return StopState(
        position=position,
        kind=kind,
        travel_s=travel,
        service_s=service,
        window_start_s=ws,
        window_end_s=we,
        location=None if kind == "break" else ((0.02, 0.0) if position != 2 else S2),
        status="pending",
        event_s=None,
        eta_arrival_s=eta_s,
        eta_start_s=eta_s,
    )


def route() -> list[StopState]:
    """Leaves the start at 3000: stop 1 at 3600, stop 2 at 5000, a break, stop 3, the end."""
    return [
        _stop(1, "job", 600, 300, (3600, 7200), 3600),  # 3000 + 600; leaves 3900
        _stop(2, "job", 900, 120, (5000, 6000), 5000),  # 4800, waits to 5000; leaves 5120
        _stop(3, "break", 0, 1800, None, 5120),  # leaves 6920
        _stop(4, "job", 300, 60, (0, 8000), 7220),  # leaves 7280
        _stop(5, "end", 400, 0, None, 7680),
    ]


def _done(stops, position, status, event_s, arrival_s=None):
    out = list(stops)
    k = position - 1
    a = event_s if arrival_s is None else arrival_s
    out[k] = replace(out[k], status=status, event_s=event_s, eta_arrival_s=a, eta_start_s=a)
    return out


def test_before_any_event_the_plan_stands() -> None:
    times = live_etas(route(), None, None)
    assert [times[k].start_s for k in range(1, 6)] == [3600, 5000, 5120, 7220, 7680]
    assert not any(t.at_risk for t in times.values())


def test_arrival_reschedules_from_the_end_of_its_service() -> None:
    stops = _done(route(), 1, "arrived", 4000)
    times = live_etas(stops, None, None)
    # stop 1: starts 4000 (window opened at 3600), leaves 4300
    assert (times[1].arrival_s, times[1].start_s) == (4000, 4000)
    # stop 2: 4300 + 900 = 5200 (window open from 5000): starts 5200, leaves 5320
    assert (times[2].arrival_s, times[2].start_s) == (5200, 5200)
    # break: 5320 + 0, lasts 1800: leaves 7120
    assert times[3].start_s == 5320
    # stop 4: 7120 + 300 = 7420, leaves 7480; end: 7480 + 400
    assert times[4].start_s == 7420 and not times[4].at_risk
    assert times[5].arrival_s == 7880


def test_a_late_delivery_puts_a_later_window_at_risk() -> None:
    stops = _done(_done(route(), 1, "delivered", 4300), 2, "delivered", 6500)
    times = live_etas(stops, None, None)
    # left stop 2 at 6500; break 6500-8300; stop 4 at 8300 + 300 = 8600 > 8000
    assert times[3].start_s == 6500
    assert times[4].start_s == 8600 and times[4].at_risk
    assert times[5].arrival_s == 8600 + 60 + 400
    # the stops done keep their times
    assert times[2].start_s == 6500 and times[1].start_s == 4300


def test_waiting_is_kept_when_the_van_is_early() -> None:
    stops = _done(route(), 1, "delivered", 3700)
    times = live_etas(stops, None, None)
    # 3700 + 900 = 4600, the window opens at 5000
    assert times[2].arrival_s == 4600 and times[2].start_s == 5000


def test_a_position_travels_by_distance_over_the_average_speed() -> None:
    stops = _done(route(), 1, "delivered", 4300)
    # on the equator, 0.01 degrees of longitude are R * 0.01 * pi / 180 metres
    metres = 6_371_008.8 * 0.01 * math.pi / 180
    gps = Gps((0.01, 0.0), 5200.0)
    times = live_etas(stops, gps, 10.0)
    assert times[2].arrival_s == pytest.approx(5200 + metres / 10)
    assert times[2].start_s == pytest.approx(5200 + metres / 10)
    # a position older than the last event is not where the van is
    older = live_etas(stops, Gps((0.01, 0.0), 4000.0), 10.0)
    assert older[2].arrival_s == 4300 + 900


def test_the_van_stays_at_an_arrived_stop_until_it_was_last_heard_of() -> None:
    stops = _done(route(), 1, "arrived", 4000)
    where = place(stops, Gps((0.02, 0.0), 4500.0))
    # service would end at 4300, but the van was still there at 4500
    assert where.depart_s == 4500 and where.position == 1


def test_helpers() -> None:
    assert haversine_m((0.0, 0.0), (0.0, 1.0)) == pytest.approx(6_371_008.8 * math.pi / 180)
    assert average_speed_mps(1000.0, 100.0) == 10.0
    assert average_speed_mps(0.0, 100.0) is None
    assert moved(100.0, 401.0) and not moved(100.0, 400.0)
    assert moved(100.0, 150.0, threshold_s=30.0)
