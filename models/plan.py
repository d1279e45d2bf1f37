"""The day-plan contract: orders, stock, sites and fleet in; shipments, routes and ETAs out.

A plan allocates the day's orders to sites (see :mod:`models.allocation`), then routes the
shipments that a site's own vans deliver (see :mod:`models.routing`). Shipments farther than
``local_radius_km`` from their site, or from a site without vans, go by carrier.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from models.allocation import (
    AllocationOptions,
    AllocationRequest,
    AllocationResult,
    CostSettings,
    Order,
    ShipmentLine,
    Site,
    StockRecord,
)
from models.common import (
    MAX_QUANTITY,
    Coordinates,
    Date,
    DateTime,
    Flag,
    Seconds,
    StrictModel,
    TimeLimit,
    TimeWindow,
    merge_windows,
)
from models.matrices import MatrixSpec
from models.replan import ReplanInfo
from models.routing import Id, RoutingResult, Vehicle


class Product(StrictModel):
    """Size of one unit of a sku, for the vans' capacities."""

    sku: str
    weight_kg: float = Field(
        0.0, ge=0, le=1e6, allow_inf_nan=False, strict=True, description="kg, 0 to 1e6"
    )
    volume_l: float = Field(
        0.0, ge=0, le=1e6, allow_inf_nan=False, strict=True, description="litres, 0 to 1e6"
    )


class FleetVehicle(Vehicle):
    """A van based at a site; with no start and end given, it starts and ends there."""

    site_id: Id


class OrderDelivery(StrictModel):
    """When an order's customer can receive it today, and how long handing over takes."""

    order_id: Id
    time_windows: list[TimeWindow] = Field(default_factory=list)
    service_s: Seconds | None = None

    @model_validator(mode="after")
    def _merge(self) -> OrderDelivery:
        self.time_windows = merge_windows(self.time_windows)
        return self


#: How a pickup's stop id begins: ``return:<return id>@<site id>``.
PICKUP_STOP_PREFIX = "return:"


class PickupLine(ShipmentLine):
    """Units of one order line going back."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=int(MAX_QUANTITY), strict=True)


class PlanPickup(StrictModel):
    """A return to collect: a pickup stop on a van of ``site_id``, its load the lines'
    weight and volume (the sizes of ``products``, as deliveries have)."""

    id: Id = Field(description="the return's id")
    order_id: Id = Field(description="the order it returns")
    site_id: Id
    location: Coordinates
    lines: list[PickupLine] = Field(min_length=1, max_length=500)
    time_windows: list[TimeWindow] = Field(default_factory=list)
    service_s: Seconds | None = None

    @model_validator(mode="after")
    def _merge(self) -> PlanPickup:
        self.time_windows = merge_windows(self.time_windows)
        return self

    @property
    def stop_id(self) -> str:
        """The routing stop's id."""
        return f"{PICKUP_STOP_PREFIX}{self.id}@{self.site_id}"


class PlanOptions(StrictModel):
    """How the day is planned."""

    local_radius_km: float = Field(
        50.0,
        ge=0,
        le=1000,
        allow_inf_nan=False,
        strict=True,
        description="vans deliver shipments up to this far from the site",
    )
    default_service_s: Seconds = Field(300.0, description="hand-over time per delivery")
    default_time_windows: list[TimeWindow] = Field(
        default_factory=list, description="delivery windows of orders without their own"
    )
    routing_time_limit_s: TimeLimit = Field(10.0, description="per site")
    parallel: Flag = Field(True, description="route the sites in parallel processes")
    matrix: MatrixSpec | None = Field(None, description="travel matrices; default haversine")
    geometry: Flag | None = Field(
        None,
        description="each route's path as routes[].geometry (see RoutingOptions.geometry); "
        "null: with road matrices (the osm provider) only",
    )


