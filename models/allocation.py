"""The allocation contract: sites, stock, orders and cost settings in; shipments and reasons out.

Units: coordinates are ``[lon, lat]``; distances in km; money in the request's currency;
quantities in whole units. Ids are the caller's own and come back as given.

Orders are accepted loosely on purpose (a quantity of 0, a missing location): the engine
checks each order and gives a failed one the reason ``invalid_order``, so that one bad order
never rejects the others.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from models.common import (
    MAX_COUNT,
    MAX_METRES,
    MAX_QUANTITY,
    Coordinates,
    Date,
    Flag,
    Money,
    StrictModel,
    TimeLimit,
)
from models.routing import Id
from models.status import MipBackend, UnfulfilledReason
from models.verdict import Verdict

SiteKind = Literal["warehouse", "store"]
PaymentStatus = Literal["authorised", "pending", "declined", "failed"]
SlaMode = Literal["hard", "soft", "off"]
Method = Literal["mip", "greedy_nearest", "greedy_fewest_splits"]
#: The MIP's model (as ``solvers.allocation.mip.params.MipStrategy``): exact, pattern, or auto.
MipStrategy = Literal["auto", "exact", "pattern"]

#: Whole units of stock or capacity, 0 to 1e9.
Units = Annotated[int, Field(ge=0, le=int(MAX_QUANTITY), strict=True)]
#: A distance in km, 0 to 1e5 (the contract's longest distance).
Km = Annotated[
    float,
    Field(ge=0, le=MAX_METRES / 1000, allow_inf_nan=False, strict=True, description="km"),
]


class Site(StrictModel):
    """A warehouse or store that can ship orders.

    ``kind`` sets the site's handling cost per unit when ``handling_cost_per_unit`` is not
    given: ``costs.handling_per_unit_by_kind`` (picking in a store costs more than in a
    warehouse by default, so stores ship when they are worth it).
    """

    id: Id
    kind: SiteKind = "warehouse"
    location: Coordinates = Field(description="[lon, lat]")
    capacity_orders: Units | None = Field(None, description="orders per day; None = unlimited")
    capacity_units: Units | None = Field(None, description="units per day; None = unlimited")
    handling_cost_per_unit: Money | None = Field(
        None, description="per unit shipped; None = costs.handling_per_unit_by_kind[kind]"
    )
    online: Flag = Field(True, description="an offline site ships nothing today")
    channels: list[str] = Field(default_factory=list, description="channels served; [] = all")


class StockRecord(StrictModel):
    """Stock of one sku at one site; only ``on_hand - safety_stock`` may be allocated."""

    site_id: Id
    sku: str
    on_hand: Units
    safety_stock: Units = 0


class OrderLine(StrictModel):
    """One line of an order: a sku and a quantity (checked to be positive by the engine)."""

    id: Id
    sku: str
    quantity: int = Field(ge=-int(MAX_QUANTITY), le=int(MAX_QUANTITY), strict=True)


class Order(StrictModel):
    """A released order to allocate."""

    id: Id
    channel: str = "online"
    location: Coordinates | None = Field(None, description="customer [lon, lat]")
    created_date: Date | None = None
    promised_date: Date | None = None
    priority: int = Field(
        1, ge=0, le=MAX_COUNT, strict=True, description="higher is more important"
    )
    payment_status: PaymentStatus = "authorised"
    ship_complete: Flag = False
    max_shipments: int | None = Field(
        None, ge=1, le=MAX_COUNT, strict=True, description="None = no limit"
    )
    lines: list[OrderLine]

    @field_validator("payment_status", mode="before")
    @classmethod
    def _spelling(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return {"authorized": "authorised", "paid": "authorised", "": "authorised"}.get(
                value, value
            )
        return value


class DistanceBand(StrictModel):
    """Shipping price for shipments up to ``max_km``."""

    max_km: Km
    fixed: Money = 0.0
    per_unit: Money = 0.0


class ShippingCost(StrictModel):
    """Cost of one shipment: ``fixed + per_km * km + per_unit * units`` unless bands are given.

    With ``bands``, the first band whose ``max_km`` covers the distance sets the fixed and
    per-unit price (``per_km`` still applies); beyond the last band the last one is used.
    Bands are kept sorted by ``max_km`` (in any order given; ``[]`` = no bands).
    """

    fixed: Money = 8.0
    per_km: Money = 0.02
    per_unit: Money = 1.0
    bands: list[DistanceBand] = Field(
        default_factory=list, description="any order (sorted by max_km); [] = no bands"
    )

    @field_validator("bands", mode="after")
    @classmethod
    def _sorted(cls, bands: list[DistanceBand]) -> list[DistanceBand]:
        return sorted(bands, key=lambda b: b.max_km)


class TransitBand(StrictModel):
    """Transit time in days for shipments up to ``max_km``."""

    max_km: Km
    days: Annotated[int, Field(ge=0, le=3650, strict=True, description="0 to 3650")]


def _default_transit() -> list[TransitBand]:
    return [
        TransitBand(max_km=50, days=1),
        TransitBand(max_km=300, days=2),
        TransitBand(max_km=1000, days=4),
        TransitBand(max_km=2500, days=7),
        TransitBand(max_km=10000, days=10),
    ]


def _default_handling() -> dict[SiteKind, float]:
    return {"warehouse": 0.0, "store": 0.5}


class CostSettings(StrictModel):
    """What the allocation minimises.

    A unit left unfulfilled costs its priority's penalty plus, unless ``drop_uneconomic``,
    the dearest one-unit shipment any eligible site could make of its order (fixed, distance,
    lateness, per unit, handling and a split): then leaving a unit out always costs more than
    shipping it from anywhere, so lateness or distance never cause a drop, and the priority
    penalties alone decide which orders get scarce stock or capacity. With
    ``drop_uneconomic`` the penalty is the priority's plus the line's unavoidable lateness
    (its least late eligible site's), so a line may be left out as ``uneconomic``.
    """

    shipping: ShippingCost = Field(default_factory=ShippingCost)
    split_penalty: Money = Field(2.0, description="per shipment beyond an order's first")
    unfulfilled_penalty: dict[int, Money] = Field(
        default_factory=lambda: {0: 30.0, 1: 60.0, 2: 120.0, 3: 250.0},
        description="per unit left unfulfilled, by order priority",
    )
    unfulfilled_penalty_default: Money = Field(
        60.0, description="per unit, for priorities missing from unfulfilled_penalty"
    )
    drop_uneconomic: Flag = Field(
        False,
        description=(
            "false: every line some site can ship is shipped, and the penalties only rank "
            "orders that compete for stock or capacity; true: a line whose shipping costs "
            "more than its penalty is left unfulfilled as uneconomic"
        ),
    )
    lateness_penalty_per_day: Money = Field(5.0, description="per shipment and day late (soft)")
    transit: list[TransitBand] = Field(
        default_factory=_default_transit,
        min_length=1,
        description="at least one band, in any order (sorted by max_km)",
    )
    sla: SlaMode = Field(
        "soft", description="hard: a site that would deliver late is ineligible; soft: penalty"
    )
    handling_per_unit_by_kind: dict[SiteKind, Money] = Field(
        default_factory=_default_handling,
        description="handling per unit for sites that give none, by site kind",
    )

    @field_validator("transit", mode="after")
    @classmethod
    def _transit_sorted(cls, transit: list[TransitBand]) -> list[TransitBand]:
        return sorted(transit, key=lambda b: b.max_km)

    def handling_for(self, site: Site) -> float:
        """Handling cost per unit at ``site``: its own, else its kind's default."""
        if site.handling_cost_per_unit is not None:
            return site.handling_cost_per_unit
        return self.handling_per_unit_by_kind.get(site.kind, 0.0)

    def penalty_for(self, priority: int) -> float:
        """Unfulfilled penalty per unit for an order of this priority."""
        return self.unfulfilled_penalty.get(priority, self.unfulfilled_penalty_default)


class AllocationOptions(StrictModel):
    """How to solve."""

    method: Method = "mip"
    time_limit_s: TimeLimit = 10.0
    relative_gap: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False, strict=True)] = 0.001
    candidates_per_line: Annotated[int, Field(ge=1, le=1000, strict=True)] = 3
    backend: MipBackend = "highs"
    lp_fix: Flag = Field(
        True, description="solve the LP, then MIPs around its fractional orders (HiGHS/SCIP)"
    )
    strategy: MipStrategy = Field(
        "auto",
        description="exact: the MIP over every arc (HiGHS); pattern: the pruned pattern MIP; "
        "auto: exact when small enough (and backend highs), else pattern",
    )
    explain: Flag = True
    compare_greedy: Flag = True

    @model_validator(mode="after")
    def _exact_needs_highs(self) -> AllocationOptions:
        if self.strategy == "exact" and self.backend != "highs":
            raise ValueError(
                f"strategy 'exact' runs on HiGHS only, but backend is {self.backend!r}: use "
                "backend 'highs' or strategy 'auto'/'pattern'"
            )
        return self


