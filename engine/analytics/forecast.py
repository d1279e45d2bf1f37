"""Demand forecast: orders per day per site for the next days, and how the same forecast
did at past cut-offs.

The model is statsmodels' ETS (``ETSModel``: additive error, no trend, additive weekly
season of 7 days), fitted by maximum likelihood on the daily counts (its first level and
season from statsmodels' heuristic with 16 days or more, else estimated too); its point
forecast and its prediction interval (``interval_level``, 80 % by default) are clipped at
zero. Should the fit fail or answer something not finite, the seasonal naive (each day as
the same weekday of the last week) answers instead, flagged with ``fallback_reason``, its
interval from the spread of its own errors over the history.

The backtest is a rolling origin: the history cut at each of the last
:data:`BACKTEST_ORIGINS` weeks, the model fitted on what came before and its forecast
compared with what then happened, with the seasonal naive's forecast from the same cut-off
beside it; MAE and sMAPE per cut-off and over all of them.

History: the days from ``history_from`` to ``history_to`` (the last one the counts cover),
starting no earlier than the book's first order in that range. Under
:data:`MIN_HISTORY_DAYS` (two weekly seasons) no model can fit a weekly season: a 422 that
names ``history``. A cut-off of the backtest with less history before it is left out.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from engine.analytics.days import days
from engine.analytics.orders import PlacedOrder
from models.analytics import (
    Backtest,
    BacktestDay,
    BacktestOrigin,
    DayCount,
    ForecastDay,
    ForecastModel,
    ForecastReport,
    SiteForecast,
)
from models.errors import InvalidInputError

#: The season: a week of days.
SEASON_DAYS = 7
#: The least history a forecast is made from: two seasons.
MIN_HISTORY_DAYS = 2 * SEASON_DAYS
#: The least history whose first states statsmodels derives from the data (its heuristic).
HEURISTIC_MIN_DAYS = 10 + 2 * (SEASON_DAYS // 2)
#: The past cut-offs of the backtest, a week apart.
BACKTEST_ORIGINS = 4
#: The share of outcomes the interval holds.
INTERVAL_LEVEL = 0.8
#: The most days ahead one forecast covers.
MAX_HORIZON_DAYS = 28
#: The most days of history one forecast reads.
MAX_HISTORY_DAYS = 730


#: Daily counts, oldest first.
Values = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Fit:
    """A forecast of the next days: points and interval bounds (arrays of the horizon)."""

    model: ForecastModel
    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    fallback_reason: str | None = None


def seasonal_naive(history: Values, horizon: int) -> np.ndarray:
    """Each day ahead as the same weekday of the history's last week."""
    values = np.asarray(history, dtype=float)
    last_week = values[-SEASON_DAYS:]
    return np.array([last_week[k % SEASON_DAYS] for k in range(horizon)], dtype=float)


def _naive_fit(history: Values, horizon: int, level: float, why: str) -> Fit:
    """The seasonal naive with an interval from its own one-week-back errors."""
    values = np.asarray(history, dtype=float)
    point = seasonal_naive(values, horizon)
    errors = values[SEASON_DAYS:] - values[:-SEASON_DAYS]
    spread = float(np.std(errors)) if len(errors) else 0.0
    half = float(norm.ppf(0.5 + level / 2)) * spread
    return Fit("seasonal_naive", point, np.maximum(point - half, 0), point + half, why)


