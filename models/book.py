"""The order book's contract: orders captured and their lifecycle, payments, sites, the stock
ledger, reservations, and plans made from the book and committed.

Ids in the book are strings (1 to 64 characters, no spaces, ``/``, ``?`` or ``#``, so that
they fit a URL path). An order's id is the caller's (unique per channel) or generated.
Quantities are whole units. Times are ISO 8601 date-times (UTC when no offset is given);
``delivery_windows`` are clock times, turned into seconds from the plan's day start when a
day is planned.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from models.allocation import AllocationOptions, CostSettings, SiteKind
from models.common import (
    MAX_COUNT,
    MAX_QUANTITY,
    Coordinate,
    Date,
    DateTime,
    Flag,
    Money,
    Seconds,
    StrictModel,
    TimeWindow,
    merge_windows,
)
from models.dispatch import RouteRef
from models.plan import FleetVehicle, PlanKpis, PlanOptions, PlanResult, Product
from models.status import HoldReason, OrderStatus, PaymentState, TransitionCause

#: An id in the book: a site, an order, a line, a sku.
BookId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[^\s/?#%\\]+$",
        strict=True,
        description="1 to 64 characters without spaces, '/', '?', '#', '%' or '\\'",
    ),
]
#: A channel name: ``api``, ``web``, ``marketplace``, ``phone``, ``store-csv``...
Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        strict=True,
        description="1 to 32 lower-case letters, digits, '_', '.' or '-'",
    ),
]
#: A free-text reference (a payment's, a movement's), at most 128 characters.
Reference = Annotated[str, Field(max_length=128, strict=True)]
#: A positive whole number of units.
PositiveUnits = Annotated[int, Field(ge=1, le=int(MAX_QUANTITY), strict=True)]
#: A whole number of units, 0 or more.
Units = Annotated[int, Field(ge=0, le=int(MAX_QUANTITY), strict=True)]


def _aware(value: dt.datetime) -> dt.datetime:
    """A date-time with its offset; one given without is taken as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


#: A date-time, given with an offset or taken as UTC.
AwareDateTime = Annotated[DateTime, AfterValidator(_aware)]


def _lon(value: float) -> float:
    if not -180 <= value <= 180:
        raise ValueError("a longitude is between -180 and 180 degrees")
    return value


def _lat(value: float) -> float:
    if not -90 <= value <= 90:
        raise ValueError("a latitude is between -90 and 90 degrees")
    return value


#: ``[lon, lat]`` in degrees.
LonLat = tuple[
    Annotated[Coordinate, AfterValidator(_lon)], Annotated[Coordinate, AfterValidator(_lat)]
]


# --------------------------------------------------------------------------- orders


class DeliveryWindow(StrictModel):
    """When the customer can receive the order: clock times, start before end."""

    start: AwareDateTime
    end: AwareDateTime

    @model_validator(mode="after")
    def _ordered(self) -> DeliveryWindow:
        if self.start > self.end:
            raise ValueError(f"the window starts after it ends: {self.start} > {self.end}")
        return self


class OrderLineIn(StrictModel):
    """One line of a captured order."""

    id: BookId
    sku: BookId
    quantity: PositiveUnits


#: What a payment may say at capture time.
CapturePayment = Literal["pending", "authorised", "captured"]


class OrderIn(StrictModel):
    """An order as a channel sends it (``POST /v1/orders``, one CSV order)."""

    id: BookId | None = Field(
        None, description="the caller's id, unique per channel; none = generated"
    )
    channel: Channel = "api"
    location: LonLat = Field(description="the customer's [lon, lat]")
    address: str | None = Field(None, max_length=500)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)
    placed_at: AwareDateTime | None = None
    promised_date: Date | None = None
    priority: int = Field(
        1, ge=0, le=MAX_COUNT, strict=True, description="higher is more important"
    )
    delivery_windows: list[DeliveryWindow] = Field(default_factory=list, max_length=50)
    service_s: Seconds | None = Field(None, description="hand-over time; none = the plan's default")
    ship_complete: Flag = False
    max_shipments: int | None = Field(None, ge=1, le=MAX_COUNT, strict=True)
    payment_status: CapturePayment = "pending"
    payment_reference: Reference | None = None
    payment_gateway: Annotated[str, Field(min_length=1, max_length=32)] = "manual"

    @field_validator("lines", mode="after")
    @classmethod
    def _unique_lines(cls, lines: list[OrderLineIn]) -> list[OrderLineIn]:
        seen: set[str] = set()
        for line in lines:
            if line.id in seen:
                raise ValueError(f"line id {line.id!r} is given twice")
            seen.add(line.id)
        return lines


