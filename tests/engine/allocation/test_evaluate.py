"""The independent checker: passes random allocations, catches hand-broken ones."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.allocation import allocate, evaluate_allocation
from models.allocation import AllocationRequest, AllocationResult, UnfulfilledLine
from models.status import UnfulfilledReason, ViolationCode
from models.verdict import Violation
from tests.allocation_helpers import DAY, RIO, SP, order, request, site, stock
from tests.engine.routing.test_evaluate import emitted_codes

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
    verdict = evaluate_allocation(req, result, DAY)
    assert verdict.feasible, [v.message for v in verdict.violations]
    assert result.evaluation == verdict
    if req.options.method == "mip":
        for base in result.baselines:
            assert result.totals.objective <= base.objective + 1e-6


def _solved() -> tuple[AllocationRequest, AllocationResult]:
    req = request(
        [site("rio", RIO, capacity_orders=2), site("sp", SP)],
        [stock("rio", "a", 3, 1), stock("sp", "a", 5), stock("rio", "b", 2)],
        [order(1, RIO, ("a", 1), ("b", 1), ship_complete=True), order(2, RIO, ("a", 1))],
    )
    result = allocate(req)
    verdict = evaluate_allocation(req, result, DAY)
    assert verdict.feasible, [v.message for v in verdict.violations]
    return req, result


@pytest.fixture(scope="module")
def solved() -> tuple[AllocationRequest, AllocationResult]:
    """Two orders at Rio, shipped from Rio; a fresh deep copy per breaker."""
    return _solved()


def _violations(req: AllocationRequest, result: AllocationResult) -> list[Violation]:
    return evaluate_allocation(req, result, DAY).violations


def _codes(req: AllocationRequest, result: AllocationResult) -> set[ViolationCode]:
    return {v.code for v in _violations(req, result)}


def test_allocate_attaches_a_feasible_verdict_with_the_recomputed_totals(
    solved: tuple[AllocationRequest, AllocationResult],
) -> None:
    _, result = solved
    verdict = result.evaluation
    assert verdict is not None and verdict.feasible and verdict.violations == []
    t = result.totals
    assert verdict.cost == pytest.approx(t.objective)
    assert verdict.shipping_cost == pytest.approx(t.shipping_cost)
    assert verdict.unfulfilled_penalty == pytest.approx(t.unfulfilled_penalty)
    assert (verdict.units_shipped, verdict.shipments, verdict.splits) == (
        t.units_shipped,
        t.shipments,
        t.splits,
    )
    assert result.model_dump(mode="json")["evaluation"]["feasible"] is True


def test_checker_catches_overselling_into_safety_stock(
    solved: tuple[AllocationRequest, AllocationResult],
) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    result.shipments[0].lines[0].quantity += 5
    violations = _violations(req, result)
    codes = {v.code for v in violations}
    assert {ViolationCode.STOCK_EXCEEDED, ViolationCode.LINE_QUANTITY_MISMATCH} <= codes
    oversold = next(v for v in violations if v.code == ViolationCode.STOCK_EXCEEDED)
    assert oversold.site_id == result.shipments[0].site_id


def test_checker_catches_a_lost_order(solved: tuple[AllocationRequest, AllocationResult]) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    result.shipments.pop()
    assert {ViolationCode.LINE_MISSING, ViolationCode.LINE_QUANTITY_MISMATCH} & _codes(req, result)


def test_checker_catches_wrong_costs_and_names_the_shipment(
    solved: tuple[AllocationRequest, AllocationResult],
) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    sh = result.shipments[0]
    sh.cost.fixed += 1.0
    wrong = [v for v in _violations(req, result) if v.code == ViolationCode.COST_MISMATCH]
    assert any("fixed cost" in v.message for v in wrong)
    assert (wrong[0].order_id, wrong[0].site_id) == (sh.order_id, sh.site_id)


def test_checker_catches_capacity_and_ship_complete_breaks(
    solved: tuple[AllocationRequest, AllocationResult],
) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    req.sites[0].capacity_orders = 0
    assert ViolationCode.SITE_CAPACITY in _codes(req, result)
    req, result = (x.model_copy(deep=True) for x in solved)
    sc = next(sh for sh in result.shipments if sh.order_id == 1)
    sc.lines.pop()
    assert ViolationCode.SHIP_COMPLETE in _codes(req, result)


def test_checker_catches_a_held_order_shipping(
    solved: tuple[AllocationRequest, AllocationResult],
) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    req.orders[1].payment_status = "pending"
    assert ViolationCode.PAYMENT_NOT_AUTHORISED in _codes(req, result)


Breaker = Callable[[AllocationRequest, AllocationResult], None]
BREAKERS: dict[str, tuple[ViolationCode, Breaker]] = {}


def breaker(code: ViolationCode) -> Callable[[Breaker], Breaker]:
    """Register a function that breaks copies of the request and the allocation so that
    ``code`` must be reported."""

    def register(fn: Breaker) -> Breaker:
        BREAKERS[fn.__name__] = (code, fn)
        return fn

    return register


def _order_of(req: AllocationRequest, result: AllocationResult) -> Any:
    return next(o for o in req.orders if o.id == result.shipments[0].order_id)


def _site_of(req: AllocationRequest, result: AllocationResult) -> Any:
    return next(s for s in req.sites if s.id == result.shipments[0].site_id)


@breaker(ViolationCode.COST_MISMATCH)
def misprice_a_shipment(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].cost.fixed += 1.0


@breaker(ViolationCode.DISTANCE_MISMATCH)
def misreport_distance(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].distance_km += 1.0


@breaker(ViolationCode.EXPECTED_DATE_MISMATCH)
def misreport_expected_date(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].expected_date += dt.timedelta(days=1)


@breaker(ViolationCode.SUMMARY_MISMATCH)
def miscount_shipments(req: AllocationRequest, result: AllocationResult) -> None:
    result.totals.shipments += 1


@breaker(ViolationCode.LINE_MISSING)
def lose_an_order(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments = [sh for sh in result.shipments if sh.order_id != 2]
    result.unfulfilled = [u for u in result.unfulfilled if u.order_id != 2]


@breaker(ViolationCode.LINE_QUANTITY_MISMATCH)
def ship_one_more(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].lines[0].quantity += 1


@breaker(ViolationCode.UNKNOWN_LINE)
def invent_a_line(req: AllocationRequest, result: AllocationResult) -> None:
    made_up = UnfulfilledLine(order_id=99, line_id=1, quantity=1, reason=UnfulfilledReason.NO_STOCK)
    result.unfulfilled.append(made_up)


@breaker(ViolationCode.UNKNOWN_ORDER)
def ship_a_stranger(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].order_id = 99


@breaker(ViolationCode.UNKNOWN_SITE)
def ship_from_nowhere(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].site_id = "nowhere"


@breaker(ViolationCode.PAYMENT_NOT_AUTHORISED)
def decline_payment(req: AllocationRequest, result: AllocationResult) -> None:
    _order_of(req, result).payment_status = "declined"


@breaker(ViolationCode.SITE_OFFLINE)
def close_the_site(req: AllocationRequest, result: AllocationResult) -> None:
    _site_of(req, result).online = False


@breaker(ViolationCode.CHANNEL_NOT_SERVED)
def serve_stores_only(req: AllocationRequest, result: AllocationResult) -> None:
    _site_of(req, result).channels = ["store"]


@breaker(ViolationCode.BAD_SHIPMENT_LINE)
def ship_the_wrong_sku(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments[0].lines[0].sku = "zzz"


@breaker(ViolationCode.NO_LOCATION)
def forget_the_address(req: AllocationRequest, result: AllocationResult) -> None:
    _order_of(req, result).location = None


@breaker(ViolationCode.HARD_SLA_LATE)
def promise_today_under_a_hard_sla(req: AllocationRequest, result: AllocationResult) -> None:
    req.costs.sla = "hard"
    _order_of(req, result).promised_date = DAY


@breaker(ViolationCode.STOCK_EXCEEDED)
def sell_the_safety_stock(req: AllocationRequest, result: AllocationResult) -> None:
    sh = result.shipments[0]
    record = next(r for r in req.stock if (r.site_id, r.sku) == (sh.site_id, sh.lines[0].sku))
    record.safety_stock = record.on_hand


@breaker(ViolationCode.SITE_CAPACITY)
def shrink_the_site(req: AllocationRequest, result: AllocationResult) -> None:
    _site_of(req, result).capacity_units = 0


@breaker(ViolationCode.SITE_SHIPS_ORDER_TWICE)
def ship_twice_from_one_site(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments.append(result.shipments[0].model_copy(deep=True))


@breaker(ViolationCode.MAX_SHIPMENTS)
def split_beyond_the_limit(req: AllocationRequest, result: AllocationResult) -> None:
    other = result.shipments[0].model_copy(deep=True)
    other.site_id = next(s.id for s in req.sites if s.id != other.site_id)
    result.shipments.append(other)
    _order_of(req, result).max_shipments = 1


@breaker(ViolationCode.FALSE_UNFULFILLED_REASON)
def blame_no_stock_while_stock_is_left(req: AllocationRequest, result: AllocationResult) -> None:
    result.shipments = [sh for sh in result.shipments if sh.order_id != 2]
    result.unfulfilled.append(
        UnfulfilledLine(order_id=2, line_id=1, sku="a", quantity=1, reason="no_stock")
    )


@breaker(ViolationCode.EXPLANATION_MISMATCH)
def explain_a_shipped_order_as_unfulfilled(
    req: AllocationRequest, result: AllocationResult
) -> None:
    result.explanations[0].status = "unfulfilled"


@breaker(ViolationCode.SHIP_COMPLETE)
def ship_part_of_a_complete_order(req: AllocationRequest, result: AllocationResult) -> None:
    complete = next(sh for sh in result.shipments if sh.order_id == 1)
    complete.lines.pop()


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_checker_catches_a_broken_allocation(
    solved: tuple[AllocationRequest, AllocationResult], name: str
) -> None:
    req, result = (x.model_copy(deep=True) for x in solved)
    code, fn = BREAKERS[name]
    fn(req, result)
    assert code in _codes(req, result)


def _allocation_codes() -> set[ViolationCode]:
    return emitted_codes(importlib.import_module("engine.allocation.evaluate")) | emitted_codes(
        importlib.import_module("engine.allocation.evaluate_reasons")
    )


def test_every_code_the_checker_emits_is_provoked_by_a_broken_allocation() -> None:
    emitted = _allocation_codes()
    assert emitted == {code for code, _ in BREAKERS.values()}


def test_every_violation_code_is_emitted_by_an_evaluator() -> None:
    routing: set[ViolationCode] = set()
    for name in (
        "evaluate",
        "evaluate_links",
        "evaluate_reasons",
        "evaluate_schedule",
        "evaluate_plan",
        "evaluate_walk",
        "evaluate_reloads",
    ):
        routing |= emitted_codes(importlib.import_module(f"engine.routing.{name}"))
    allocation = _allocation_codes()
    packing = emitted_codes(importlib.import_module("engine.packing.evaluate"))
    assert routing | allocation | packing == set(ViolationCode)
