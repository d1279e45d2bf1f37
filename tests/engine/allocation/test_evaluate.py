"""The independent checker: passes random allocations, catches hand-broken ones."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.allocation import allocate, check_allocation
from models.allocation import AllocationResult
from tests.allocation_helpers import DAY, RIO, SP, order, request, site, stock

SITES = [(-46.6, -23.5), (-43.2, -22.9), (-43.9, -19.9), (-49.3, -25.4)]
SKUS = ["a", "b", "c"]


@st.composite
def instances(draw: Any):
    n_sites = draw(st.integers(1, 4))
    sites = [
        site(
            f"s{i}",
            SITES[i],
            capacity_orders=draw(st.none() | st.integers(0, 4)),
            capacity_units=draw(st.none() | st.integers(0, 6)),
            online=draw(st.booleans()) or i == 0,
        )
        for i in range(n_sites)
    ]
    stocks = [
        stock(f"s{i}", k, draw(st.integers(0, 4)), draw(st.integers(0, 1)))
        for i in range(n_sites)
        for k in SKUS
        if draw(st.booleans())
    ]
    orders = []
    for o in range(draw(st.integers(1, 7))):
        n_lines = draw(st.integers(1, 3))
        skus = draw(st.permutations(SKUS))[:n_lines]
        where = SITES[draw(st.integers(0, 3))]
        orders.append(
            order(
                o,
                (where[0] + 0.1, where[1] + 0.1),
                *[(k, draw(st.integers(1, 3))) for k in skus],
                priority=draw(st.integers(0, 3)),
                ship_complete=draw(st.booleans()),
                max_shipments=draw(st.none() | st.integers(1, 2)),
            )
        )
    method = draw(st.sampled_from(["mip", "greedy_nearest", "greedy_fewest_splits"]))
    return request(sites, stocks, orders, method=method, time_limit_s=1.0, explain=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_random_allocation_passes_the_checker(req) -> None:
    result = allocate(req)
    assert check_allocation(req, result, DAY) == []
    if req.options.method == "mip":
        for base in result.baselines:
            assert result.totals.objective <= base.objective + 1e-6


def _solved() -> tuple[Any, AllocationResult]:
    req = request(
        [site("rio", RIO, capacity_orders=2), site("sp", SP)],
        [stock("rio", "a", 3, 1), stock("sp", "a", 5), stock("rio", "b", 2)],
        [order(1, RIO, ("a", 1), ("b", 1), ship_complete=True), order(2, RIO, ("a", 1))],
    )
    result = allocate(req)
    assert check_allocation(req, result, DAY) == []
    return req, result


def test_checker_catches_overselling_into_safety_stock() -> None:
    req, result = _solved()
    result.shipments[0].lines[0].quantity += 5
    errors = check_allocation(req, result, DAY)
    assert any("above safety stock" in e for e in errors)
    assert any("requested" in e for e in errors)


def test_checker_catches_a_lost_order() -> None:
    req, result = _solved()
    result.shipments.pop()
    assert any("missing" in e or "requested" in e for e in check_allocation(req, result, DAY))


def test_checker_catches_wrong_costs() -> None:
    req, result = _solved()
    result.shipments[0].cost.fixed += 1.0
    assert any("fixed cost" in e for e in check_allocation(req, result, DAY))


def test_checker_catches_capacity_and_ship_complete_breaks() -> None:
    req, result = _solved()
    req.sites[0].capacity_orders = 0
    errors = check_allocation(req, result, DAY)
    assert any("orders >" in e for e in errors)
    req, result = _solved()
    sc = next(sh for sh in result.shipments if sh.order_id == 1)
    sc.lines.pop()
    assert any("ship-complete" in e for e in check_allocation(req, result, DAY))


def test_checker_catches_a_held_order_shipping() -> None:
    req, result = _solved()
    req.orders[1].payment_status = "pending"
    assert any("payment" in e for e in check_allocation(req, result, DAY))
