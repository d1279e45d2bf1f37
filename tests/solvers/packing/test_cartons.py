"""The CP-SAT carton model: hand-computed optima, a brute force, every answer checked by the
engine's independent evaluator."""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine.packing.compile import compile_shipment
from engine.packing.evaluate import evaluate_packing
from engine.packing.pack import decode
from models.packing import PackedShipment, PackEvaluation, PackRequest, PackResult
from solvers.packing.cartons import pack_bins
from solvers.packing.data import PackingData, PackingParams, fits_mask
from solvers.packing.heuristic import best_heuristic
from tests.solvers.packing.cases import brute_force_optimum, carton, product, request

#: 1000 cm³ and 2000 cm³ inner boxes.
SMALL = (100.0, 100.0, 100.0)
LARGE = (200.0, 100.0, 100.0)


def solve(
    req: PackRequest, time_limit_s: float = 2.0, params: PackingParams | None = None
) -> PackedShipment:
    """Pack shipment 0 with ``pack_bins`` and assert the evaluator finds nothing wrong."""
    compiled = compile_shipment(req, req.shipments[0])
    solution = pack_bins(compiled.data, params or PackingParams(time_limit_s=time_limit_s))
    shipment = decode(req, compiled, solution)
    result = PackResult(
        shipments=[shipment],
        cost=shipment.cost,
        cartons_count=shipment.cartons_count,
        status=shipment.status,
        lower_bound_cost=shipment.lower_bound_cost,
        solve_time_s=solution.solve_time_s,
        evaluation=PackEvaluation(feasible=True),
    )
    verdict = evaluate_packing(req, result)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert shipment.lower_bound_cost <= shipment.cost + 1e-9
    return shipment


def types_of(shipment: PackedShipment) -> list[str]:
    return sorted(str(c.type_id) for c in shipment.cartons)


def test_five_units_of_400_cm3_take_three_cartons_of_1000_cm3() -> None:
    # two units (800 cm³) fit a carton, three (1200 cm³) do not: ceil(5 / 2) = 3 cartons
    req = request([carton("S", SMALL, 1.0)], [product("a", (100, 100, 40))], {"a": 5})
    shipment = solve(req)
    assert shipment.cartons_count == 3 and shipment.cost == pytest.approx(3.0)
    assert shipment.status == "optimal"
    assert sorted(i.quantity for c in shipment.cartons for i in c.items) == [1, 2, 2]


def test_a_bigger_dearer_carton_beats_two_small_ones() -> None:
    # 4 x 500 cm³: two small cartons (2 x 1.0) or one large (2000 cm³, 1.5): the large wins
    req = request(
        [carton("S", SMALL, 1.0), carton("L", LARGE, 1.5)],
        [product("a", (100, 100, 50))],
        {"a": 4},
    )
    shipment = solve(req)
    assert types_of(shipment) == ["L"] and shipment.cost == pytest.approx(1.5)


def test_two_small_cartons_beat_a_large_one_that_costs_more() -> None:
    # the same units with the large carton at 2.5: two small ones (2.0) are cheaper
    req = request(
        [carton("S", SMALL, 1.0), carton("L", LARGE, 2.5)],
        [product("a", (100, 100, 50))],
        {"a": 4},
    )
    assert types_of(solve(req)) == ["S", "S"]


def test_the_optimum_mixes_carton_types() -> None:
    # 3 x 700 cm³: a large holds 2 (1400), a small 1; L+S = 2.5 < 2L = 3.0 = 3S
    req = request(
        [carton("S", SMALL, 1.0), carton("L", LARGE, 1.5)],
        [product("a", (100, 100, 70))],
        {"a": 3},
    )
    shipment = solve(req)
    assert types_of(shipment) == ["L", "S"] and shipment.cost == pytest.approx(2.5)


