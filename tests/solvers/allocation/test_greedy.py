"""Greedy baselines over arrays: nearest-with-full-stock and fewest-splits."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.allocation.data import AllocationData, empty_plan, plan_cost
from solvers.allocation.greedy import fewest_splits, nearest_full_stock, top_up


def tiny(
    available: list[list[int]],
    lines: list[list[tuple[int, int]]],
    distance: list[list[float]],
    **kw,
) -> AllocationData:
    """Orders given as lists of (sku, qty); sites by rows of ``available``."""
    n_sites = len(available)
    n_orders = len(lines)
    starts = np.r_[0, np.cumsum([len(ls) for ls in lines])].astype(np.int64)
    dist = np.asarray(distance, dtype=np.float64)
    return AllocationData(
        site_capacity_orders=np.asarray(kw.get("cap_orders", [99] * n_sites), dtype=np.int64),
        site_capacity_units=np.asarray(kw.get("cap_units", [99] * n_sites), dtype=np.int64),
        available=np.asarray(available, dtype=np.int64),
        line_start=starts,
        line_sku=np.asarray([k for ls in lines for k, _ in ls], dtype=np.int64),
        line_quantity=np.asarray([q for ls in lines for _, q in ls], dtype=np.int64),
        line_penalty=np.full(int(starts[-1]), 100.0),
        order_rank=np.arange(n_orders, dtype=np.int64),
        order_max_shipments=np.asarray(kw.get("max_ship", [n_sites] * n_orders), dtype=np.int64),
        order_ship_complete=np.asarray(kw.get("sc", [False] * n_orders), dtype=bool),
        eligible=np.ones((n_orders, n_sites), dtype=bool),
        shipment_cost=5.0 + dist,
        unit_cost=np.ones((n_orders, n_sites)),
        distance_km=dist,
        split_penalty=1.0,
    )


def test_nearest_takes_the_nearest_site_with_everything() -> None:
    data = tiny([[1, 0], [1, 1]], [[(0, 1), (1, 1)]], [[1.0, 2.0]])
    plan = nearest_full_stock(data)
    assert plan.site.tolist() == [1, 1]


def test_nearest_splits_by_distance_when_no_site_has_everything() -> None:
    data = tiny([[1, 0], [0, 1], [1, 1]], [[(0, 2)]], [[1.0, 2.0, 3.0]])
    plan = nearest_full_stock(data)
    assert sorted(zip(plan.site.tolist(), plan.quantity.tolist(), strict=True)) == [(0, 1), (2, 1)]


def test_fewest_splits_covers_most_units_first() -> None:
    # site 0 is nearest but has one of three units; site 2 has two
    data = tiny([[1], [0], [2]], [[(0, 3)]], [[1.0, 2.0, 3.0]])
    near = nearest_full_stock(data)
    few = fewest_splits(data)
    assert sorted(few.site.tolist()) == [0, 2]
    assert few.quantity.sum() == near.quantity.sum() == 3


def test_greedy_respects_capacity_and_ship_complete() -> None:
    data = tiny(
        [[5], [5]],
        [[(0, 1)], [(0, 1)], [(0, 9)]],
        [[1.0, 2.0]] * 3,
        cap_orders=[1, 5],
        sc=[False, False, True],
    )
    for plan in (nearest_full_stock(data), fewest_splits(data)):
        assert plan.site[plan.line == 0].tolist() == [0]
        assert plan.site[plan.line == 1].tolist() == [1]
        assert 2 not in plan.line.tolist()
        # worked by hand: order 0 at site 0 (shipment 5 + 1 km, one unit at 1), order 1 at
        # site 1 (shipment 5 + 2 km, one unit at 1), order 2's 9 units short at 100 each
        assert plan.objective == pytest.approx((6 + 1) + (7 + 1) + 9 * 100)


def test_greedy_never_oversells_repeated_skus_in_one_order() -> None:
    data = tiny([[1], [1]], [[(0, 1), (0, 1)]], [[1.0, 2.0]])
    for plan in (nearest_full_stock(data), fewest_splits(data)):
        used = np.zeros((2, 1), dtype=np.int64)
        np.add.at(used, (plan.site, data.line_sku[plan.line]), plan.quantity)
        assert np.all(used <= data.available)


def test_top_up_ships_what_pays_and_leaves_what_does_not() -> None:
    # line 0 is cheap at site 0 (6 + 2 units = 8 < 200); line 1's sku is only at site 1,
    # 500 km away (505 + 1 > 100); the ship-complete order 2 fits whole at site 0
    data = tiny(
        [[5, 0, 5], [0, 5, 0]],
        [[(0, 2)], [(1, 1)], [(2, 1), (0, 1)]],
        [[1.0, 500.0], [1.0, 500.0], [1.0, 500.0]],
        sc=[False, False, True],
        cap_units=[4, 99],
    )
    plan = top_up(data, empty_plan("mip"))
    got = {
        (int(ln), int(s)): int(q)
        for ln, s, q in zip(plan.line, plan.site, plan.quantity, strict=True)
    }
    assert got == {(0, 0): 2, (2, 0): 1, (3, 0): 1}
    assert plan_cost(data, plan) < plan_cost(data, empty_plan("mip"))
    assert plan.line_shipped(data.n_lines)[1] == 0
