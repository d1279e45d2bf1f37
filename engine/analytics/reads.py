"""The analytics on a store's read transaction: one read per report, nothing written."""

from __future__ import annotations

import datetime as dt

from engine.analytics import forecast, orders, plans, routes
from engine.analytics.days import check_day, check_range
from engine.book.store import BookStore
from models.analytics import ForecastReport, OrdersReport, PlansReport, RoutesReport


class Analytics:
    """Read-only analytics over an order book's store (a :class:`BookStore`, or the
    dispatch store the server opens)."""

    def __init__(self, store: BookStore) -> None:
        self.store = store

    def orders(
        self,
        first: dt.date,
        last: dt.date,
        site_id: str | None = None,
        channel: str | None = None,
    ) -> OrdersReport:
        """Orders per day per site and channel (:mod:`engine.analytics.orders`)."""
        check_range(first, last)
        with self.store._read() as conn:
            return orders.report(conn, first, last, site_id, channel)

    def plans(self, first: dt.date | None, last: dt.date | None) -> PlansReport:
        """The committed and superseded plans' cost and service."""
        check_range(first, last)
        with self.store._read() as conn:
            return plans.report(conn, first, last)

    def routes(self, first: dt.date | None, last: dt.date | None) -> RoutesReport:
        """Planned against actual for the driven routes."""
        check_range(first, last)
        with self.store._read() as conn:
            return routes.report(conn, first, last)

    def forecast(
        self, last: dt.date, horizon: int, history_days: int, site_id: str | None = None
    ) -> ForecastReport:
        """The demand forecast per site with its backtest; the read ends before the fits."""
        check_day("to", last)
        forecast.check_sizes(horizon, history_days)
        with self.store._read() as conn:
            orders.check_site(conn, site_id)
            first = last - dt.timedelta(days=history_days - 1)
            placed = orders.read_orders(conn, first, last)
        return forecast.from_orders(placed, last, horizon, site_id)
