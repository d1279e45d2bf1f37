"""The exact strategy (compact MIP of every arc): hand-built cases against the brute force."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.optimize import linprog

from models.allocation import AllocationOptions
from models.allocation import MipStrategy as OptionsStrategy
from solvers.allocation.data import AllocationData, AllocationSolution, plan_cost
from solvers.allocation.mip import MipParams, solve
from solvers.allocation.mip import entry as mip_entry
from solvers.allocation.mip.bound import build_full_lp, full_lp_bound
from solvers.allocation.mip.exact import ExactResult, solve_exact
from solvers.allocation.mip.params import MipStrategy
from tests.solvers.allocation.test_greedy import tiny
from tests.solvers.allocation.test_mip import _as_choice, _cost, _feasible, brute_force, random_tiny

_TOL = 1e-6
_EXACT = MipParams(time_limit_s=2.0, relative_gap=0.0, strategy="exact")


def _check_exact(data: AllocationData, optimum: float) -> AllocationSolution:
    """Solve with the exact strategy; the plan is feasible, costs ``optimum`` (which must be
    the brute force's), and is proven optimal."""
    assert brute_force(data)[0] == pytest.approx(optimum)  # the hand arithmetic holds
    plan = solve(data, _EXACT)
    choice = _as_choice(data, plan)
    assert _feasible(data, choice)
    assert _cost(data, choice) == pytest.approx(optimum, abs=_TOL)
    assert plan.objective == pytest.approx(plan_cost(data, plan), abs=_TOL)
    assert plan.status == "optimal"
    assert plan.bound == pytest.approx(optimum, abs=_TOL)
    assert plan.stats["exact"] == 1.0
    return plan


def test_ship_complete_order_leaves_room_to_a_partial_one_or_ships_whole() -> None:
    # Order 0 (ship-complete) wants 2 units of sku 0, order 1 wants 1; site 0 holds 2 (costs:
    # shipment 5 + 1, unit 1, penalty 100). A whole: (6 + 2) + 100 = 108; B first leaves A 1
    # unit, so A ships nothing: (6 + 1) + 200 = 207.
    data = tiny([[2]], [[(0, 2)], [(0, 1)]], [[1.0], [1.0]], sc=[True, False])
    plan = _check_exact(data, 108.0)
    assert plan.line.tolist() == [0] and plan.quantity.tolist() == [2]


def test_ship_complete_with_one_shipment_takes_the_far_site_with_everything() -> None:
    # Sites 0 (distance 1) and 1 (10) hold one sku each, site 2 (30) both. Whole from 0 and 1
    # would be (6 + 1) + (15 + 1) + 1 split = 24, but max one shipment: (35 + 2) = 37.
    data = tiny([[1, 0], [0, 1], [1, 1]], [[(0, 1), (1, 1)]], [[1.0, 10.0, 30.0]], sc=[True])
    assert brute_force(replace(data, order_max_shipments=np.array([2])))[0] == pytest.approx(24)
    plan = _check_exact(replace(data, order_max_shipments=np.array([1])), 37.0)
    assert set(plan.site.tolist()) == {2}


def test_max_shipments_against_leaving_a_line_short() -> None:
    # As above without ship-complete and far site at 50: two shipments 15; with one, site 2
    # (55 + 2 = 57) beats one line from site 0 and a short one (7 + 100 = 107).
    data = tiny([[1, 0], [0, 1], [1, 1]], [[(0, 1), (1, 1)]], [[1.0, 1.0, 50.0]])
    _check_exact(data, 15.0)
    _check_exact(replace(data, order_max_shipments=np.array([1])), 57.0)


def test_unit_capacity_forces_a_split() -> None:
    # 3 units of sku 0; both sites hold 3 but have room for 2 units. Split 2 + 1 from the
    # near site 0 (distance 1) and site 1 (40): (6 + 2) + (45 + 1) + 1 = 55; one site and a
    # unit short: 8 + 100 = 108.
    data = tiny([[3], [3]], [[(0, 3)]], [[1.0, 40.0]], cap_units=[2, 2])
    plan = _check_exact(data, 55.0)
    assert sorted(zip(plan.site.tolist(), plan.quantity.tolist(), strict=True)) == [(0, 2), (1, 1)]


def test_stock_left_for_another_order() -> None:
    # Order 0 wants 2 units, order 1 wants 1; site 0 (near both) holds 2, site 2 holds 1:
    # order 0 splits over sites 0 and 2 so that order 1 ships from site 0.
    data = tiny([[2], [0], [1]], [[(0, 2)], [(0, 1)]], [[1.0, 90.0, 20.0], [1.0, 90.0, 80.0]])
    plan = _check_exact(data, (6 + 25 + 2 + 1) + (6 + 1))
    assert _as_choice(data, plan) == brute_force(data)[1]


def test_no_empty_shipment_earns_a_negative_shipment_cost() -> None:
    # Shipments pay -10 (a rebate): one unit ships from one site, -10 + 1 = -9; an empty
    # second shipment would add -10 + 1 split, which no plan can have.
    data = tiny([[1], [1]], [[(0, 1)]], [[0.0, 0.0]])
    data = replace(data, shipment_cost=np.full((1, 2), -10.0))
    _check_exact(data, -9.0)


@pytest.mark.parametrize("seed", range(16))
def test_relaxation_of_the_mip_is_the_bound_lp(seed: int) -> None:
    # The MIP's LP relaxation has the bound's LP value (the bound drops y of one-arc pairs).
    data = random_tiny(seed)
    mip = build_full_lp(data, integral=True)
    res = linprog(
        mip.cost,
        A_ub=mip.a_ub if mip.b_ub.shape[0] else None,
        b_ub=mip.b_ub if mip.b_ub.shape[0] else None,
        A_eq=mip.a_eq if mip.b_eq.shape[0] else None,
        b_eq=mip.b_eq if mip.b_eq.shape[0] else None,
        bounds=np.column_stack([mip.lb, mip.ub]),
        method="highs",
    )
    assert res.status == 0
    assert res.fun + mip.offset == pytest.approx(full_lp_bound(data, 5.0, 10_000).value, abs=_TOL)
    assert res.fun + mip.offset <= brute_force(data)[0] + _TOL


def test_solve_exact_reports_its_size_and_proof() -> None:
    data = tiny([[3], [3]], [[(0, 3)]], [[1.0, 40.0]], cap_units=[2, 2])
    result = solve_exact(data, 2.0, 0.0)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(55.0)
    assert result.bound == pytest.approx(55.0)
    assert result.n_vars > 0 and result.n_rows > 0
    assert solve_exact(data, 0.0, 0.0).status == "no_time"


def test_auto_uses_exact_up_to_the_arc_limit() -> None:
    data = random_tiny(2)  # the pattern model misses this optimum
    optimum, _ = brute_force(data)
    small = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0))
    assert small.stats["exact"] == 1.0
    assert plan_cost(data, small) == pytest.approx(optimum)
    big = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, exact_max_arcs=1))
    assert "exact" not in big.stats
    assert plan_cost(data, big) > optimum + _TOL
    assert big.status == "feasible"  # its gap to the valid bound is not proven
    scip = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, backend="scip"))
    assert "exact" not in scip.stats  # auto keeps the backend asked for