def ets(history: Values, horizon: int, level: float = INTERVAL_LEVEL) -> Fit:
    """ETS(A, N, A) with a weekly season fitted on ``history`` (at least two weeks); the
    seasonal naive when it cannot be fitted."""
    from statsmodels.tsa.exponential_smoothing.ets import (  # type: ignore[import-untyped]
        ETSModel,
    )

    values = np.asarray(history, dtype=float)
    series = pd.Series(values, index=pd.date_range("2000-01-03", periods=len(values), freq="D"))
    # the first states from the data (fast) where statsmodels can; else estimated with the rest
    start = "heuristic" if len(values) >= HEURISTIC_MIN_DAYS else "estimated"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes of the optimiser
            model = ETSModel(
                series,
                error="add",
                trend=None,
                seasonal="add",
                seasonal_periods=SEASON_DAYS,
                initialization_method=start,
            )
            fitted = model.fit(disp=False)
            frame = fitted.get_prediction(
                start=len(values), end=len(values) + horizon - 1
            ).summary_frame(alpha=1 - level)
        point = frame["mean"].to_numpy(dtype=float)
        lower = frame["pi_lower"].to_numpy(dtype=float)
        upper = frame["pi_upper"].to_numpy(dtype=float)
    except Exception as error:  # any failure of the fit: the baseline answers, flagged
        return _naive_fit(values, horizon, level, f"the ETS fit failed: {error}"[:300])
    if not (np.isfinite(point).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        return _naive_fit(values, horizon, level, "the ETS fit gave values that are not finite")
    point = np.maximum(point, 0)
    return Fit("ets_weekly", point, np.clip(lower, 0, point), np.maximum(upper, point))


def scores(actual: Sequence[float], forecast: Sequence[float]) -> tuple[float, float] | None:
    """(MAE, sMAPE) of a forecast against what happened; None for no days. sMAPE's term of
    a day is ``2|f - a| / (|a| + |f|)``, 0 when both are 0."""
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    if len(a) == 0:
        return None
    scale = np.abs(a) + np.abs(f)
    terms = np.divide(2 * np.abs(f - a), scale, out=np.zeros_like(a), where=scale > 0)
    return float(np.mean(np.abs(f - a))), float(np.mean(terms))


def _scored(actual: list[float], forecast: list[float], baseline: list[float]) -> dict[str, float]:
    """The :class:`ErrorScores` fields of a forecast and of the baseline (none for no days)."""
    model, base = scores(actual, forecast), scores(actual, baseline)
    out: dict[str, float] = {}
    if model is not None:
        out.update(mae=model[0], smape=model[1])
    if base is not None:
        out.update(baseline_mae=base[0], baseline_smape=base[1])
    return out


def backtest(
    history: Sequence[int],
    first_day: dt.date,
    horizon: int,
    origins: int = BACKTEST_ORIGINS,
    level: float = INTERVAL_LEVEL,
) -> Backtest:
    """Forecasts from the cut-offs a week apart before the history's end, each against what
    then happened (up to ``horizon`` days, within the history) and beside the seasonal
    naive's; ``history[k]`` is the count of ``first_day + k`` days."""
    n = len(history)
    out: list[BacktestOrigin] = []
    actual_all: list[float] = []
    model_all: list[float] = []
    base_all: list[float] = []
    for k in range(origins, 0, -1):
        cut = n - k * SEASON_DAYS
        if cut < MIN_HISTORY_DAYS:
            continue
        ahead = min(horizon, n - cut)
        fit = ets(history[:cut], ahead, level)
        base = seasonal_naive(history[:cut], ahead)
        actual = [float(v) for v in history[cut : cut + ahead]]
        day_list = [
            BacktestDay(
                date=first_day + dt.timedelta(days=cut + j),
                actual=int(history[cut + j]),
                forecast=float(fit.point[j]),
                baseline=float(base[j]),
            )
            for j in range(ahead)
        ]
        forecast = [d.forecast for d in day_list]
        baseline = [d.baseline for d in day_list]
        out.append(
            BacktestOrigin(
                cutoff=first_day + dt.timedelta(days=cut - 1),
                model=fit.model,
                days=day_list,
                **_scored(actual, forecast, baseline),
            )
        )
        actual_all += actual
        model_all += forecast
        base_all += baseline
    return Backtest(origins=out, **_scored(actual_all, model_all, base_all))


def site_forecast(
    site_id: str | None,
    history: Sequence[int],
    first_day: dt.date,
    horizon: int,
    level: float = INTERVAL_LEVEL,
) -> SiteForecast:
    """The forecast of one series of daily counts (the first of ``first_day``), with its
    backtest."""
    fit = ets(history, horizon, level)
    last = first_day + dt.timedelta(days=len(history) - 1)
    return SiteForecast(
        site_id=site_id,
        model=fit.model,
        fallback_reason=fit.fallback_reason,
        history=[
            DayCount(date=first_day + dt.timedelta(days=k), orders=int(v))
            for k, v in enumerate(history)
        ],
        forecast=[
            ForecastDay(
                date=last + dt.timedelta(days=k + 1),
                orders=float(fit.point[k]),
                lower=float(fit.lower[k]),
                upper=float(fit.upper[k]),
            )
            for k in range(horizon)
        ],
        backtest=backtest(history, first_day, horizon, level=level),
    )


def check_sizes(horizon: int, history_days: int) -> None:
    """422 naming ``horizon_days`` or ``history_days`` when out of their bounds."""
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise InvalidInputError.for_field(
            "horizon_days", horizon, f"is not between 1 and {MAX_HORIZON_DAYS}"
        )
    if not MIN_HISTORY_DAYS <= history_days <= MAX_HISTORY_DAYS:
        raise InvalidInputError.for_field(
            "history_days",
            history_days,
            f"is not between {MIN_HISTORY_DAYS} and {MAX_HISTORY_DAYS}",
        )


def check_history(first_day: dt.date | None, last: dt.date) -> dt.date:
    """The first day of the history; 422 naming ``history`` when it is too short."""
    length = 0 if first_day is None else (last - first_day).days + 1
    if first_day is None or length < MIN_HISTORY_DAYS:
        since = "no orders" if first_day is None else f"orders since {first_day}"
        raise InvalidInputError.for_field(
            "history",
            f"{length} days",
            f"a weekly forecast needs at least {MIN_HISTORY_DAYS} days of orders up to {last};"
            f" the book has {since} (raise history_days, or wait for more orders)",
        )
    return first_day


def forecasts(
    counts: Mapping[tuple[str, dt.date], int],
    first_day: dt.date,
    last: dt.date,
    horizon: int,
    site_id: str | None = None,
    level: float = INTERVAL_LEVEL,
) -> ForecastReport:
    """The report from counts per (site, day): one site's forecast when ``site_id`` is
    given, else the whole book's and every site's with orders in the history."""
    span = days(first_day, last)

    def series(site: str | None) -> list[int]:
        if site is None:
            per_day: Counter[dt.date] = Counter()
            for (_site, day), n in counts.items():
                per_day[day] += n
            return [per_day.get(day, 0) for day in span]
        return [counts.get((site, day), 0) for day in span]

    sites = [site_id] if site_id is not None else sorted({s for s, _ in counts})
    return ForecastReport(
        history_from=first_day,
        history_to=last,
        horizon_days=horizon,
        season_days=SEASON_DAYS,
        interval_level=level,
        total=None
        if site_id is not None
        else site_forecast(None, series(None), first_day, horizon, level),
        sites=[site_forecast(s, series(s), first_day, horizon, level) for s in sites],
    )


def from_orders(
    placed: Sequence[PlacedOrder],
    last: dt.date,
    horizon: int,
    site_id: str | None = None,
    level: float = INTERVAL_LEVEL,
) -> ForecastReport:
    """The forecast from the orders placed in the history's window up to ``last`` (422
    naming ``history`` for too little of it)."""
    first_day = check_history(min((o.day for o in placed), default=None), last)
    counts = Counter((o.site_id, o.day) for o in placed if o.day <= last)
    return forecasts(counts, first_day, last, horizon, site_id, level)
