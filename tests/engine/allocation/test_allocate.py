"""Hand-checkable allocations, one per constraint; every result passes the checker."""

from __future__ import annotations

import pytest

from models.allocation import CostSettings, ShippingCost
from tests.allocation_helpers import (
    BH,
    DAY,
    RIO,
    SP,
    order,
    reasons,
    request,
    shipped,
    site,
    solve_checked,
    stock,
)

METHODS = ["mip", "greedy_nearest", "greedy_fewest_splits"]


@pytest.mark.parametrize("method", METHODS)
def test_nearest_stocked_site_ships_the_order(method: str) -> None:
    req = request(
        [site("sp", SP), site("rio", RIO)],
        [stock("sp", "a", 5), stock("rio", "a", 5)],
        [order(1, (-43.3, -22.9), ("a", 1))],
        method=method,
    )
    assert shipped(solve_checked(req)) == {(1, "rio"): 1}


@pytest.mark.parametrize("method", METHODS)
def test_safety_stock_is_never_allocated(method: str) -> None:
    req = request(
        [site("rio", RIO), site("sp", SP)],
        [stock("rio", "a", 3, safety=2), stock("sp", "a", 5)],
        [order(1, RIO, ("a", 1)), order(2, RIO, ("a", 1))],
        method=method,
    )
    result = solve_checked(req)
    assert sum(q for (o, s), q in shipped(result).items() if s == "rio") == 1
    assert sum(shipped(result).values()) == 2


@pytest.mark.parametrize("method", METHODS)
def test_order_capacity_pushes_orders_to_the_next_site(method: str) -> None:
    req = request(
        [site("rio", RIO, capacity_orders=1), site("sp", SP)],
        [stock("rio", "a", 9), stock("sp", "a", 9)],
        [order(1, RIO, ("a", 1)), order(2, RIO, ("a", 1))],
        method=method,
    )
    sites = sorted(s for (_, s) in shipped(solve_checked(req)))
    assert sites == ["rio", "sp"]


def test_unit_capacity_leaves_lines_unfulfilled_with_reason_capacity() -> None:
    req = request(
        [site("rio", RIO, capacity_units=2)],
        [stock("rio", "a", 9)],
        [order(1, RIO, ("a", 2)), order(2, RIO, ("a", 2))],
    )
    result = solve_checked(req)
    assert sum(shipped(result).values()) == 2
    assert list(reasons(result).values()) == ["capacity"]


def test_max_shipments_one_forbids_a_split() -> None:
    req = request(
        [site("rio", RIO), site("sp", SP)],
        [stock("rio", "a", 1), stock("sp", "b", 1)],
        [order(1, RIO, ("a", 1), ("b", 1), max_shipments=1)],
    )
    result = solve_checked(req)
    assert len(result.shipments) == 1
    assert len(result.unfulfilled) == 1


def test_split_when_allowed_and_cheaper_than_the_penalty() -> None:
    req = request(
        [site("rio", RIO), site("sp", SP)],
        [stock("rio", "a", 1), stock("sp", "b", 1)],
        [order(1, RIO, ("a", 1), ("b", 1))],
    )
    result = solve_checked(req)
    assert len(result.shipments) == 2
    assert result.totals.splits == 1
    assert sum(sh.cost.split for sh in result.shipments) == pytest.approx(2.0)


@pytest.mark.parametrize("method", METHODS)
def test_ship_complete_order_is_all_or_nothing(method: str) -> None:
    req = request(
        [site("rio", RIO)],
        [stock("rio", "a", 5), stock("rio", "b", 1)],
        [order(1, RIO, ("a", 1), ("b", 2), ship_complete=True)],
        method=method,
    )
    result = solve_checked(req)
    assert result.shipments == []
    assert set(reasons(result).values()) == {"ship_complete_impossible"}


def test_channel_eligibility_excludes_a_closer_store() -> None:
    req = request(
        [site("store", RIO, kind="store", channels=["store_pickup"]), site("wh", SP)],
        [stock("store", "a", 5), stock("wh", "a", 5)],
        [order(1, RIO, ("a", 1), channel="online")],
    )
    assert shipped(solve_checked(req)) == {(1, "wh"): 1}


def test_offline_site_ships_nothing() -> None:
    req = request(
        [site("rio", RIO, online=False), site("sp", SP)],
        [stock("rio", "a", 5), stock("sp", "a", 5)],
        [order(1, RIO, ("a", 1))],
    )
    assert shipped(solve_checked(req)) == {(1, "sp"): 1}


