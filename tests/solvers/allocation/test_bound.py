"""The valid lower bound (LP of the full model): below every optimum, and the gap it proves."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.allocation.data import AllocationData, plan_cost
from solvers.allocation.mip import MipParams, solve
from solvers.allocation.mip.bound import (
    build_full_lp,
    count_eligible_arcs,
    full_lp_bound,
    lagrangian_bound,
)
from tests.solvers.allocation.test_greedy import tiny
from tests.solvers.allocation.test_mip import _PATTERN_GAPS, brute_force, random_tiny

_TOL = 1e-6


def _contended() -> tuple[AllocationData, float, float]:
    """Two orders of 2 units of one sku, 3 in stock at the only site; by hand (shipment 5 + 5
    for the distance, unit 1, penalty 100): the best plan ships A whole and 1 unit of B,
    ``(10 + 2) + (10 + 1) + 100 = 123``; the LP ships 3 units with ``y = 1, 1/2`` (a shipment
    may carry 2 units), ``10 * 1.5 + 3 * 1 + 100 = 118``."""
    data = tiny([[3]], [[(0, 2)], [(0, 2)]], [[5.0], [5.0]])
    return data, 123.0, 118.0


def test_hand_built_lp_value() -> None:
    data, optimum, lp_value = _contended()
    assert brute_force(data)[0] == pytest.approx(optimum)  # the hand arithmetic holds
    bound = full_lp_bound(data, 5.0, 1000)
    assert bound.status == "optimal"
    assert bound.n_arcs == 2
    assert bound.value == pytest.approx(lp_value, abs=_TOL)


def test_hand_built_gap_is_proven_against_the_lp() -> None:
    data, optimum, lp_value = _contended()
    plan = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, strategy="pattern"))
    assert plan.objective == pytest.approx(optimum)
    assert plan.bound == pytest.approx(lp_value, abs=_TOL)
    assert plan.gap == pytest.approx((optimum - lp_value) / optimum, abs=_TOL)
    assert plan.stats["pattern_bound"] == pytest.approx(optimum, abs=_TOL)  # pruned: tight


def _ship_complete() -> AllocationData:
    """One ship-complete order (2 units of sku 0, 1 of sku 1) at a site holding 1 and 1."""
    return tiny([[1, 1]], [[(0, 2), (1, 1)]], [[5.0]], sc=[True])


@pytest.mark.parametrize("case", ["contended", "ship_complete"])
def test_any_duals_give_a_bound_below_the_lp(case: str) -> None:
    # The LP values are the hand-computed ones of the two tests here.
    data, lp_value = (_contended()[0], 118.0) if case == "contended" else (_ship_complete(), 161.5)
    lp = build_full_lp(data)
    assert lp.b_eq.shape[0] == (2 if case == "ship_complete" else 0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        duals_ub = -np.asarray(rng.exponential(50.0, lp.b_ub.shape[0]), dtype=np.float64)
        duals_eq = np.asarray(rng.normal(0.0, 50.0, lp.b_eq.shape[0]), dtype=np.float64)
        assert lagrangian_bound(lp, duals_ub, duals_eq) <= lp_value + _TOL


def test_ship_complete_lp_value() -> None:
    # One ship-complete order of 2 units of sku 0 and 1 unit of sku 1 at one site holding
    # 1 and 1. No plan ships it (the sku-0 line can't be whole): optimum 300 in penalties.
    # By hand, the LP ships a share w of the order: x0 = 2w <= min(2, 1) y, x1 = w <= y, so
    # w <= 1/2 and y >= 2w; cost(w) = 10 * 2w + 3w + 100 * (3 - 3w) = 300 - 277w, least at
    # w = 1/2: 161.5. Without the ship-complete rows it would be 10 + 2 + 100 = 112.
    data = _ship_complete()
    assert brute_force(data)[0] == pytest.approx(300.0)
    assert full_lp_bound(data, 5.0, 1000).value == pytest.approx(161.5, abs=_TOL)


@pytest.mark.parametrize("seed", range(16))
def test_bound_holds_on_tiny_instances(seed: int) -> None:
    data = random_tiny(seed)
    optimum, _ = brute_force(data)
    bound = full_lp_bound(data, 5.0, 10_000)
    assert bound.status == "optimal"
    assert bound.value <= optimum + _TOL
    plan = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, strategy="pattern"))
    cost = plan_cost(data, plan)
    assert plan.bound <= optimum + _TOL
    assert plan.bound <= cost + _TOL
    assert plan.gap >= (cost - optimum) / cost - _TOL  # never claims more than is true


@pytest.mark.parametrize("seed", sorted(_PATTERN_GAPS))
def test_gap_is_positive_where_the_mip_misses_the_optimum(seed: int) -> None:
    data = random_tiny(seed)
    optimum, _ = brute_force(data)
    plan = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, strategy="pattern"))
    cost = plan_cost(data, plan)
    assert cost > optimum + _TOL  # the pattern model misses it (test_mip's xfails)
    assert plan.gap > 0
    assert plan.gap >= (cost - optimum) / cost - _TOL


def test_too_many_arcs_reports_no_bound() -> None:
    data, _, _ = _contended()
    assert count_eligible_arcs(data) == 2
    guard = full_lp_bound(data, 5.0, 1)
    assert guard.status == "too_large"
    assert np.isnan(guard.value)
    params = MipParams(time_limit_s=2.0, relative_gap=0.0, bound_max_arcs=1, strategy="pattern")
    plan = solve(data, params)
    assert np.isnan(plan.bound)
    assert np.isnan(plan.gap)
    assert plan.stats["pattern_bound"] == pytest.approx(123.0, abs=_TOL)


def test_no_time_reports_no_bound() -> None:
    data, _, _ = _contended()
    result = full_lp_bound(data, 0.0, 1000)
    assert result.status == "no_time"
    assert np.isnan(result.value)


def test_nothing_can_ship_is_bounded_by_the_penalties() -> None:
    data = tiny([[0]], [[(0, 2)]], [[1.0]])
    plan = solve(data, MipParams(time_limit_s=1.0))
    assert plan.bound == pytest.approx(200.0)
    assert plan.objective == pytest.approx(200.0)
    assert plan.gap == 0.0


@pytest.mark.parametrize(
    "field, value", [("bound_max_arcs", -1), ("bound_time_share", 1.0), ("bound_time_share", -0.1)]
)
def test_bad_bound_parameters_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        MipParams(**{field: value})  # type: ignore[arg-type]