class OrderLineRecord(StrictModel):
    """One line of a stored order, with what is reserved and shipped of it."""

    id: str
    sku: str
    quantity: int
    reserved: int = Field(description="units held by active reservations")
    shipped: int = Field(description="units shipped (reservations consumed)")


class OrderRecord(StrictModel):
    """An order of the book as it now is."""

    id: str
    channel: str
    status: OrderStatus
    hold_reason: HoldReason | None = None
    status_detail: str | None = Field(None, description="why it is held or backordered")
    warnings: list[str] = Field(default_factory=list)
    location: tuple[float, float]
    address: str | None = None
    lines: list[OrderLineRecord]
    placed_at: dt.datetime | None = None
    promised_date: dt.date | None = None
    priority: int
    delivery_windows: list[DeliveryWindow]
    service_s: float | None = None
    ship_complete: bool
    max_shipments: int | None = None
    payment_status: PaymentState
    payment_reference: str | None = None
    payment_gateway: str
    plan_id: str | None = Field(None, description="the committed plan that allocated it")
    site_ids: list[str] = Field(default_factory=list, description="sites holding its stock")
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = None


class OrderPage(StrictModel):
    """One page of orders; ``next_cursor`` fetches the next (none: the last page)."""

    orders: list[OrderRecord]
    next_cursor: str | None = None


class Transition(StrictModel):
    """One change of an order's state, as stored."""

    at: dt.datetime
    from_status: OrderStatus | None
    to_status: OrderStatus
    cause: TransitionCause
    actor: str | None = None
    reason: str | None = None


class OrderHistory(StrictModel):
    """Every transition of one order, oldest first."""

    order_id: str
    channel: str
    transitions: list[Transition]


class PaymentUpdate(StrictModel):
    """What the gateway says of an order's payment (``POST /v1/orders/{id}/payment``)."""

    status: Literal["authorised", "declined", "captured", "refunded"]
    reference: Reference | None = None


class StatusChange(StrictModel):
    """A state asked for directly (``POST /v1/orders/{id}/status``), checked by the table."""

    status: OrderStatus
    reason: Annotated[str, Field(max_length=500)] | None = None


class CancelRequest(StrictModel):
    """Why an order is cancelled (optional)."""

    reason: Annotated[str, Field(max_length=500)] | None = None


# --------------------------------------------------------------------------- import


class ImportRowError(StrictModel):
    """One problem of an imported file: row (1 = the header), column, value and why."""

    row: int
    column: str | None = None
    value: str | None = None
    message: str
    order_id: str | None = None


class ImportReport(StrictModel):
    """What an import did: orders stored, orders refused with their rows' problems."""

    mode: Literal["all_or_nothing", "per_row"]
    orders_read: int
    orders_stored: int
    orders_replayed: int = Field(0, description="already in the book with the same content")
    orders_refused: int
    errors: list[ImportRowError]
    order_ids: list[str] = Field(description="the ids of the orders stored, in file order")


# --------------------------------------------------------------------------- sites and stock


class SiteIn(StrictModel):
    """A site as ``PUT /v1/sites/{id}`` takes it."""

    kind: SiteKind = "warehouse"
    location: LonLat
    capacity_orders: Units | None = Field(None, description="orders per day; none = unlimited")
    capacity_units: Units | None = Field(None, description="units per day; none = unlimited")
    handling_cost_per_unit: Money | None = None
    opening_hours: list[TimeWindow] = Field(
        default_factory=list,
        max_length=20,
        description="seconds from the day start; [] = always open. Vans without a shift "
        "of their own work within these hours",
    )
    online: Flag = True
    channels: list[Channel] = Field(default_factory=list, description="[] = every channel")

    @model_validator(mode="after")
    def _merge(self) -> SiteIn:
        self.opening_hours = merge_windows(self.opening_hours)
        return self


class SiteRecord(SiteIn):
    """A stored site."""

    id: str
    created_at: dt.datetime
    updated_at: dt.datetime


MovementKind = Literal["receipt", "adjustment", "count"]


class StockMovementIn(StrictModel):
    """A change of stock: ``receipt`` adds units (more than 0), ``adjustment`` adds or
    removes them (not 0), ``count`` says how many are on hand now (0 or more)."""

    site_id: BookId
    sku: BookId
    kind: MovementKind
    quantity: int = Field(ge=-int(MAX_QUANTITY), le=int(MAX_QUANTITY), strict=True)
    reference: Reference | None = None

    @field_validator("quantity", mode="after")
    @classmethod
    def _sign(cls, quantity: int, info: ValidationInfo) -> int:
        kind = info.data.get("kind")
        if kind == "receipt" and quantity <= 0:
            raise ValueError(f"a receipt adds units: {quantity} must be above 0")
        if kind == "adjustment" and quantity == 0:
            raise ValueError("an adjustment of 0 units changes nothing")
        if kind == "count" and quantity < 0:
            raise ValueError(f"a count is 0 or more units, not {quantity}")
        return quantity


