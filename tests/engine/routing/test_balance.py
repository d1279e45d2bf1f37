"""Workload balance (``options.balance``, a min-max term): hand cases with known optima on
both ways of searching it (the sweep of caps, and OR-Tools' direct min-max), the evaluator
recomputing the balance cost."""

from __future__ import annotations

from typing import Any

import pytest

from engine.routing.evaluate import evaluate
from models.routing import RoutingRequest
from models.status import ViolationCode
from tests.helpers import line_request, served_by, solve_checked

#: Six stops, three each side of the depot at 0 (1 m/s, 1 per metre, no service).
SIX = [{"id": f"s{x}", "x": x} for x in (-30, -20, -10, 10, 20, 30)]
#: Two vans at the depot, 5 each to use: one van alone is cheaper without balance.
VANS = [{"id": v, "start_x": 0, "end_x": 0, "fixed_cost": 5.0} for v in ("a", "b")]


def _request(balance: dict[str, Any] | None, **options: Any) -> RoutingRequest:
    return line_request(
        SIX, VANS, balance=balance, time_limit_s=options.pop("limit", 1.0), **options
    )


def test_without_balance_one_van_serves_all_six() -> None:
    """By hand: one van, 0 -> -30 -> 0 -> 30 -> 0 is 120 m, plus 5 fixed: 125; two vans
    drive the same 120 m but pay 10."""
    result = solve_checked(_request(None))
    assert sorted(len(s) for s in served_by(result).values()) == [6]
    assert result.summary.cost == pytest.approx(125)
    assert result.summary.balance_cost == 0


@pytest.mark.parametrize("backend", ["auto", "ortools"])
@pytest.mark.parametrize(
    ("balance", "one_van", "two_vans"),
    [
        # per stop of the busiest: 125 + 10 * 6 = 185 against 130 + 10 * 3 = 160
        ({"metric": "stops", "weight": 10.0}, 185.0, 160.0),
        # per km of the longest: 125 + 500 * 0.12 = 185 against 130 + 500 * 0.06 = 160
        ({"metric": "distance", "weight": 500.0}, 185.0, 160.0),
        # per hour of the longest (120 s against 60 s): 1800 per hour = 0.5 per second
        ({"metric": "duration", "weight": 1800.0}, 185.0, 160.0),
    ],
    ids=["stops", "distance", "duration"],
)
def test_balance_splits_six_symmetric_stops_three_and_three(
    balance: dict[str, Any], one_van: float, two_vans: float, backend: str
) -> None:
    request = _request(balance, backend=backend, limit=2.0)
    result = solve_checked(request)
    assert sorted(len(s) for s in served_by(result).values()) == [3, 3]
    assert result.summary.cost == pytest.approx(two_vans)
    assert result.summary.balance_cost == pytest.approx(two_vans - 130)
    assert two_vans < one_van  # the hand optimum, against the unbalanced plan's cost


def test_a_small_weight_does_not_pay_for_a_second_van() -> None:
    """Stops at 1 per stop: 125 + 6 = 131 against 130 + 3 = 133: one van stays best."""
    result = solve_checked(_request({"metric": "stops", "weight": 1.0}))
    assert sorted(len(s) for s in served_by(result).values()) == [6]
    assert result.summary.cost == pytest.approx(131)


def test_the_evaluator_recomputes_the_balance_cost() -> None:
    request = _request({"metric": "stops", "weight": 10.0})
    result = solve_checked(request)
    wrong = result.model_copy(deep=True)
    wrong.summary.balance_cost = 0.0
    wrong.summary.cost -= 30.0
    codes = {v.code for v in evaluate(request, wrong).violations}
    assert ViolationCode.COST_MISMATCH in codes
    # the same plan judged without balance costs 30 less than it says
    plain = request.model_copy(
        update={"options": request.options.model_copy(update={"balance": None})}
    )
    assert ViolationCode.COST_MISMATCH in {v.code for v in evaluate(plain, result).violations}


def test_auto_sweeps_caps_and_ortools_searches_the_min_max() -> None:
    swept = solve_checked(_request({"metric": "stops", "weight": 10.0}, limit=2.0))
    assert swept.stats.solver_status.startswith("balance sweep, stops <= ")
    direct = solve_checked(_request({"metric": "stops", "weight": 10.0}, backend="ortools"))
    assert direct.stats.backend == "ortools"
    assert not direct.stats.solver_status.startswith("balance sweep")


def test_the_pyvrp_backend_alone_cannot_hold_the_term() -> None:
    """At the solver level PyVRP names the feature it lacks (the engine sweeps instead)."""
    from engine.routing.compile import compile_request
    from engine.routing.locations import resolve
    from solvers.routing.pyvrp import unsupported

    problem = compile_request(resolve(_request({"metric": "stops", "weight": 10.0})))
    assert "workload balance" in unsupported(problem.data)


def test_a_cap_no_backend_can_honour_ends_the_sweep_not_the_request() -> None:
    """Stops balanced on vans that reload: a max_stops cap cannot go with reloads, so the
    sweep keeps what it has instead of refusing a valid request."""
    stops = [{"id": f"s{k}", "x": 10 * k, "demand": {"kg": 6}} for k in (1, 2, 3, -1, -2)]
    vans = [
        {
            "id": v,
            "start_x": 0,
            "end_x": 0,
            "capacity": {"kg": 10},
            "reload_locations": [[0.0, 0.0]],
        }
        for v in ("a", "b")
    ]
    request = line_request(stops, vans, balance={"metric": "stops", "weight": 10.0})
    result = solve_checked(request)
    assert not result.unassigned
    assert result.summary.balance_cost == pytest.approx(
        10.0 * max(len(s) for s in served_by(result).values())
    )


def test_a_zero_weight_plans_the_day_as_without_balance() -> None:
    result = solve_checked(_request({"metric": "stops", "weight": 0.0}))
    assert not result.stats.solver_status.startswith("balance sweep")
    assert result.summary.balance_cost == 0
