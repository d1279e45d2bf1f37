"""Unfulfilled reasons and explanations: true ones pass the checker, false ones are caught."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.allocation import allocate, evaluate_allocation
from models.allocation import (
    AllocationRequest,
    AllocationResult,
    CostSettings,
    UnfulfilledLine,
)
from models.status import UnfulfilledReason, ViolationCode
from tests.allocation_helpers import BH, DAY, RIO, SP, order, request, site, stock

MANAUS = (-60.02, -3.10)  # ~2700 km from São Paulo


def _codes(req: AllocationRequest, result: AllocationResult) -> set[ViolationCode]:
    return {v.code for v in evaluate_allocation(req, result, DAY).violations}


def _checked(req: AllocationRequest) -> AllocationResult:
    result = allocate(req)
    verdict = evaluate_allocation(req, result, DAY)
    assert verdict.feasible, [v.message for v in verdict.violations]
    return result


def _units(result: AllocationResult) -> int:
    return sum(sl.quantity for sh in result.shipments for sl in sh.lines)


def _past_orders() -> AllocationRequest:
    """Orders promised weeks before the plan date, one site near each, stock for all."""
    sites = [site("sp", SP), site("rio", RIO), site("bh", BH)]
    stocks = [stock(s, k, 6) for s in ("sp", "rio", "bh") for k in ("a", "b")]
    past = DAY - dt.timedelta(days=40)
    orders = [
        order(i, (where[0] + 0.05, where[1] + 0.05), ("a", 1), ("b", 1), promised_date=past)
        for i, where in enumerate([SP, RIO, BH, SP, RIO, BH])
    ]
    return request(sites, stocks, orders, explain=True)


def test_past_promised_dates_still_ship_at_least_what_the_greedy_ships() -> None:
    req = _past_orders()
    mip = _checked(req)
    greedy = _checked(
        req.model_copy(
            update={"options": req.options.model_copy(update={"method": "greedy_nearest"})}
        )
    )
    assert _units(greedy) == 12  # the greedy ships everything: the input allows it
    assert _units(mip) >= _units(greedy)
    assert not any(u.reason == UnfulfilledReason.UNECONOMIC for u in mip.unfulfilled)


def _far_order(drop_uneconomic: bool) -> AllocationRequest:
    """A priority-0 order 2700 km from the only site: 63 to ship against a penalty of 30."""
    return request(
        [site("sp", SP)],
        [stock("sp", "a", 5)],
        [order(1, MANAUS, ("a", 1), priority=0)],
        costs=CostSettings(drop_uneconomic=drop_uneconomic),
    )


def test_by_default_a_line_that_costs_more_than_its_penalty_still_ships() -> None:
    result = _checked(_far_order(drop_uneconomic=False))
    assert not result.unfulfilled
    assert _units(result) == 1


def _uneconomic() -> tuple[AllocationRequest, AllocationResult]:
    req = _far_order(drop_uneconomic=True)
    result = _checked(req)
    assert [u.reason for u in result.unfulfilled] == [UnfulfilledReason.UNECONOMIC]
    return req, result


def test_uneconomic_detail_names_the_site_and_the_dominant_cost() -> None:
    _, result = _uneconomic()
    detail = result.unfulfilled[0].detail
    assert "sp" in detail and "mostly distance" in detail and "30.00" in detail


@pytest.mark.parametrize(
    "reason", [r for r in UnfulfilledReason if r != UnfulfilledReason.UNECONOMIC]
)
def test_each_false_reason_is_flagged(reason: UnfulfilledReason) -> None:
    req, result = _uneconomic()
    result.unfulfilled[0].reason = reason
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(req, result)


def test_a_false_uneconomic_is_flagged() -> None:
    req = request([site("rio", RIO)], [stock("rio", "a", 5)], [order(1, RIO, ("a", 1))])
    result = _checked(req)
    sh = result.shipments.pop()
    result.unfulfilled.append(
        UnfulfilledLine(
            order_id=1, line_id=1, sku="a", quantity=1, reason="uneconomic", penalty=60.0
        )
    )
    result.explanations = []
    assert sh.cost_total < 60
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(req, result)


def test_true_reasons_of_held_and_invalid_orders_pass_and_false_ones_do_not() -> None:
    req = request(
        [site("rio", RIO)],
        [stock("rio", "a", 9)],
        [order(1, RIO, ("a", 1), payment_status="pending"), order(2, None, ("a", 1))],
    )
    result = _checked(req)
    by_order = {u.order_id: u for u in result.unfulfilled}
    assert by_order[1].reason == "payment_not_authorised"
    assert by_order[2].reason == "invalid_order"
    by_order[1].reason, by_order[2].reason = by_order[2].reason, by_order[1].reason
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(req, result)


def test_a_line_blocked_by_ship_complete_is_not_called_uneconomic() -> None:
    # order 1 (priority 3) takes the only b; ship-complete order 2 then cannot ship whole,
    # although its line a alone would be cheap to ship
    req = request(
        [site("rio", RIO)],
        [stock("rio", "a", 5), stock("rio", "b", 1)],
        [
            order(1, RIO, ("b", 1), priority=3),
            order(2, RIO, ("a", 1), ("b", 1), priority=0, ship_complete=True),
        ],
    )
    result = _checked(req)
    got = {(u.order_id, u.line_id): u.reason for u in result.unfulfilled}
    assert got == {
        (2, 1): UnfulfilledReason.SHIP_COMPLETE_IMPOSSIBLE,
        (2, 2): UnfulfilledReason.SHIP_COMPLETE_IMPOSSIBLE,
    }
    bad = result.model_copy(deep=True)
    bad.unfulfilled[0].reason = UnfulfilledReason.UNECONOMIC
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(req, bad)


def test_capacity_is_true_only_when_every_site_with_stock_is_full() -> None:
    req = request(
        [site("rio", RIO, capacity_orders=1), site("sp", SP, capacity_orders=0)],
        [stock("rio", "a", 5), stock("sp", "a", 5)],
        [order(1, RIO, ("a", 1), priority=3), order(2, RIO, ("a", 1))],
    )
    result = _checked(req)
    assert [u.reason for u in result.unfulfilled] == [UnfulfilledReason.CAPACITY]
    roomy = req.model_copy(deep=True)
    roomy.sites[1].capacity_orders = None  # now sp has room: "capacity" is false
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(roomy, result)


def test_an_explanation_that_contradicts_the_reasons_is_flagged() -> None:
    req, result = _uneconomic()
    assert not _codes(req, result)
    ex = result.explanations[0]
    ex.excluded = {"no_stock": 1}  # sp holds a: no site lacks stock
    assert ViolationCode.EXPLANATION_MISMATCH in _codes(req, result)
    req, result = _uneconomic()
    result.explanations[0].status = "allocated"
    assert ViolationCode.EXPLANATION_MISMATCH in _codes(req, result)
    req, result = _uneconomic()
    result.explanations[0].unfulfilled_penalty = 0.0
    assert ViolationCode.EXPLANATION_MISMATCH in _codes(req, result)


def test_the_evaluator_no_longer_trusts_a_held_reason() -> None:
    """A valid, paid order marked payment_not_authorised cost nothing before: now flagged."""
    req, result = _uneconomic()
    result.unfulfilled[0].reason = UnfulfilledReason.PAYMENT_NOT_AUTHORISED
    result.unfulfilled[0].penalty = 0.0
    result.totals.unfulfilled_penalty = 0.0
    assert ViolationCode.FALSE_UNFULFILLED_REASON in _codes(req, result)


def test_uneconomic_with_unavoidable_lateness_blames_distance_not_lateness() -> None:
    late = DAY - dt.timedelta(days=40)
    req = request(
        [site("sp", SP)],
        [stock("sp", "a", 5)],
        [order(1, MANAUS, ("a", 1), priority=0, promised_date=late)],
        costs=CostSettings(drop_uneconomic=True),
    )
    result = _checked(req)
    assert [u.reason for u in result.unfulfilled] == [UnfulfilledReason.UNECONOMIC]
    detail = result.unfulfilled[0].detail
    assert "mostly distance" in detail and "unavoidable" in detail
