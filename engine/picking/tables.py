"""The tables of pick and pack (SQLAlchemy Core); made by the migration ``0006_pick_pack``.

- ``routeplan_products``: each sku's outer box (mm) and weight (kg), for cartonisation.
- ``routeplan_site_cartons``: the carton types each site stocks, in the order given.
- ``routeplan_bins``: where each sku sits in a site (its bin location code).
- ``routeplan_pack_shipments``: a committed plan's shipment (``<plan order id>@<site id>``)
  as the floor sees it: when it was picked, cartonised and packed, its carton cost.
- ``routeplan_cartons``: the cartons a shipment was packed into, each with its type, units,
  gross weight, fill, cost and a random tracking code (unique).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from engine.db.schema import JSON_DOCUMENT as _JSON
from engine.db.schema import METADATA

_TIME = DateTime(timezone=True)

products = Table(
    "routeplan_products",
    METADATA,
    Column("sku", String(128), primary_key=True),
    Column("length_mm", Float, nullable=False),
    Column("width_mm", Float, nullable=False),
    Column("height_mm", Float, nullable=False),
    Column("weight_kg", Float, nullable=False),
    Column("updated_at", _TIME, nullable=False),
)

site_cartons = Table(
    "routeplan_site_cartons",
    METADATA,
    Column("site_id", String(64), primary_key=True),
    Column("type_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("inner_length_mm", Float, nullable=False),
    Column("inner_width_mm", Float, nullable=False),
    Column("inner_height_mm", Float, nullable=False),
    Column("max_weight_kg", Float, nullable=False),
    Column("tare_weight_kg", Float, nullable=False),
    Column("cost", Float, nullable=False),
)

bins = Table(
    "routeplan_bins",
    METADATA,
    Column("site_id", String(64), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("bin_location", String(64), nullable=False),
    Column("updated_at", _TIME, nullable=False),
)

pack_shipments = Table(
    "routeplan_pack_shipments",
    METADATA,
    Column("plan_id", String(36), primary_key=True),
    Column("shipment_id", String(200), primary_key=True),
    Column("site_id", String(64), nullable=False),
    Column("order_seq", Integer, nullable=False),
    Column("picked_at", _TIME),
    Column("picked_by", String(128)),
    Column("cartonised_at", _TIME),
    Column("carton_cost", Float),
    Column("packed_at", _TIME),
    Column("packed_by", String(128)),
)

cartons = Table(
    "routeplan_cartons",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(36), nullable=False),
    Column("shipment_id", String(200), nullable=False),
    Column("carton_index", Integer, nullable=False),
    Column("type_id", String(64), nullable=False),
    Column("items", _JSON, nullable=False),
    Column("weight_kg", Float, nullable=False),
    Column("volume_l", Float, nullable=False),
    Column("fill_share", Float, nullable=False),
    Column("cost", Float, nullable=False),
    Column("tracking_code", String(32), nullable=False),
    Column("created_at", _TIME, nullable=False),
    UniqueConstraint(
        "plan_id", "shipment_id", "carton_index", name="uq_routeplan_cartons_shipment_index"
    ),
    Index("ix_routeplan_cartons_tracking", "tracking_code", unique=True),
)