class AllocationRequest(StrictModel):
    """The day's released orders against stock at sites."""

    plan_date: Date | None = Field(None, description="ship date; default: today")
    sites: list[Site]
    stock: list[StockRecord]
    orders: list[Order]
    skus: list[str] | None = Field(None, description="the catalogue; default: skus in stock")
    costs: CostSettings = Field(default_factory=CostSettings)
    options: AllocationOptions = Field(default_factory=AllocationOptions)


# ----------------------------------------------------------------------------- result


class ShipmentLine(StrictModel):
    """Units of one order line in a shipment."""

    line_id: Id
    sku: str
    quantity: int


class CostBreakdown(StrictModel):
    """The cost of a shipment (or a total), by kind."""

    fixed: float = 0.0
    distance: float = 0.0
    units: float = 0.0
    handling: float = 0.0
    lateness: float = 0.0
    split: float = 0.0

    @property
    def total(self) -> float:
        """Sum of all parts."""
        return self.fixed + self.distance + self.units + self.handling + self.lateness + self.split


class SiteShipment(StrictModel):
    """One parcel: an order's lines shipped from one site."""

    order_id: Id
    site_id: Id
    lines: list[ShipmentLine]
    distance_km: float
    cost: CostBreakdown
    cost_total: float
    promised_date: dt.date | None = None
    expected_date: dt.date
    days_late: int = 0


