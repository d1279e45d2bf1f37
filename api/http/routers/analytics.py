"""Analytics over the order book, read-only: orders per day per site and channel, the
committed plans' cost and service, planned against actual for the routes driven, and a
demand forecast per site with its backtest. Each answers JSON, or one of its tables as CSV
with ``format=csv`` (a header row, then one row per record)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.http import analytics_examples as ex
from api.http.deps import API_KEY_SECURITY
from api.http.errors import error_responses
from engine.analytics import forecast as fc
from engine.analytics.days import FIRST_DAY
from engine.analytics.reads import Analytics
from models.analytics import (
    ForecastReport,
    IsoDay,
    OrdersReport,
    PlanAnalytics,
    PlansReport,
    RouteOutcome,
    RoutesReport,
    StopOutcome,
)
from models.book import BookId, Channel

router = APIRouter(prefix="/analytics", tags=["analytics"], dependencies=API_KEY_SECURITY)

#: Days the orders report covers when ``from`` is not given (ending on ``to``).
DEFAULT_ORDER_DAYS = 28
#: Days of history the forecast reads when ``history_days`` is not given.
DEFAULT_HISTORY_DAYS = 56

FromQuery = Annotated[
    IsoDay | None, Query(alias="from", description="first day (UTC date), included")
]
ToQuery = Annotated[IsoDay | None, Query(alias="to", description="last day (UTC date), included")]
Format = Literal["json", "csv"]
FormatQuery = Annotated[Format, Query(description="json, or csv: one table of the report")]
SiteQuery = Annotated[
    BookId | None, Query(description="a site of the book, or unplanned (404: no such site)")
]
CSV_TYPE = "text/csv; charset=utf-8"
ERRORS = error_responses(401, 403, 404, 422, 503)


def get_analytics(request: Request) -> Analytics:
    """The analytics over the book opened by the app's lifespan."""
    return Analytics(request.app.state.book)


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]


