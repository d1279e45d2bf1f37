"""``engine.packing.pack``: request checks, multi-shipment packing, and an evaluator that
catches every kind of broken packing."""

from __future__ import annotations

from typing import Any

import pytest

from engine.packing import evaluate_packing, pack
from models.errors import InvalidInputError
from models.packing import PackRequest, PackResult
from models.status import ViolationCode
from tests.solvers.packing.cases import carton, product

SMALL = (100.0, 100.0, 100.0)
LARGE = (200.0, 100.0, 100.0)


def body(**changes: Any) -> dict[str, Any]:
    """Two shipments: 4 x 500 cm³ (one large carton, 1.5) and 1 x 500 cm³ + 1 x 300 cm³ of
    1 kg and 2 kg (one small carton, 1.0)."""
    value: dict[str, Any] = {
        "carton_types": [carton("S", SMALL, 1.0, max_kg=10), carton("L", LARGE, 1.5, max_kg=20)],
        "products": [product("a", (100, 100, 50), 1.0), product("b", (100, 100, 30), 2.0)],
        "shipments": [
            {"id": "o1", "lines": [{"sku": "a", "quantity": 4}]},
            {"id": "o2", "lines": [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": 1}]},
        ],
        "options": {"time_limit_s": 1.0},
    }
    value.update(changes)
    return value


def test_every_shipment_is_packed_at_its_optimum_and_checked() -> None:
    result = pack(PackRequest.model_validate(body()))
    assert result.evaluation.feasible, result.evaluation.violations
    first, second = result.shipments
    assert [str(c.type_id) for c in first.cartons] == ["L"] and first.cost == 1.5
    assert [str(c.type_id) for c in second.cartons] == ["S"] and second.cost == 1.0
    assert [c.carton_id for c in first.cartons] == ["o1-1"]
    assert second.cartons[0].weight_kg == pytest.approx(3.0)
    assert second.cartons[0].volume_used_l == pytest.approx(0.8)
    assert second.cartons[0].fill_share == pytest.approx(0.8)
    assert result.cost == 2.5 and result.cartons_count == 2
    assert result.status == "optimal" and result.lower_bound_cost == pytest.approx(2.5)


def test_lines_of_one_sku_add_up() -> None:
    shipments = [{"id": 7, "lines": [{"sku": "a", "quantity": 2}, {"sku": "a", "quantity": 2}]}]
    result = pack(PackRequest.model_validate(body(shipments=shipments)))
    assert result.evaluation.feasible
    assert [(i.sku, i.quantity) for i in result.shipments[0].cartons[0].items] == [("a", 4)]
    assert result.shipments[0].shipment_id == 7


def _error(value: dict[str, Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        pack(PackRequest.model_validate(value))
    return caught.value


def test_a_unit_too_big_for_every_carton_is_a_named_error() -> None:
    value = body()
    value["products"].append(product("sofa", (2000, 900, 800), 40))
    value["shipments"][0]["lines"].append({"sku": "sofa", "quantity": 1})
    error = _error(value)
    assert error.details[0]["field"] == "products[sku=sofa]"
    assert "inner box of no carton type" in error.details[0]["message"]


def test_a_unit_too_heavy_for_every_carton_it_fits_is_a_named_error() -> None:
    value = body()
    value["products"].append(product("anvil", (50, 50, 50), 25))
    value["shipments"][1]["lines"].append({"sku": "anvil", "quantity": 1})
    error = _error(value)
    assert error.details[0]["field"] == "products[sku=anvil]"
    assert "weighs 25 kg" in error.details[0]["message"] and "20 kg" in error.details[0]["message"]


def test_a_unit_over_the_filled_volume_is_a_named_error() -> None:
    value = body(options={"fill_factor": 0.5})
    # 1.9 l: it fits L's box (2 l) but not half of it, nor S's box
    value["products"].append(product("slab", (190, 100, 100), 1))
    value["shipments"][1]["lines"].append({"sku": "slab", "quantity": 1})
    error = _error(value)
    assert error.details[0]["field"] == "products[sku=slab]"
    assert "fill_factor 0.5" in error.details[0]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda v: v["shipments"][1]["lines"].append({"sku": "zz", "quantity": 1}),
            "shipments[1].lines[2].sku",
        ),
        (lambda v: v["products"].append(product("a", (1, 1, 1))), "products[2].sku"),
        (lambda v: v["carton_types"].append(carton("S", SMALL, 1)), "carton_types[2].id"),
        (lambda v: v["shipments"].append(dict(v["shipments"][0])), "shipments[2].id"),
        (
            lambda v: v["carton_types"][0].update(tare_weight_kg=11),
            "carton_types[0].tare_weight_kg",
        ),
    ],
)
def test_request_problems_name_the_field(change: Any, field: str) -> None:
    value = body()
    change(value)
    assert _error(value).details[0]["field"] == field


def _broken(edit: Any) -> list[ViolationCode]:
    """The codes the evaluator finds after ``edit`` changes a good result's JSON."""
    request = PackRequest.model_validate(body())
    data = pack(request).model_dump(mode="json")
    edit(data)
    verdict = evaluate_packing(request, PackResult.model_validate(data))
    assert not verdict.feasible
    return [v.code for v in verdict.violations]


def test_the_evaluator_catches_an_overfilled_carton() -> None:
    def edit(d: dict[str, Any]) -> None:  # all four units of 500 cm³ in a 1000 cm³ carton
        d["shipments"][0]["cartons"][0]["type_id"] = "S"

    assert ViolationCode.CARTON_OVERFILL in _broken(edit)


def test_the_evaluator_catches_an_overweight_carton() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["shipments"][0]["cartons"][0]["weight_kg"] = 99

    assert ViolationCode.SUMMARY_MISMATCH in _broken(edit)  # a wrong figure is a mismatch
    request = body()
    request["products"][0]["weight_kg"] = 6.0  # 4 x 6 kg in L, a 20 kg carton: overweight
    result = pack(PackRequest.model_validate(body())).model_dump(mode="json")
    verdict = evaluate_packing(
        PackRequest.model_validate(request), PackResult.model_validate(result)
    )
    assert ViolationCode.CARTON_OVERWEIGHT in [v.code for v in verdict.violations]


def test_the_evaluator_catches_a_unit_that_does_not_fit() -> None:
    request = body()
    request["products"][0]["length_mm"] = 150  # 150 x 100 x 50 fits L (turned), never S
    result = pack(PackRequest.model_validate(request)).model_dump(mode="json")
    result["shipments"][1]["cartons"][0]["type_id"] = "S"
    verdict = evaluate_packing(
        PackRequest.model_validate(request), PackResult.model_validate(result)
    )
    assert ViolationCode.ITEM_DOES_NOT_FIT in [v.code for v in verdict.violations]


def test_the_evaluator_catches_missing_and_extra_units() -> None:
    def fewer(d: dict[str, Any]) -> None:
        d["shipments"][0]["cartons"][0]["items"][0]["quantity"] = 3

    def dropped(d: dict[str, Any]) -> None:
        d["shipments"].pop()

    assert ViolationCode.PACKED_QUANTITY_MISMATCH in _broken(fewer)
    assert ViolationCode.PACKED_QUANTITY_MISMATCH in _broken(dropped)


def test_the_evaluator_catches_costs_bounds_and_types() -> None:
    def cheaper(d: dict[str, Any]) -> None:
        d["shipments"][0]["cost"] = 0.5

    def bound_above(d: dict[str, Any]) -> None:
        d["shipments"][0]["lower_bound_cost"] = 9.0

    def unknown_type(d: dict[str, Any]) -> None:
        d["shipments"][0]["cartons"][0]["type_id"] = "XL"

    assert ViolationCode.COST_MISMATCH in _broken(cheaper)
    assert ViolationCode.COST_MISMATCH in _broken(bound_above)
    assert ViolationCode.UNKNOWN_CARTON_TYPE in _broken(unknown_type)