class UnfulfilledLine(StrictModel):
    """Units of an order line that no site ships, and why."""

    order_id: Id
    line_id: Id | None = None
    sku: str | None = None
    quantity: int = 0
    reason: UnfulfilledReason
    detail: str = ""
    penalty: float = 0.0


class Alternative(StrictModel):
    """The next-best way to serve an order, and what it would cost more."""

    site_ids: list[Id]
    cost_total: float
    extra_cost: float
    note: str = ""


class OrderExplanation(StrictModel):
    """Why an order ships the way it does."""

    order_id: Id
    status: Literal["allocated", "partial", "unfulfilled"]
    site_ids: list[Id]
    cost: CostBreakdown
    cost_total: float
    unfulfilled_penalty: float = 0.0
    next_best: Alternative | None = None
    excluded: dict[str, int] = Field(
        default_factory=dict, description="sites ruled out, counted by reason"
    )


class SiteLoad(StrictModel):
    """What a site ships, against its capacity."""

    site_id: Id
    orders: int
    units: int
    capacity_orders: int | None
    capacity_units: int | None


class Totals(StrictModel):
    """Headline figures."""

    orders: int
    orders_allocated: int
    orders_partial: int
    orders_unfulfilled: int
    lines: int
    units_requested: int
    units_shipped: int
    shipments: int
    splits: int
    shipping_cost: float
    unfulfilled_penalty: float
    objective: float


class AllocationStats(StrictModel):
    """How the plan was found."""

    method: str
    backend: str | None = None
    status: str = Field(
        description="how the solver ended on its (pruned, pattern) model; `gap` says how far "
        "the plan is proven from the true optimum"
    )
    objective: float
    bound: float | None = Field(
        None,
        description="valid lower bound of the true optimum: the LP relaxation of the full model "
        "(every eligible arc, no patterns); None when it was not computed (too many arcs or "
        "out of time). The pattern model's own bound is details['pattern_bound']",
    )
    gap: float | None = Field(
        None,
        description="(objective - bound) / |objective|, proven against a valid lower bound (LP "
        "relaxation of the full model); None when no valid bound was computed",
    )
    solve_time_s: float
    details: dict[str, float] = Field(
        default_factory=dict,
        description="solver figures: step times (bound_s: the valid bound's LP), model sizes, "
        "bound_arcs (eligible arcs), pattern_bound (bound of the pruned model only)",
    )


class BaselineSummary(StrictModel):
    """A greedy baseline run on the same input."""

    method: str
    objective: float
    shipments: int
    splits: int
    units_shipped: int
    solve_time_s: float


class AllocationEvaluation(Verdict):
    """The independent checker's verdict on an allocation, with the totals it recomputed.

    Its violations name the order, the line and the site they concern.
    """

    cost: float = Field(description="recomputed objective: shipping cost plus penalties")
    shipping_cost: float
    unfulfilled_penalty: float
    units_shipped: int
    shipments: int
    splits: int


class AllocationResult(StrictModel):
    """Shipments, unfulfilled lines with reasons, loads, totals and solve facts."""

    shipments: list[SiteShipment]
    unfulfilled: list[UnfulfilledLine]
    site_loads: list[SiteLoad]
    totals: Totals
    stats: AllocationStats
    explanations: list[OrderExplanation] = Field(default_factory=list)
    baselines: list[BaselineSummary] = Field(default_factory=list)
    evaluation: AllocationEvaluation | None = Field(
        None, description="the independent checker's verdict, recomputed from the request"
    )