def _cell(value: Any) -> str:
    """A JSON value as a CSV cell: empty for null, true/false for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_response(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Response:
    """A CSV table: a header row of ``columns``, then a row per mapping (JSON values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(content=out.getvalue(), media_type=CSV_TYPE)


def _dumps(models: Iterable[BaseModel], **extra: Any) -> list[dict[str, Any]]:
    """Models as JSON mappings, with ``extra`` columns in front."""
    return [{**extra, **m.model_dump(mode="json")} for m in models]


def _columns(model: type[BaseModel]) -> list[str]:
    """A model's fields, its own before those it inherits: the columns of its table."""
    inherited = {f for base in model.__mro__[1:] for f in getattr(base, "model_fields", {})}
    own = [f for f in model.model_fields if f not in inherited]
    return own + [f for f in model.model_fields if f in inherited]


@router.get(
    "/orders",
    response_model=OrdersReport,
    summary="Orders per day per site and channel",
    responses={200: ex.content(ex.ORDERS_REPORT, ex.ORDERS_CSV), **ERRORS},
)
def orders_per_day(
    analytics: AnalyticsDep,
    first: FromQuery = None,
    last: ToQuery = None,
    site_id: SiteQuery = None,
    channel: Annotated[Channel | None, Query(description="only this channel")] = None,
    format: FormatQuery = "json",
    table: Annotated[
        Literal["rows", "per_day"], Query(description="the CSV's table: rows, or per_day")
    ] = "rows",
) -> OrdersReport | Response:
    """Orders by the UTC day they were placed, the site that ships them in their last
    committed plan (``unplanned``: none yet) and channel; ``per_day`` has the day totals,
    zeros included. By default the 28 days up to ``to`` (default today)."""
    last = last or dt.datetime.now(dt.UTC).date()
    if first is None:  # the default range (a last day out of bounds is refused below)
        span = dt.timedelta(days=DEFAULT_ORDER_DAYS - 1)
        first = last - span if last > FIRST_DAY + span else FIRST_DAY
    report = analytics.orders(first, last, site_id, channel)
    if format == "json":
        return report
    if table == "per_day":
        return csv_response(["date", "orders"], _dumps(report.per_day))
    return csv_response(["date", "site_id", "channel", "orders"], _dumps(report.rows))


@router.get(
    "/plans",
    response_model=PlansReport,
    summary="Cost and service of the committed plans",
    responses={200: ex.content(ex.PLANS_REPORT, ex.PLANS_CSV), **ERRORS},
)
def plans_report(
    analytics: AnalyticsDep,
    first: FromQuery = None,
    last: ToQuery = None,
    format: FormatQuery = "json",
) -> PlansReport | Response:
    """Each committed plan (and each superseded one, marked so) of the range (by its plan
    date, else the day it was committed; every one without a range): cost per order
    (``kpis.cost / orders``), routing cost per van stop, on-time share, vans used."""
    report = analytics.plans(first, last)
    if format == "json":
        return report
    return csv_response(_columns(PlanAnalytics), _dumps(report.plans))


@router.get(
    "/routes",
    response_model=RoutesReport,
    summary="Planned against actual for the routes driven",
    responses={200: ex.content(ex.ROUTES_REPORT, ex.ROUTES_CSV), **ERRORS},
)
def routes_report(
    analytics: AnalyticsDep,
    first: FromQuery = None,
    last: ToQuery = None,
    format: FormatQuery = "json",
    table: Annotated[
        Literal["routes", "stops"], Query(description="the CSV's table: routes, or stops")
    ] = "routes",
) -> RoutesReport | Response:
    """The dispatched and completed routes of the range (by their day; every one without a
    range): each stop done (delivered or failed) with its planned start against the time of
    its event, per route and overall the mean and 90th percentile of the lateness (actual
    minus planned, negative: early) and the share within the delivery window."""
    report = analytics.routes(first, last)
    if format == "json":
        return report
    if table == "stops":
        return csv_response(_columns(StopOutcome), _dumps(report.stops))
    return csv_response(_columns(RouteOutcome), _dumps(report.routes))


def _forecast_rows(report: ForecastReport, table: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The forecast report's table ``forecast``, ``backtest`` or ``history`` as CSV rows."""
    series = ([report.total] if report.total is not None else []) + report.sites
    rows: list[dict[str, Any]] = []
    for s in series:
        if table == "forecast":
            rows += _dumps(s.forecast, site_id=s.site_id, model=s.model)
        elif table == "history":
            rows += _dumps(s.history, site_id=s.site_id)
        else:
            for origin in s.backtest.origins:
                rows += _dumps(origin.days, site_id=s.site_id, cutoff=origin.cutoff.isoformat())
    columns = {
        "forecast": ["site_id", "date", "orders", "lower", "upper", "model"],
        "history": ["site_id", "date", "orders"],
        "backtest": ["site_id", "cutoff", "date", "actual", "forecast", "baseline"],
    }[table]
    return columns, rows


@router.get(
    "/forecast",
    response_model=ForecastReport,
    summary="Demand forecast per site, with its backtest",
    responses={200: ex.content(ex.FORECAST_REPORT, ex.FORECAST_CSV), **ERRORS},
)
def demand_forecast(
    analytics: AnalyticsDep,
    site_id: SiteQuery = None,
    horizon_days: Annotated[int, Query(ge=1, le=fc.MAX_HORIZON_DAYS, description="days ahead")] = 7,
    history_days: Annotated[
        int,
        Query(
            ge=fc.MIN_HISTORY_DAYS,
            le=fc.MAX_HISTORY_DAYS,
            description="days of orders the model learns from, ending on to",
        ),
    ] = DEFAULT_HISTORY_DAYS,
    last: Annotated[
        IsoDay | None,
        Query(alias="to", description="the history's last day (default yesterday, UTC)"),
    ] = None,
    format: FormatQuery = "json",
    table: Annotated[
        Literal["forecast", "backtest", "history"], Query(description="the CSV's table")
    ] = "forecast",
) -> ForecastReport | Response:
    """Orders per day for the ``horizon_days`` after ``to``: statsmodels' ETS with a
    weekly season (``ets_weekly``), an 80 % interval, per site (by the site that shipped
    each order; ``unplanned``: not planned yet) and for the whole book (``total``; only
    without ``site_id``). The backtest: the same model cut at each of the last 4 weeks,
    against what then happened, MAE and sMAPE beside the seasonal naive's (last week
    again). Under 14 days of orders: 422 naming ``history``."""
    last = last or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    report = analytics.forecast(last, horizon_days, history_days, site_id)
    if format == "json":
        return report
    return csv_response(*_forecast_rows(report, table))