class StockMovement(StrictModel):
    """One entry of the append-only ledger."""

    id: int
    site_id: str
    sku: str
    kind: Literal["receipt", "adjustment", "count", "shipment"]
    quantity: int = Field(description="as given (for a count: the units counted)")
    delta: int = Field(description="the change of on hand")
    on_hand_after: int
    reference: str | None = None
    order_id: str | None = None
    at: dt.datetime
    actor: str | None = None


class StockLevel(StrictModel):
    """Stock of one sku at one site: ``available = on_hand - reserved - safety_stock``,
    never below 0."""

    site_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class StockPage(StrictModel):
    """Stock levels, by site and sku."""

    levels: list[StockLevel]


class SafetyStockIn(StrictModel):
    """Units of a sku a site keeps back (``PUT /v1/stock/{site_id}/{sku}/safety``)."""

    safety_stock: Units


# --------------------------------------------------------------------------- reservations


class ReservationIn(StrictModel):
    """Hold units of a site's stock for an order line."""

    order_id: BookId
    channel: Channel | None = Field(None, description="needed when the id is in several channels")
    line_id: BookId
    site_id: BookId
    sku: BookId
    quantity: PositiveUnits


ReservationStatus = Literal["active", "released", "consumed"]


class Reservation(StrictModel):
    """Units held for an order line (active), given back (released) or shipped (consumed)."""

    id: str
    order_id: str
    channel: str
    line_id: str
    site_id: str
    sku: str
    quantity: int
    status: ReservationStatus
    plan_id: str | None = None
    created_at: dt.datetime
    ended_at: dt.datetime | None = None
    created_by: str | None = None


# --------------------------------------------------------------------------- plans


class BookSelection(StrictModel):
    """Which part of the book a plan takes: the ready (and backordered) orders due on
    ``date``, shipped from ``site_ids`` (none = every site)."""

    date: Date
    site_ids: list[BookId] | None = Field(None, min_length=1)
    channels: list[Channel] | None = Field(None, min_length=1, description="none = every channel")


class BookPlanRequest(StrictModel):
    """``POST /v1/plans`` from the book: orders, sites and stock come from the database."""

    from_book: BookSelection
    fleet: list[FleetVehicle] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    day_start: AwareDateTime | None = Field(None, description="default: the date at 00:00 UTC")
    costs: CostSettings = Field(default_factory=CostSettings)
    allocation_options: AllocationOptions = Field(default_factory=AllocationOptions)
    options: PlanOptions = Field(default_factory=PlanOptions)


class BookOrderRef(StrictModel):
    """Which order of the book a plan's order id stands for."""

    plan_order_id: str
    channel: str
    order_id: str


PlanState = Literal["draft", "committed", "superseded"]


class PlanRecord(PlanResult):
    """A stored plan: the day's plan with its id, state and origin."""

    id: str
    status: PlanState
    source: Literal["book", "request", "replan"]
    plan_date: dt.date | None = None
    created_at: dt.datetime
    committed_at: dt.datetime | None = None
    created_by: str | None = None
    book_orders: list[BookOrderRef] = Field(default_factory=list)
    routes: list[RouteRef] = Field(
        default_factory=list, description="a committed plan's van routes, to dispatch"
    )


class PlanSummary(StrictModel):
    """A stored plan in a list: its state, origin, day and KPIs (no routes)."""

    id: str
    status: PlanState
    source: Literal["book", "request", "replan"]
    plan_date: dt.date | None = None
    created_at: dt.datetime
    committed_at: dt.datetime | None = None
    kpis: PlanKpis


class PlanPage(StrictModel):
    """Stored plans, newest first; ``next_cursor`` asks for the next page."""

    plans: list[PlanSummary]
    next_cursor: str | None = None


class CommittedOrder(StrictModel):
    """What a commit did to one order."""

    order_id: str
    channel: str
    status: OrderStatus
    detail: str | None = None


class CommitResult(StrictModel):
    """A committed plan: its reservations, allocated and backordered orders."""

    plan_id: str
    status: PlanState
    reservations: int
    units_reserved: int
    orders: list[CommittedOrder]


__all__ = [
    "BookId",
    "BookPlanRequest",
    "HoldReason",
    "OrderIn",
    "OrderRecord",
    "OrderStatus",
    "PaymentState",
    "PlanRecord",
    "TransitionCause",
]
