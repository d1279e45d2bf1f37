"""The tables of dispatch (SQLAlchemy Core); made by the migration ``0004_dispatch``.

- ``routeplan_routes``: one row per van route of a committed plan, with its average speed
  (planned distance over planned travel) and the van's last known place.
- ``routeplan_route_stops``: its steps after the start, in order (``position`` 1..n), with
  the plan's times, the live ETAs and what happened at each.
- ``routeplan_route_events``: every event a driver's app sent, append-only (a stale one too).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from engine.db.schema import JSON_DOCUMENT as _JSON
from engine.db.schema import METADATA

_TIME = DateTime(timezone=True)

routes = Table(
    "routeplan_routes",
    METADATA,
    Column("route_id", String(36), primary_key=True),
    Column("plan_id", String(36), nullable=False),
    Column("site_id", String(64), nullable=False),
    Column("vehicle_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("day_start", _TIME, nullable=False),
    Column("speed_mps", Float),
    Column("dispatched_at", _TIME),
    Column("last_lon", Float),
    Column("last_lat", Float),
    Column("last_at", _TIME),
    Column("created_at", _TIME, nullable=False),
    Index("ix_routeplan_routes_plan", "plan_id"),
    Index("ix_routeplan_routes_vehicle", "vehicle_id", "status"),
)

route_stops = Table(
    "routeplan_route_stops",
    METADATA,
    Column("route_id", String(36), ForeignKey("routeplan_routes.route_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("stop_id", String(200), nullable=False),
    Column("order_seq", Integer),
    Column("kind", String(16), nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("window_start_s", Float),
    Column("window_end_s", Float),
    Column("service_s", Float, nullable=False),
    Column("travel_s", Float, nullable=False),
    Column("planned_arrival_s", Float, nullable=False),
    Column("planned_start_s", Float, nullable=False),
    Column("eta_arrival_s", Float, nullable=False),
    Column("eta_start_s", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("at_risk", Boolean, nullable=False),
    Column("last_event_at", _TIME),
    Column("proof", _JSON),
    Column("reason", Text),
    Index("ix_routeplan_route_stops_stop", "route_id", "stop_id"),
)

route_events = Table(
    "routeplan_route_events",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route_id", String(36), ForeignKey("routeplan_routes.route_id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("stop_id", String(200)),
    Column("at", _TIME, nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("proof", _JSON),
    Column("reason", Text),
    Column("applied", Boolean, nullable=False),
    Column("received_at", _TIME, nullable=False),
    Column("actor", String(128)),
    Index("ix_routeplan_route_events_route", "route_id", "id"),
)
