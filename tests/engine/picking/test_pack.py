"""Cartonising a committed plan's shipments: every carton checked here from the product
sizes the test wrote (inner volume, gross weight, each unit's fit in some orientation),
every unit of every shipment in exactly one carton, the costs recomputed from the plan's
own shipment costs, a hand-computed optimum, and the named errors."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from engine.dispatch.store import DispatchStore
from engine.picking.store import PickingStore
from models.book import PlanRecord
from models.errors import ConflictError, InvalidInputError
from models.packing import CartonType
from models.picking import PackIn, PackOutcome, ProductSizeIn
from tests.engine.picking.conftest import CARTONS, SIZES, catalogue, committed_day

FAST = PackIn(time_limit_s=1.0)


def _units(plan: PlanRecord, site_id: str = "w1") -> dict[str, Counter[str]]:
    """Each shipment's units per sku, from the plan."""
    out: dict[str, Counter[str]] = {}
    for s in plan.shipments:
        if str(s.site_id) == site_id:
            units: Counter[str] = Counter()
            for line in s.lines:
                units[line.sku] += line.quantity
            out[f"{s.order_id}@{s.site_id}"] = units
    return out


def _fits(size: ProductSizeIn, carton: CartonType) -> bool:
    box = (carton.inner_length_mm, carton.inner_width_mm, carton.inner_height_mm)
    edges = (size.length_mm, size.width_mm, size.height_mm)
    return any(
        all(e <= b for e, b in zip(t, box, strict=True)) for t in itertools.permutations(edges)
    )


def check_cartons(outcome: PackOutcome, plan: PlanRecord, cartons: list[CartonType]) -> None:
    """Every carton within its type's volume and weight, every unit packed once, costs."""
    types = {str(c.id): c for c in cartons}
    wanted = _units(plan)
    shipment_costs = {f"{s.order_id}@{s.site_id}": s.cost_total for s in plan.allocation.shipments}
    codes = []
    assert {s.shipment_id for s in outcome.shipments} <= set(wanted)
    for shipment in outcome.shipments:
        packed: Counter[str] = Counter()
        for k, carton in enumerate(shipment.cartons, start=1):
            assert carton.carton_index == k
            kind = types[carton.type_id]
            volume_mm3 = sum(
                SIZES[i.sku].length_mm * SIZES[i.sku].width_mm * SIZES[i.sku].height_mm * i.quantity
                for i in carton.items
            )
            weight_kg = sum(SIZES[i.sku].weight_kg * i.quantity for i in carton.items)
            inner = kind.inner_length_mm * kind.inner_width_mm * kind.inner_height_mm
            assert volume_mm3 <= inner
            assert weight_kg + kind.tare_weight_kg <= kind.max_weight_kg + 1e-9
            assert carton.weight_kg == pytest.approx(weight_kg + kind.tare_weight_kg)
            assert carton.fill_share == pytest.approx(volume_mm3 / inner)
            assert carton.cost == kind.cost
            assert all(_fits(SIZES[i.sku], kind) for i in carton.items)
            for item in carton.items:
                assert item.quantity > 0
                packed[item.sku] += item.quantity
            codes.append(carton.tracking_code)
        assert packed == wanted[shipment.shipment_id]
        assert shipment.cartons_count == len(shipment.cartons)
        carton_cost = sum(types[c.type_id].cost for c in shipment.cartons)
        assert shipment.carton_cost == pytest.approx(carton_cost)
        assert shipment.shipment_cost == pytest.approx(shipment_costs[shipment.shipment_id])
        assert shipment.total_cost == pytest.approx(shipment.shipment_cost + carton_cost)
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("RP") and len(code) == 14 for code in codes)


def test_every_shipment_is_packed_within_its_cartons(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1", "o-2", "o-3", "far"])
    picking = PickingStore(book)
    catalogue(picking)
    outcome = picking.pack(plan.id, "w1", FAST)
    assert {s.shipment_id for s in outcome.shipments} == set(_units(plan))
    check_cartons(outcome, plan, CARTONS)
    assert outcome.cartons_count == sum(s.cartons_count for s in outcome.shipments)
    # o-2 is two kettles: they fit no S (250 mm > 210 mm), one L holds both (20 l, 3.3 kg)
    o2 = next(s for s in outcome.shipments if s.order_id == "o-2")
    assert [(c.type_id, c.carton_index) for c in o2.cartons] == [("L", 1)]
    assert o2.carton_cost == 1.5

    # packing again (not yet marked packed) replaces the cartons, with new codes
    again = picking.pack(plan.id, "w1", PackIn(shipment_ids=["o-2@w1"], time_limit_s=1.0))
    (o2_again,) = again.shipments
    assert o2_again.cartons[0].tracking_code != o2.cartons[0].tracking_code
    labels = picking.labels(plan.id, "o-2@w1").labels
    assert [lab.tracking_code for lab in labels] == [o2_again.cartons[0].tracking_code]


def test_the_carton_count_is_the_hand_computed_optimum(book: DispatchStore) -> None:
    # 20 mugs (1 l, 0.4 kg each) into S only: 9.26 l holds 9 mugs (weight would allow 12),
    # so 20 mugs need ceil(20 / 9) = 3 cartons, and 3 suffice (9 + 9 + 2)
    plan = committed_day(book, ["bulk"])
    picking = PickingStore(book)
    catalogue(picking, cartons=False)
    small = [CARTONS[0]]
    picking.put_cartons("w1", small)
    outcome = picking.pack(plan.id, "w1", FAST)
    (shipment,) = outcome.shipments
    assert shipment.cartons_count == 3
    assert shipment.status == "optimal"
    check_cartons(outcome, plan, small)


def test_a_sku_without_a_size_is_named(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    picking = PickingStore(book)
    picking.put_cartons("w1", CARTONS)
    picking.put_product("kettle", SIZES["kettle"])
    with pytest.raises(InvalidInputError) as refused:
        picking.pack(plan.id, "w1", FAST)
    fields = {d["field"]: d["message"] for d in refused.value.details}
    assert set(fields) == {"products[sku=mug]", "products[sku=plate]"}
    assert "o-1@w1" in fields["products[sku=mug]"]


def test_a_unit_that_fits_no_carton_is_named_never_overfilled(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-2"])
    picking = PickingStore(book)
    catalogue(picking)
    picking.put_product(
        "kettle", ProductSizeIn(length_mm=500, width_mm=200, height_mm=200, weight_kg=1.5)
    )
    with pytest.raises(InvalidInputError) as refused:
        picking.pack(plan.id, "w1", FAST)
    (record,) = refused.value.details
    assert record["field"] == "products[sku=kettle]"
    assert record["shipment_id"] == "o-2@w1"
    with pytest.raises(ConflictError):
        picking.labels(plan.id, "o-2@w1")  # nothing was stored


def test_a_site_without_carton_types_is_refused(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    picking = PickingStore(book)
    catalogue(picking, cartons=False)
    with pytest.raises(InvalidInputError) as refused:
        picking.pack(plan.id, "w1", FAST)
    assert refused.value.details[0]["field"] == "carton_types"
    with pytest.raises(InvalidInputError) as unknown:
        picking.pack(plan.id, "w1", PackIn(shipment_ids=["nope@w1"]))
    assert unknown.value.details[0]["field"] == "shipment_ids[0]"
