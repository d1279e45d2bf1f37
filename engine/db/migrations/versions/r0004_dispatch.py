"""Dispatch: a committed plan's van routes, their stops (plan times, live ETAs, what
happened) and the append-only log of route events; each order's count of failed deliveries
(see ``engine/dispatch/tables.py``).

Revision ID: 0004_dispatch
Revises: 0003_events
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_dispatch"
down_revision: str | Sequence[str] | None = "0003_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _routes() -> None:
    """The routes of committed plans."""
    op.create_table(
        "routeplan_routes",
        sa.Column("route_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("day_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("route_id"),
    )
    with op.batch_alter_table("routeplan_routes", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_routes_plan", ["plan_id"], unique=False)
        batch_op.create_index("ix_routeplan_routes_vehicle", ["vehicle_id", "status"], unique=False)


def _events() -> None:
    """The log of route events."""
    op.create_table(
        "routeplan_route_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("stop_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column(
            "proof",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routeplan_routes.route_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routeplan_route_events", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_route_events_route", ["route_id", "id"], unique=False)


def _stops() -> None:
    """The stops of each route."""
    op.create_table(
        "routeplan_route_stops",
        sa.Column("route_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.String(length=200), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("window_start_s", sa.Float(), nullable=True),
        sa.Column("window_end_s", sa.Float(), nullable=True),
        sa.Column("service_s", sa.Float(), nullable=False),
        sa.Column("travel_s", sa.Float(), nullable=False),
        sa.Column("planned_arrival_s", sa.Float(), nullable=False),
        sa.Column("planned_start_s", sa.Float(), nullable=False),
        sa.Column("eta_arrival_s", sa.Float(), nullable=False),
        sa.Column("eta_start_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "proof",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routeplan_routes.route_id"],
        ),
        sa.PrimaryKeyConstraint("route_id", "position"),
    )
    with op.batch_alter_table("routeplan_route_stops", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routeplan_route_stops_stop", ["route_id", "stop_id"], unique=False
        )


def upgrade() -> None:
    """Make the routes, their stops and events; count each order's failed deliveries."""
    _routes()
    _stops()
    _events()
    with op.batch_alter_table("routeplan_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery_attempts", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    """Undo :func:`upgrade`."""
    with op.batch_alter_table("routeplan_orders", schema=None) as batch_op:
        batch_op.drop_column("delivery_attempts")

    with op.batch_alter_table("routeplan_route_stops", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_route_stops_stop")

    op.drop_table("routeplan_route_stops")
    with op.batch_alter_table("routeplan_route_events", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_route_events_route")

    op.drop_table("routeplan_route_events")
    with op.batch_alter_table("routeplan_routes", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_routes_vehicle")
        batch_op.drop_index("ix_routeplan_routes_plan")

    op.drop_table("routeplan_routes")
