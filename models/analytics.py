"""Analytics over the order book (read-only): orders per day per site and channel, the
cost and service of committed plans, planned against actual for the routes driven, and a
demand forecast per site with its backtest.

Days are UTC dates. Times of the day are seconds from the route's day start (``_s``);
lateness is the actual time minus the planned one (negative: early).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from models.common import StrictModel

#: What the forecast answers with: ETS (additive error, no trend, additive weekly season)
#: from statsmodels, or, when that cannot be fitted, last week's counts again.
ForecastModel = Literal["ets_weekly", "seasonal_naive"]
#: The site of an order that no committed plan ships.
UNPLANNED = "unplanned"

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    """Refuse a day not written as ``YYYY-MM-DD`` (``0`` or ``1700000000`` is no day)."""
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("a day is written YYYY-MM-DD, as in 2026-12-02")
    if isinstance(value, bool | int | float):
        raise ValueError("a day is written YYYY-MM-DD, as in 2026-12-02, not a number")
    return value


#: A day given as ``YYYY-MM-DD`` (a query's ``from`` and ``to``).
IsoDay = Annotated[dt.date, BeforeValidator(_iso_day)]


class OrderDayCount(StrictModel):
    """How many orders were placed on one day through one channel, by the site that ships
    them (``unplanned`` when no committed plan does)."""

    date: dt.date
    site_id: str
    channel: str
    orders: int = Field(ge=0)


class DayCount(StrictModel):
    """A number of orders on one day."""

    date: dt.date
    orders: int = Field(ge=0)


class OrdersReport(StrictModel):
    """Orders per day per site and channel (days with none are left out of ``rows``; the
    book's total per day, zeros included, is in ``per_day``)."""

    from_date: dt.date
    to_date: dt.date
    site_id: str | None = None
    channel: str | None = None
    total: int = Field(ge=0)
    rows: list[OrderDayCount]
    per_day: list[DayCount]


class PlanAnalytics(StrictModel):
    """One committed (or superseded) plan: what it cost per order and per van stop, and
    how well it promised to serve."""

    plan_id: str
    status: Literal["committed", "superseded"]
    source: str
    plan_date: dt.date | None = None
    committed_at: dt.datetime | None = None
    orders: int = Field(ge=0)
    shipments: int = Field(ge=0)
    cost: float
    cost_per_order: float | None = Field(description="kpis.cost / orders; null with none")
    routing_cost: float
    van_stops: int = Field(ge=0, description="deliveries and pickups on the plan's van routes")
    routing_cost_per_stop: float | None = Field(description="routing cost / van stops")
    on_time_share: float
    vehicles_used: int = Field(ge=0)
    distance_m: float


class PlansReport(StrictModel):
    """The committed and superseded plans of the range, oldest first; the totals are of the
    committed ones only (a superseded plan was replaced by one of them)."""

    from_date: dt.date | None = None
    to_date: dt.date | None = None
    plans: list[PlanAnalytics]
    committed_orders: int = Field(ge=0)
    committed_cost: float
    cost_per_order: float | None = None


class StopOutcome(StrictModel):
    """A stop done (delivered or failed): its planned start against the time of its event."""

    route_id: str
    plan_id: str
    site_id: str
    vehicle_id: str
    day: dt.date
    position: int
    stop_id: str
    status: Literal["delivered", "failed"]
    window_start_s: float | None = None
    window_end_s: float | None = None
    planned_start_s: float
    actual_s: float = Field(description="the delivered or failed event, from the day start")
    actual_at: dt.datetime
    lateness_s: float = Field(description="actual minus planned start; negative: early")
    on_time: bool | None = Field(description="within its delivery window; null without one")


class LatenessSummary(StrictModel):
    """The lateness of a set of stops done."""

    stops_done: int = Field(ge=0)
    delivered: int = Field(ge=0)
    failed: int = Field(ge=0)
    mean_lateness_s: float | None = None
    p90_lateness_s: float | None = Field(None, description="90th percentile (linear)")
    on_time_share: float | None = Field(None, description="of the stops with a window")


class RouteOutcome(LatenessSummary):
    """One dispatched or completed route: its stops done, against the plan."""

    route_id: str
    plan_id: str
    site_id: str
    vehicle_id: str
    status: Literal["dispatched", "completed"]
    day: dt.date
    stops_planned: int = Field(ge=0, description="its deliveries and pickups")


class RoutesReport(StrictModel):
    """Planned against actual for the dispatched and completed routes of the range."""

    from_date: dt.date | None = None
    to_date: dt.date | None = None
    overall: LatenessSummary
    routes: list[RouteOutcome]
    stops: list[StopOutcome]


class ForecastDay(StrictModel):
    """The forecast of one day: a point and an interval (never below zero)."""

    date: dt.date
    orders: float = Field(ge=0)
    lower: float = Field(ge=0)
    upper: float = Field(ge=0)


class BacktestDay(StrictModel):
    """One day after a past cut-off: what happened, what was forecast, and the baseline."""

    date: dt.date
    actual: int = Field(ge=0)
    forecast: float = Field(ge=0)
    baseline: float = Field(ge=0, description="the seasonal-naive forecast: a week before")


class ErrorScores(StrictModel):
    """The errors of forecasts against what then happened, and of the seasonal-naive
    baseline beside them. sMAPE is ``mean(2|f - a| / (|a| + |f|))`` (0 when both are 0)."""

    mae: float | None = None
    smape: float | None = None
    baseline_mae: float | None = None
    baseline_smape: float | None = None


class BacktestOrigin(ErrorScores):
    """The forecast made with the history up to ``cutoff`` (its last day)."""

    cutoff: dt.date
    model: ForecastModel
    days: list[BacktestDay]


class Backtest(ErrorScores):
    """How each forecast did: one per past cut-off (rolling origin, a week apart); the
    scores above are over all of their days."""

    origins: list[BacktestOrigin]


class SiteForecast(StrictModel):
    """The forecast of one site's orders per day (or of the whole book)."""

    site_id: str | None = Field(description="null: every order of the book")
    model: ForecastModel
    fallback_reason: str | None = Field(None, description="why the seasonal naive answers")
    history: list[DayCount]
    forecast: list[ForecastDay]
    backtest: Backtest


class ForecastReport(StrictModel):
    """Orders per day for the next days, per site, with the backtest of the same model."""

    history_from: dt.date
    history_to: dt.date
    horizon_days: int = Field(ge=1)
    season_days: int = 7
    interval_level: float = Field(description="the share the intervals hold, e.g. 0.8")
    total: SiteForecast | None = None
    sites: list[SiteForecast]