def test_exact_without_a_plan_falls_back_to_the_pattern_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def nothing(*_args: object, **_kw: object) -> ExactResult:
        return ExactResult(None, float("nan"), float("nan"), "no_solution", 1, 1, 0.0)

    monkeypatch.setattr(mip_entry, "solve_exact", nothing)
    data = tiny([[1]], [[(0, 1)]], [[1.0]])
    plan = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0))
    assert plan.stats["exact_proven"] == 0.0
    assert "pattern_bound" in plan.stats
    assert plan_cost(data, plan) == pytest.approx(brute_force(data)[0])  # 6 + 1


def test_strategy_names_agree_and_bad_ones_are_rejected() -> None:
    assert get_args(MipStrategy) == get_args(OptionsStrategy)
    with pytest.raises(ValueError, match="strategy"):
        MipParams(strategy="brute")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exact"):
        MipParams(strategy="exact", backend="scip")
    with pytest.raises(ValueError, match="exact"):
        MipParams(strategy="exact", highs_options=(("presolve", "off"),))
    with pytest.raises(ValueError, match="exact_max_arcs"):
        MipParams(exact_max_arcs=-1)
    with pytest.raises(ValueError, match="exact_time_share"):
        MipParams(exact_time_share=0.0)
    with pytest.raises(ValidationError, match="strategy 'exact'"):
        AllocationOptions(strategy="exact", backend="cp_sat")


def test_a_stopped_exact_plan_warm_starts_the_pattern_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The exact MIP "stops" unproven (faked, with no bound): the pattern path runs warm from
    # its plan, which the pattern model (missing this optimum) cannot beat, so it is kept.
    data = random_tiny(2)
    optimum, _ = brute_force(data)

    def stopped(*args: object, **kw: object) -> ExactResult:
        real = solve_exact(data, 2.0, 0.0)
        return replace(real, status="stopped", bound=float("nan"))

    monkeypatch.setattr(mip_entry, "solve_exact", stopped)
    plan = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0))
    assert plan.stats["exact_proven"] == 0.0
    assert "pattern_bound" in plan.stats  # the pattern path ran
    assert plan_cost(data, plan) == pytest.approx(optimum, abs=_TOL)
    assert plan.bound < optimum - _TOL  # the full LP's bound: the gap is not proven
    assert plan.status == "feasible"
