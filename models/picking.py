"""The pick-and-pack contract: the catalogue (product sizes, each site's carton types and bin
locations), a committed plan's pick list, its shipments' cartons and labels, and the marks
that move an order from ``allocated`` to ``picking`` to ``packed``.

Units as in :mod:`models.packing`: lengths in millimetres (``_mm``), weights in kilograms
(``_kg``), volumes in litres (``_l``), money in the plan's currency. A shipment's id is
``<plan order id>@<site id>``, the id of its stop on a van route.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from models.book import BookId
from models.common import StrictModel, TimeLimit
from models.packing import CartonType, FillFactor, Kilograms, Millimetres, PackStatus
from models.status import OrderStatus

#: The most carton types a site may stock.
MAX_SITE_CARTON_TYPES = 50
#: The most bins one call may set.
MAX_BINS_PER_CALL = 10_000

#: A sku as the catalogue keeps it (as the order book spells skus).
Sku = BookId
#: A bin location code (``A-01-3``): letters, digits and ``-_./ ``, 1 to 64 characters.
BinCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_./ ]*$")
]


class ProductSizeIn(StrictModel):
    """One unit of a sku as it is packed: its outer box and weight."""

    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres
    weight_kg: Kilograms


class ProductSize(ProductSizeIn):
    """A sku's size as stored."""

    sku: str
    updated_at: dt.datetime


class ProductList(StrictModel):
    """Every sku with a size, by sku."""

    products: list[ProductSize]


class SiteCartons(StrictModel):
    """The carton types a site stocks (empty: the site packs without cartonisation)."""

    site_id: str
    carton_types: list[CartonType]


class BinIn(StrictModel):
    """Where one sku sits in a site."""

    sku: Sku
    bin_location: BinCode


class SiteBins(StrictModel):
    """A site's bin locations, by sku."""

    site_id: str
    bins: list[BinIn]


class PickLine(StrictModel):
    """Units of one order line to pick, and where they sit."""

    order_id: str = Field(description="the book's order id")
    channel: str
    line_id: str
    sku: str
    units: int
    bin_location: str | None = Field(None, description="null when the site names no bin")


class PickStop(StrictModel):
    """One shipment to pick: its stop on a van route (or none, by carrier) and its lines."""

    shipment_id: str = Field(description="'<plan order id>@<site id>', the route's stop id")
    order_id: str
    channel: str
    order_status: OrderStatus
    mode: Literal["van", "carrier", "unrouted"]
    position: int | None = Field(None, description="the stop's place on its van route, from 1")
    lines: list[PickLine]


class SkuTotal(StrictModel):
    """Units of one sku in a group."""

    sku: str
    units: int


class PickGroup(StrictModel):
    """What one van loads (last stop first), or the site's carrier shipments."""

    kind: Literal["van", "carrier"]
    vehicle_id: str | None = None
    route_id: str | None = None
    stops: list[PickStop] = Field(
        description="a van's in loading order: its last stop first; within a stop, by bin"
    )
    totals: list[SkuTotal] = Field(description="units per sku, by sku")


class PickList(StrictModel):
    """A committed plan's pick list at one site: a group per van, then the carrier group."""

    plan_id: str
    site_id: str
    groups: list[PickGroup]
    units: int


class PackIn(StrictModel):
    """Which shipments of the site to cartonise, and how long the search may take."""

    shipment_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = (
        Field(None, max_length=1000, description="default: every shipment of the site")
    )
    time_limit_s: TimeLimit = Field(2.0, description="for the whole call, shared by shipments")
    fill_factor: FillFactor = Field(
        1.0, description="share of a carton's inner volume the units' volumes may take"
    )


class CartonItem(StrictModel):
    """Units of one sku in one carton."""

    sku: str
    quantity: int


class CartonRecord(StrictModel):
    """One packed carton of a shipment."""

    carton_index: int = Field(description="n of 'carton n of m', from 1")
    type_id: str
    items: list[CartonItem]
    weight_kg: float = Field(description="gross: the units and the carton's tare")
    volume_l: float = Field(description="the units' volumes")
    fill_share: float = Field(description="the units' volume over the carton's inner volume")
    cost: float
    tracking_code: str


class ShipmentPacking(StrictModel):
    """A shipment's cartons and what it costs with them."""

    shipment_id: str
    order_id: str
    channel: str
    status: PackStatus = Field(description="optimal: no packing costs less")
    cartons: list[CartonRecord]
    cartons_count: int
    carton_cost: float
    shipment_cost: float = Field(description="the plan's cost of the shipment (no cartons)")
    total_cost: float = Field(description="shipment_cost + carton_cost")


class PackOutcome(StrictModel):
    """The cartons of the packed shipments of one site."""

    plan_id: str
    site_id: str
    shipments: list[ShipmentPacking]
    carton_cost: float
    cartons_count: int


class ShipmentMark(StrictModel):
    """A shipment after ``picked`` or ``packed``: its order's state now."""

    plan_id: str
    shipment_id: str
    order_id: str
    channel: str
    order_status: OrderStatus
    picked_at: dt.datetime | None = None
    packed_at: dt.datetime | None = None
    cartons_count: int


class CartonLabel(StrictModel):
    """What one carton's label says."""

    plan_id: str
    shipment_id: str
    order_id: str
    channel: str
    site_id: str
    mode: Literal["van", "carrier", "unrouted"]
    vehicle_id: str | None = None
    stop_position: int | None = Field(None, description="the stop's place on its van route")
    carton_index: int
    cartons_count: int
    type_id: str
    weight_kg: float
    tracking_code: str
    address: str | None = None


class ShipmentLabels(StrictModel):
    """The labels of a shipment, one per carton, in carton order."""

    labels: list[CartonLabel]