def test_weight_binds_before_volume() -> None:
    # 7 units of 0.1 l and 6 kg in 1 l cartons of 20 kg: 3 a carton by weight -> 3 cartons
    req = request(
        [carton("S", SMALL, 1.0, max_kg=20)], [product("a", (10, 10, 1000 / 10 / 1), 6)], {"a": 7}
    )
    shipment = solve(req)
    assert shipment.cartons_count == 3
    assert max(c.weight_kg for c in shipment.cartons) <= 20


def test_the_tare_counts_against_the_weight_limit() -> None:
    # the same with a 2.5 kg tare: 17.5 kg for the units, 2 a carton -> ceil(7 / 2) = 4
    req = request(
        [carton("S", SMALL, 1.0, max_kg=20, tare_kg=2.5)],
        [product("a", (10, 10, 100), 6)],
        {"a": 7},
    )
    shipment = solve(req)
    assert shipment.cartons_count == 4
    assert shipment.cartons[0].weight_kg == pytest.approx(2 * 6 + 2.5)


def test_a_long_unit_needs_the_carton_it_fits_whatever_the_volume() -> None:
    # 150 mm long: it fits only the 200 mm carton (turned), though 2 x 240 cm³ fit the small
    req = request(
        [carton("S", SMALL, 1.0), carton("L", (100, 200, 100), 3.0)],
        [product("rod", (40, 40, 150))],
        {"rod": 2},
    )
    shipment = solve(req)
    assert types_of(shipment) == ["L"] and shipment.cost == pytest.approx(3.0)


def test_the_fill_factor_keeps_room_free() -> None:
    # 5 x 400 cm³ in 1000 cm³ at fill 0.8: 800 cm³ -> 2 a carton (3); at 0.7: 1 a carton (5)
    for fill, cartons in ((0.8, 3), (0.7, 5)):
        req = request(
            [carton("S", SMALL, 1.0)], [product("a", (100, 100, 40))], {"a": 5}, fill_factor=fill
        )
        assert solve(req).cartons_count == cartons


def test_free_cartons_are_still_as_few_as_possible() -> None:
    # both types cost nothing: the count decides; 4 x 500 cm³ fit one large carton
    req = request(
        [carton("S", SMALL, 0.0), carton("L", LARGE, 0.0)],
        [product("a", (100, 100, 50))],
        {"a": 4},
    )
    shipment = solve(req)
    assert shipment.cost == 0 and types_of(shipment) == ["L"]


def test_two_skus_share_cartons() -> None:
    # 3 x 600 cm³ and 2 x 200 cm³ = 2200 cm³. Every set of cartons cheaper than 2.5 holds at
    # most 2000 cm³ (L: 1.5, S+S: 2.0), too little; L (600+600+200+200) + S (600) = 2.5
    req = request(
        [carton("S", SMALL, 1.0), carton("L", LARGE, 1.5)],
        [product("a", (100, 100, 60)), product("b", (100, 100, 20))],
        {"a": 3, "b": 2},
    )
    shipment = solve(req)
    assert shipment.cost == pytest.approx(2.5) and types_of(shipment) == ["L", "S"]


def random_request(rng: random.Random) -> PackRequest:
    """Three or four carton types (one big), one to three skus, two to seven units."""
    cartons = [
        carton(
            f"c{t}",
            (rng.choice([60, 80, 100]), rng.choice([60, 80]), rng.choice([50, 80])),
            rng.choice([0.5, 1.0, 1.5, 2.0, 3.0]),
            max_kg=rng.choice([5, 10, 20]),
            tare_kg=rng.choice([0.0, 0.5]),
        )
        for t in range(rng.choice([2, 3]))
    ]
    cartons.append(carton("big", (150, 100, 100), 4.0, max_kg=30))
    products = [
        product(
            f"p{k}",
            (rng.choice([30, 50, 70]), rng.choice([30, 50]), rng.choice([20, 40, 60])),
            rng.choice([0.5, 2.0, 4.0]),
        )
        for k in range(rng.choice([1, 2, 3]))
    ]
    lines: dict[str, int] = {}
    for _ in range(rng.randint(2, 7)):
        sku = rng.choice(products)["sku"]
        lines[sku] = lines.get(sku, 0) + 1
    return request(cartons, products, lines)


