"""The demand forecast and its backtest, on series made here: shapes, the backtest's
scores recomputed from its own forecasts and actuals, the weekly model against a flat
mean, the fallback and the refusal of a short history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.analytics import forecast as fc
from engine.analytics.orders import PlacedOrder
from models.errors import InvalidInputError
from tests.engine.analytics.conftest import FIRST, LAST, PATTERN


def weekly(weeks: int = 8, noise: float = 0.0, seed: int = 3) -> list[int]:
    """Daily counts of :data:`PATTERN` from :data:`FIRST` (a Monday), with some noise."""
    rng = np.random.default_rng(seed)
    values = np.tile(np.array(PATTERN, dtype=float) * 3, weeks) + rng.normal(0, noise, 7 * weeks)
    return [max(0, round(v)) for v in values]


def _smape(actual: list[float], forecast: list[float]) -> float:
    """sMAPE by its definition, day by day."""
    terms = [
        0.0 if a == f == 0 else 2 * abs(f - a) / (abs(a) + abs(f))
        for a, f in zip(actual, forecast, strict=True)
    ]
    return sum(terms) / len(terms)


def test_the_forecast_has_a_point_and_an_interval_per_day_ahead() -> None:
    history = weekly(noise=0.8)
    got = fc.site_forecast("w1", history, FIRST, 7)
    assert got.model == "ets_weekly" and got.fallback_reason is None
    assert [d.date for d in got.forecast] == [LAST + dt.timedelta(days=k) for k in range(1, 8)]
    assert [(d.date, d.orders) for d in got.history] == [
        (FIRST + dt.timedelta(days=k), v) for k, v in enumerate(history)
    ]
    for day in got.forecast:
        assert 0 <= day.lower <= day.orders <= day.upper
        # the weekday's level (the pattern, times 3) within a few orders
        assert day.orders == pytest.approx(3 * PATTERN[day.date.weekday()], abs=2.5)
        assert day.upper > day.lower  # noisy history: a real interval


def test_the_backtest_scores_are_those_of_its_own_forecasts() -> None:
    history = weekly(noise=1.5)
    bt = fc.backtest(history, FIRST, 7)
    assert [o.cutoff for o in bt.origins] == [LAST - dt.timedelta(days=7 * k) for k in (4, 3, 2, 1)]
    actual_all, model_all, base_all = [], [], []
    for origin in bt.origins:
        assert [d.date for d in origin.days] == [
            origin.cutoff + dt.timedelta(days=k) for k in range(1, 8)
        ]
        for day in origin.days:
            k = (day.date - FIRST).days
            assert day.actual == history[k]  # what then happened
            assert day.baseline == history[k - 7] or day.date - origin.cutoff > dt.timedelta(7)
        actual = [float(d.actual) for d in origin.days]
        model = [d.forecast for d in origin.days]
        base = [d.baseline for d in origin.days]
        assert origin.mae == pytest.approx(np.mean(np.abs(np.subtract(model, actual))))
        assert origin.smape == pytest.approx(_smape(actual, model))
        assert origin.baseline_mae == pytest.approx(np.mean(np.abs(np.subtract(base, actual))))
        assert origin.baseline_smape == pytest.approx(_smape(actual, base))
        actual_all += actual
        model_all += model
        base_all += base
    assert len(actual_all) == 28
    assert bt.mae == pytest.approx(np.mean(np.abs(np.subtract(model_all, actual_all))))
    assert bt.baseline_mae == pytest.approx(np.mean(np.abs(np.subtract(base_all, actual_all))))
    assert bt.smape == pytest.approx(_smape(actual_all, model_all))


def test_on_a_clean_weekly_pattern_the_model_beats_a_flat_mean() -> None:
    history = weekly(noise=0.5)
    bt = fc.backtest(history, FIRST, 7)
    flat_errors = []
    for origin in bt.origins:
        cut = (origin.cutoff - FIRST).days + 1
        mean = float(np.mean(history[:cut]))
        flat_errors += [abs(mean - d.actual) for d in origin.days]
    assert bt.mae is not None and bt.mae <= float(np.mean(flat_errors))
    assert bt.mae < 0.5 * float(np.mean(flat_errors))  # by far, on this pattern


def test_a_longer_horizon_is_cut_at_the_history_end() -> None:
    bt = fc.backtest(weekly(noise=1.0), FIRST, 10)
    assert [len(o.days) for o in bt.origins] == [10, 10, 10, 7]
    assert max(d.date for o in bt.origins for d in o.days) == LAST


def test_scores_by_hand() -> None:
    assert fc.scores([0, 10], [0, 5]) == pytest.approx((2.5, (0 + 10 / 15) / 2))
    assert fc.scores([], []) is None


def test_no_orders_at_all_forecasts_zero() -> None:
    got = fc.ets([0] * 21, 7)
    assert got.point.tolist() == [0.0] * 7 and (got.lower == 0).all()


def test_a_failed_fit_falls_back_to_last_week_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    import statsmodels.tsa.exponential_smoothing.ets as ets_module  # type: ignore[import-untyped]

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("no fit today")

    monkeypatch.setattr(ets_module, "ETSModel", broken)
    history = weekly(weeks=3, noise=1.0)
    got = fc.site_forecast("w1", history, FIRST, 7)
    assert got.model == "seasonal_naive" and "no fit today" in (got.fallback_reason or "")
    assert [d.orders for d in got.forecast] == [float(v) for v in history[-7:]]


def _placed(site: str, day: dt.date, n: int) -> list[PlacedOrder]:
    """``n`` web orders of ``site`` on ``day``."""
    return [PlacedOrder(day, "web", site) for _ in range(n)]


def test_the_report_has_the_book_and_each_site() -> None:
    placed: list[PlacedOrder] = []
    for k in range(21):
        day = FIRST + dt.timedelta(days=k)
        placed += _placed("w1", day, PATTERN[k % 7]) + _placed("w2", day, 1)
    last = FIRST + dt.timedelta(days=20)
    report = fc.from_orders(placed, last, 7)
    assert report.history_from == FIRST and report.history_to == last
    assert [s.site_id for s in report.sites] == ["w1", "w2"]
    assert report.total is not None
    assert [d.orders for d in report.total.history] == [PATTERN[k % 7] + 1 for k in range(21)]
    one = fc.from_orders(placed, last, 3, site_id="w2")
    assert one.total is None and [s.site_id for s in one.sites] == ["w2"]
    assert [d.orders for d in one.sites[0].history] == [1] * 21
    assert len(one.sites[0].forecast) == 3


def test_under_two_weeks_of_history_is_refused_naming_history() -> None:
    short = [PlacedOrder(FIRST + dt.timedelta(days=k), "web", "w1") for k in range(13)]
    for placed in (short, []):
        with pytest.raises(InvalidInputError) as refused:
            fc.from_orders(placed, FIRST + dt.timedelta(days=12), 7)
        assert refused.value.details[0]["field"] == "history"
    with pytest.raises(InvalidInputError) as horizon:
        fc.check_sizes(0, 56)
    assert horizon.value.details[0]["field"] == "horizon_days"
