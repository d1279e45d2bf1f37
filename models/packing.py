"""The cartonisation contract: carton types, products and shipments in; packed cartons out.

Units: lengths in millimetres (``_mm``), weights in kilograms (``_kg``), volumes in litres
(``_l``), money in the request's currency. Ids are the caller's own and come back as given.

The capacity model is volume and weight, plus "each unit fits the carton's inner box on its
own in some axis-aligned orientation". Volume packing is a relaxation of true 3-D packing:
a carton whose units' volumes add up to its inner volume may still not hold them
physically. ``options.fill_factor`` (below 1) keeps room for that.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from models.common import Id, StrictModel, TimeLimit
from models.verdict import Verdict

#: The longest edge of a product or a carton: 10 m, in mm.
MAX_MM = 10_000.0
#: The heaviest product or carton: 10 t, in kg.
MAX_KG = 10_000.0
#: The dearest carton.
MAX_CARTON_COST = 1e6
#: The most units of one line.
MAX_LINE_UNITS = 1_000_000

#: A length in millimetres: more than 0, at most 10 m.
Millimetres = Annotated[
    float,
    Field(gt=0, le=MAX_MM, allow_inf_nan=False, strict=True, description="mm, (0, 10000]"),
]
#: A weight in kilograms: 0 to 10 t.
Kilograms = Annotated[
    float,
    Field(ge=0, le=MAX_KG, allow_inf_nan=False, strict=True, description="kg, 0 to 10000"),
]
#: The price of one carton: 0 to 1e6.
CartonCost = Annotated[
    float,
    Field(ge=0, le=MAX_CARTON_COST, allow_inf_nan=False, strict=True, description="0 to 1e6"),
]
#: Units of a line: 1 to 1e6.
LineUnits = Annotated[int, Field(ge=1, le=MAX_LINE_UNITS, strict=True)]
#: Share of a carton's inner volume that may be filled: more than 0, at most 1.
FillFactor = Annotated[
    float,
    Field(gt=0, le=1, allow_inf_nan=False, strict=True, description="more than 0, at most 1"),
]
#: How a cartonisation ended: ``optimal`` (proved), or ``feasible`` (the time ran out first).
PackStatus = Literal["optimal", "feasible"]


class CartonType(StrictModel):
    """A carton a site stocks: inner box, most gross weight (tare included), price."""

    id: Id
    inner_length_mm: Millimetres
    inner_width_mm: Millimetres
    inner_height_mm: Millimetres
    max_weight_kg: Kilograms = Field(description="most gross weight, the carton's tare included")
    cost: CartonCost
    tare_weight_kg: Kilograms = 0.0


class PackProduct(StrictModel):
    """A product's outer box and weight (any orientation may be used)."""

    sku: str = Field(min_length=1, max_length=128)
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres
    weight_kg: Kilograms


class PackLine(StrictModel):
    """Units of one sku to pack (lines of the same sku in a shipment add up)."""

    sku: str = Field(min_length=1, max_length=128)
    quantity: LineUnits


class PackShipment(StrictModel):
    """The units that leave together, to pack into cartons of their own."""

    id: Id
    lines: list[PackLine] = Field(min_length=1)


class PackOptions(StrictModel):
    """How to solve."""

    time_limit_s: TimeLimit = Field(2.0, description="for the whole request, shared by shipments")
    fill_factor: FillFactor = Field(
        1.0, description="share of a carton's inner volume the units' volumes may take"
    )


class PackRequest(StrictModel):
    """Carton types, the products' sizes and weights, and the shipments to pack."""

    carton_types: list[CartonType] = Field(min_length=1)
    products: list[PackProduct] = Field(min_length=1)
    shipments: list[PackShipment] = Field(min_length=1)
    options: PackOptions = Field(default_factory=PackOptions)


class PackedItem(StrictModel):
    """Units of one sku in one carton."""

    sku: str
    quantity: int


class PackedCarton(StrictModel):
    """One carton: its type, its units, how full and how heavy it is."""

    carton_id: str = Field(description="'<shipment id>-<n>', n from 1")
    type_id: Id
    items: list[PackedItem]
    volume_used_l: float = Field(description="the units' volumes, in litres")
    weight_kg: float = Field(description="gross: the units and the carton's tare")
    fill_share: float = Field(description="volume_used over the carton's inner volume")


class PackedShipment(StrictModel):
    """A shipment's cartons and what they cost."""

    shipment_id: Id
    cartons: list[PackedCarton]
    cost: float
    cartons_count: int
    status: PackStatus = Field(
        description="optimal: no packing costs less; feasible: the search stopped first"
    )
    lower_bound_cost: float = Field(description="no packing of this shipment costs less")


class PackEvaluation(Verdict):
    """The independent checker's verdict, with the totals it recomputed.

    A violation's ``order_id`` is the shipment's id; its message names the carton.
    """

    cost: float = 0.0
    cartons_count: int = 0


class PackResult(StrictModel):
    """Every shipment's cartons, the total cost, how the search ended and its bound."""

    shipments: list[PackedShipment]
    cost: float
    cartons_count: int
    status: PackStatus = Field(description="optimal when every shipment's packing is")
    lower_bound_cost: float = Field(description="no packing of the request costs less")
    solve_time_s: float
    evaluation: PackEvaluation
