"""The dispatch store: routes of committed plans, their events and live ETAs, in the order
book's database.

It is a :class:`engine.book.store.BookStore` (the same transactions: one per change, the
SQLite write lock taken at the start, PostgreSQL rows locked, a change that lost a race run
again; the schema brought to head on first contact), with the dispatch calls on top; the
conn-level work is in :mod:`engine.dispatch.routes` and :mod:`engine.dispatch.events`.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.book.capture import now_utc
from engine.book.store import BookStore
from engine.dispatch import events, routes
from engine.dispatch.eta import DEFAULT_THRESHOLD_S
from engine.dispatch.events import FailurePolicy
from engine.tracking import view as tracking
from models.dispatch import EventResult, PositionIn, PositionResult, RouteEventIn, RouteRecord
from models.tracking import OrderTracking, PublicTracking


class DispatchStore(BookStore):
    """Dispatch over the order book's database (SQLite file by default, PostgreSQL by URL)."""

    def get_route(self, route_id: str) -> RouteRecord:
        """A route with its stops and live ETAs (404 when there is none)."""
        with self._read() as conn:
            return routes.record(conn, route_id)

    def dispatch(self, route_id: str, *, actor: str | None = None) -> RouteRecord:
        """Send a committed route out: its packed orders become ``shipped``."""

        def change(conn: Connection) -> RouteRecord:
            events.dispatch(conn, route_id, now_utc(), actor)
            return routes.record(conn, route_id)

        return self._write(change)

    def report(
        self,
        route_id: str,
        event: RouteEventIn,
        *,
        policy: FailurePolicy | None = None,
        threshold_s: float = DEFAULT_THRESHOLD_S,
        actor: str | None = None,
    ) -> EventResult:
        """Apply one event of a dispatched route, its ETAs recomputed."""

        def change(conn: Connection) -> EventResult:
            applied = events.apply_event(
                conn, route_id, event, policy or FailurePolicy(), threshold_s, now_utc(), actor
            )
            return EventResult(applied=applied, route=routes.record(conn, route_id))

        return self._write(change)

    def report_position(
        self, vehicle_id: str, report: PositionIn, *, threshold_s: float = DEFAULT_THRESHOLD_S
    ) -> PositionResult:
        """Note a van's position on its dispatched routes of the day, ETAs recomputed."""

        def change(conn: Connection) -> PositionResult:
            ids = events.apply_position(conn, vehicle_id, report, threshold_s, now_utc())
            return PositionResult(
                vehicle_id=vehicle_id, routes=[routes.record(conn, i) for i in ids]
            )

        return self._write(change)

    def order_tracking(self, order_id: str, channel: str | None = None) -> OrderTracking:
        """An order's tracking (:mod:`engine.tracking.view`); its public token is made, in
        one transaction, by the first call (later ones only read)."""
        with self._read() as conn:
            found = tracking.read_order(conn, order_id, channel)
        if found is not None:
            return found
        return self._write(lambda conn: tracking.make_order(conn, order_id, channel, now_utc()))

    def public_tracking(self, token: str) -> PublicTracking | None:
        """What the customer's page of a tracking token shows; None for no such token."""
        with self._read() as conn:
            return tracking.public(conn, token)
