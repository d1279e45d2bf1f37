"""Pick and pack: each site's carton types and bin locations, packed shipments and their cartons.

Products' sizes (``routeplan_products``), the carton types of each site
(``routeplan_site_cartons``), bin locations (``routeplan_bins``), a committed plan's
shipments as picked and packed (``routeplan_pack_shipments``) and their cartons
(``routeplan_cartons``; see ``engine/picking/tables.py``).

Revision ID: 0006_pick_pack
Revises: 0005_tracking
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_pick_pack"
down_revision: str | Sequence[str] | None = "0005_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _catalogue() -> None:
    """Products, carton types and bins."""
    op.create_table(
        "routeplan_products",
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("length_mm", sa.Float(), nullable=False),
        sa.Column("width_mm", sa.Float(), nullable=False),
        sa.Column("height_mm", sa.Float(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "routeplan_site_cartons",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("type_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inner_length_mm", sa.Float(), nullable=False),
        sa.Column("inner_width_mm", sa.Float(), nullable=False),
        sa.Column("inner_height_mm", sa.Float(), nullable=False),
        sa.Column("max_weight_kg", sa.Float(), nullable=False),
        sa.Column("tare_weight_kg", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "type_id"),
    )
    op.create_table(
        "routeplan_bins",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("bin_location", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("site_id", "sku"),
    )


def _packing() -> None:
    """Shipments as picked and packed, and their cartons."""
    op.create_table(
        "routeplan_pack_shipments",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("shipment_id", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("picked_at", _TIME, nullable=True),
        sa.Column("picked_by", sa.String(length=128), nullable=True),
        sa.Column("cartonised_at", _TIME, nullable=True),
        sa.Column("carton_cost", sa.Float(), nullable=True),
        sa.Column("packed_at", _TIME, nullable=True),
        sa.Column("packed_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("plan_id", "shipment_id"),
    )
    op.create_table(
        "routeplan_cartons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("shipment_id", sa.String(length=200), nullable=False),
        sa.Column("carton_index", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.String(length=64), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("volume_l", sa.Float(), nullable=False),
        sa.Column("fill_share", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("tracking_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "plan_id", "shipment_id", "carton_index", name="uq_routeplan_cartons_shipment_index"
        ),
    )
    with op.batch_alter_table("routeplan_cartons", schema=None) as batch_op:
        batch_op.create_index("ix_routeplan_cartons_tracking", ["tracking_code"], unique=True)


def upgrade() -> None:
    """Make the catalogue's and the packing's tables."""
    _catalogue()
    _packing()


def downgrade() -> None:
    """Undo :func:`upgrade`."""
    with op.batch_alter_table("routeplan_cartons", schema=None) as batch_op:
        batch_op.drop_index("ix_routeplan_cartons_tracking")
    op.drop_table("routeplan_cartons")
    op.drop_table("routeplan_pack_shipments")
    op.drop_table("routeplan_bins")
    op.drop_table("routeplan_site_cartons")
    op.drop_table("routeplan_products")