def test_hard_sla_makes_far_sites_ineligible() -> None:
    costs = CostSettings(sla="hard")
    late = DAY.replace(day=2)  # one day: only sites within 50 km
    req = request(
        [site("sp", SP)],
        [stock("sp", "a", 5)],
        [order(1, RIO, ("a", 1), promised_date=late)],
        costs=costs,
    )
    result = solve_checked(req)
    assert result.shipments == []
    assert reasons(result) == {(1, 1): "sla_unreachable"}


def test_soft_sla_ships_late_and_charges_lateness() -> None:
    late = DAY.replace(day=2)
    req = request(
        [site("sp", SP)], [stock("sp", "a", 5)], [order(1, RIO, ("a", 1), promised_date=late)]
    )
    result = solve_checked(req)
    (sh,) = result.shipments
    assert sh.days_late == 3  # 358 km is 4 days in the default bands
    assert sh.cost.lateness == pytest.approx(15.0)


def test_priority_decides_who_gets_scarce_stock() -> None:
    req = request(
        [site("rio", RIO)],
        [stock("rio", "a", 1)],
        [order("low", RIO, ("a", 1), priority=1), order("high", RIO, ("a", 1), priority=3)],
    )
    result = solve_checked(req)
    assert shipped(result) == {("high", "rio"): 1}
    assert reasons(result) == {("low", 1): "no_stock"}


def test_payment_hold_and_invalid_orders_come_back_with_reasons() -> None:
    req = request(
        [site("rio", RIO)],
        [stock("rio", "a", 9)],
        [
            order(1, RIO, ("a", 1), payment_status="pending"),
            order(2, None, ("a", 1)),
            order(3, RIO, ("zzz", 1)),
            order(4, RIO, ("a", 0)),
            order(5, (0.0, 0.0), ("a", 1)),
            order(6, (200.0, 0.0), ("a", 1)),
            order(7, RIO, ("a", 1)),
            order(7, RIO, ("a", 1)),
        ],
    )
    result = solve_checked(req)
    got = reasons(result)
    assert got[(1, 1)] == "payment_not_authorised"
    assert all(got[(o, 1)] == "invalid_order" for o in (2, 3, 4, 5, 6))
    assert shipped(result) == {(7, "rio"): 1}
    assert result.totals.orders == 8


def test_mip_is_never_worse_than_either_greedy() -> None:
    # nearest-first greedy ships the first order from rio and starves the second
    req = request(
        [site("rio", RIO, capacity_orders=1), site("bh", BH)],
        [stock("rio", "a", 5), stock("bh", "a", 5), stock("rio", "b", 1)],
        [order(1, RIO, ("a", 1)), order(2, RIO, ("b", 1))],
    )
    result = solve_checked(req)
    assert shipped(result) == {(1, "bh"): 1, (2, "rio"): 1}
    for base in result.baselines:
        assert result.totals.objective <= base.objective + 1e-6


def test_distance_bands_set_the_shipping_price() -> None:
    costs = CostSettings(
        shipping=ShippingCost(
            fixed=0,
            per_km=0,
            per_unit=0,
            bands=[
                {"max_km": 100, "fixed": 5, "per_unit": 1},
                {"max_km": 1000, "fixed": 20, "per_unit": 2},
            ],
        )
    )
    req = request([site("sp", SP)], [stock("sp", "a", 5)], [order(1, RIO, ("a", 2))], costs=costs)
    (sh,) = solve_checked(req).shipments
    assert (sh.cost.fixed, sh.cost.units) == (20, 4)


def test_explanations_give_chosen_site_and_next_best() -> None:
    req = request(
        [site("rio", RIO), site("sp", SP)],
        [stock("rio", "a", 5), stock("sp", "a", 5)],
        [order(1, RIO, ("a", 1))],
    )
    (exp,) = solve_checked(req).explanations
    assert exp.site_ids == ["rio"] and exp.status == "allocated"
    assert exp.next_best is not None and exp.next_best.site_ids == ["sp"]
    assert exp.next_best.extra_cost > 0


def test_no_orders_gives_an_empty_result() -> None:
    result = solve_checked(request([site("rio", RIO)], [], []))
    assert result.shipments == [] and result.totals.orders == 0