@pytest.mark.parametrize("seed", range(30))
def test_tiny_random_instances_match_the_brute_force(seed: int) -> None:
    req = random_request(random.Random(seed))
    cost, count = brute_force_optimum(req)
    shipment = solve(req)
    assert shipment.status == "optimal"
    assert shipment.cost == pytest.approx(cost) and shipment.cartons_count == count
    assert shipment.lower_bound_cost == pytest.approx(cost)


def test_a_bigger_instance_is_feasible_with_a_bound_below_its_cost() -> None:
    rng = random.Random(7)
    cartons = [carton(f"c{t}", (100 + 50 * t, 100, 80 + 20 * t), 1.0 + 0.7 * t) for t in range(4)]
    products = [product(f"p{k}", (rng.randint(20, 90), 30, rng.randint(10, 70))) for k in range(8)]
    lines = {f"p{k}": rng.randint(1, 12) for k in range(8)}
    shipment = solve(request(cartons, products, lines), time_limit_s=1.0)
    assert shipment.status in {"optimal", "feasible"}
    assert sum(i.quantity for c in shipment.cartons for i in c.items) == sum(lines.values())


def test_a_model_too_big_to_build_answers_the_heuristic_packing_with_its_bound() -> None:
    # 3 x 700 cm³ (optimum L + S = 2.5, see above); no model of more than 0 variables is
    # built, so the answer is first-fit-decreasing's, "feasible", with the volume bound
    # 2100 cm³ x 1.5 / 2000 cm³ = 1.575 below its cost
    req = request(
        [carton("S", SMALL, 1.0), carton("L", LARGE, 1.5)],
        [product("a", (100, 100, 70))],
        {"a": 3},
    )
    shipment = solve(req, params=PackingParams(max_variables=0))
    assert shipment.status == "feasible"
    assert shipment.lower_bound_cost == pytest.approx(1.575)
    assert shipment.cost >= 2.5


def test_the_orientation_mask_compares_sorted_edges() -> None:
    items = np.array([[150.0, 40.0, 40.0], [101.0, 10.0, 10.0]])
    boxes = np.array([[40.0, 40.0, 150.0], [100.0, 100.0, 100.0]])
    # 101 x 10 x 10 fits 40 x 40 x 150 turned, not the 100 mm cube
    assert fits_mask(items, boxes).tolist() == [[True, False], [True, False]]


def test_params_and_data_reject_bad_values() -> None:
    for bad in ({"time_limit_s": 0.0}, {"time_limit_s": float("nan")}, {"num_workers": 0}):
        with pytest.raises(ValueError):
            PackingParams(**bad)  # type: ignore[arg-type]
    one = np.array([1], dtype=np.int64)
    with pytest.raises(ValueError, match="fit no carton type"):
        PackingData(one, one, one, one, one, one, np.array([[False]]))
    with pytest.raises(ValueError, match="exceeds"):
        PackingData(one * 5, one, one, one, one, one, np.array([[True]]))


def test_the_heuristic_packs_every_unit_within_capacity() -> None:
    data = PackingData(
        item_volume=np.array([400, 300], dtype=np.int64),
        item_weight=np.array([1, 2], dtype=np.int64),
        item_quantity=np.array([5, 7], dtype=np.int64),
        type_volume=np.array([1000, 2100], dtype=np.int64),
        type_weight=np.array([4, 100], dtype=np.int64),
        type_cost=np.array([1000, 1500], dtype=np.int64),
        allowed=np.ones((2, 2), dtype=np.bool_),
    )
    types, contents = best_heuristic(data)
    assert contents.sum(axis=0).tolist() == [5, 7]
    assert np.all(contents @ data.item_volume <= data.type_volume[types])
    assert np.all(contents @ data.item_weight <= data.type_weight[types])