class PlanRequest(StrictModel):
    """Everything needed to plan a day."""

    plan_date: Date | None = None
    day_start: DateTime | None = Field(None, description="clock time of second 0 of the day")
    sites: list[Site]
    stock: list[StockRecord]
    orders: list[Order]
    skus: list[str] | None = None
    products: list[Product] = Field(default_factory=list)
    fleet: list[FleetVehicle] = Field(default_factory=list)
    deliveries: list[OrderDelivery] = Field(default_factory=list)
    pickups: list[PlanPickup] = Field(
        default_factory=list, description="returns to collect on the vans' routes"
    )
    costs: CostSettings = Field(default_factory=CostSettings)
    allocation_options: AllocationOptions = Field(default_factory=AllocationOptions)
    options: PlanOptions = Field(default_factory=PlanOptions)

    @model_validator(mode="after")
    def _references(self) -> PlanRequest:
        sites = {s.id for s in self.sites}
        for i, vehicle in enumerate(self.fleet):
            if vehicle.site_id not in sites:
                raise ValueError(f"fleet[{i}].site_id = {vehicle.site_id!r} is not a known site")
        for i, pickup in enumerate(self.pickups):
            if pickup.site_id not in sites:
                raise ValueError(f"pickups[{i}].site_id = {pickup.site_id!r} is not a known site")
        returns = [str(p.id) for p in self.pickups]
        duplicated = sorted({x for x in returns if returns.count(x) > 1})
        if duplicated:
            raise ValueError(f"duplicate pickups ids: {duplicated}")
        ids = [v.id for v in self.fleet]
        duplicated = sorted({str(x) for x in ids if ids.count(x) > 1})
        if duplicated:
            raise ValueError(f"duplicate fleet ids: {duplicated}")
        skus = [p.sku for p in self.products]
        duplicated = sorted({x for x in skus if skus.count(x) > 1})
        if duplicated:
            raise ValueError(f"duplicate products skus: {duplicated}")
        return self

    def allocation_request(self) -> AllocationRequest:
        """The allocation part of the plan."""
        return AllocationRequest(
            plan_date=self.plan_date,
            sites=self.sites,
            stock=self.stock,
            orders=self.orders,
            skus=self.skus,
            costs=self.costs,
            options=self.allocation_options,
        )


DeliveryMode = Literal["van", "carrier", "unrouted"]


class PlannedShipment(StrictModel):
    """One shipment of the plan and how, and when, it reaches the customer."""

    order_id: Id
    site_id: Id
    lines: list[ShipmentLine]
    mode: DeliveryMode = Field(
        description="van: on a route today; carrier: parcel service; unrouted: see unassigned"
    )
    vehicle_id: Id | None = None
    eta_s: float | None = Field(None, description="service start, seconds from the day start")
    eta_time: dt.datetime | None = None
    weight_kg: float
    volume_l: float
    distance_km: float
    promised_date: dt.date | None = None
    expected_date: dt.date
    on_time: bool


class SiteRoutes(StrictModel):
    """The routes of one site's vans."""

    site_id: Id
    routing: RoutingResult


class PlanUnassigned(StrictModel):
    """Something the plan could not do: an order line not allocated, a shipment not routed,
    or a return's pickup not routed (``return_id`` set)."""

    stage: Literal["allocation", "routing"]
    order_id: Id
    line_id: Id | None = None
    site_id: Id | None = None
    return_id: Id | None = None
    reason: str
    message: str


class PlanKpis(StrictModel):
    """Headline figures of the day."""

    cost: float = Field(description="carrier shipping + handling of van deliveries + routes")
    carrier_cost: float
    routing_cost: float
    distance_m: float
    vehicles_used: int
    orders: int
    orders_complete: int
    shipments: int
    shipments_by_van: int
    shipments_by_carrier: int
    splits: int
    on_time_share: float = Field(description="shipments expected by their promised date")


class PlanResult(StrictModel):
    """The day's plan: shipments with ETAs, routes per site, what was left out, and KPIs."""

    kpis: PlanKpis
    shipments: list[PlannedShipment]
    sites: list[SiteRoutes]
    unassigned: list[PlanUnassigned]
    allocation: AllocationResult
    day_start: dt.datetime | None = None
    replan: ReplanInfo | None = Field(
        None, description="a re-plan's own account: the replaced plan, locks, diff, check"
    )
