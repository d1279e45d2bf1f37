"""The allocation MIP over arrays: optimality on small cases, backends, and pruning."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.allocation.data import plan_cost
from solvers.allocation.greedy import fewest_splits, nearest_full_stock
from solvers.allocation.mip import MipParams, solve
from tests.solvers.allocation.test_greedy import tiny


def brute_force_cost(data) -> float:
    """Optimum of a single-unit-lines instance by enumerating every assignment."""
    import itertools

    best = np.inf
    n_l, n_s = data.n_lines, data.n_sites
    for choice in itertools.product(range(-1, n_s), repeat=n_l):
        from solvers.allocation.data import AllocationSolution

        ln = np.asarray([i for i, c in enumerate(choice) if c >= 0], dtype=np.int64)
        st = np.asarray([c for c in choice if c >= 0], dtype=np.int64)
        plan = AllocationSolution(ln, st, np.ones(ln.shape[0], dtype=np.int64), method="bf")
        used = np.zeros_like(data.available)
        np.add.at(used, (st, data.line_sku[ln]), 1)
        if np.any(used > data.available):
            continue
        o = data.line_order[ln]
        pairs = np.unique(o * n_s + st)
        n_orders_at = np.bincount(pairs % n_s, minlength=n_s)
        if np.any(n_orders_at > data.site_capacity_orders):
            continue
        if np.any(np.bincount(st, minlength=n_s) > data.site_capacity_units):
            continue
        if np.any(np.bincount(pairs // n_s, minlength=data.n_orders) > data.order_max_shipments):
            continue
        sc_bad = False
        for oo in np.nonzero(data.order_ship_complete)[0]:
            got = np.isin(np.arange(data.line_start[oo], data.line_start[oo + 1]), ln)
            sc_bad |= bool(got.any() and not got.all())
        if sc_bad:
            continue
        best = min(best, plan_cost(data, plan))
    return best


@pytest.mark.parametrize("backend", ["highs", "scip", "cp_sat"])
def test_every_backend_finds_the_brute_force_optimum(backend: str) -> None:
    data = tiny(
        [[1, 1, 0], [1, 0, 1], [0, 1, 1]],
        [[(0, 1), (1, 1)], [(0, 1)], [(2, 1), (1, 1)]],
        [[1.0, 30.0, 60.0], [40.0, 2.0, 50.0], [70.0, 20.0, 3.0]],
        cap_orders=[2, 2, 2],
        max_ship=[2, 1, 2],
    )
    plan = solve(data, MipParams(time_limit_s=2.0, backend=backend, relative_gap=0.0))
    assert plan.objective == pytest.approx(brute_force_cost(data), rel=1e-6)
    assert plan.gap <= 1e-6 + (0.01 if backend == "cp_sat" else 0)


@pytest.mark.parametrize("formulation", ["pattern", "direct"])
def test_both_formulations_agree(formulation: str) -> None:
    data = tiny(
        [[2, 1], [1, 2], [1, 1]],
        [[(0, 2), (1, 1)], [(0, 1)], [(1, 2)], [(0, 1), (1, 1)]],
        [[1.0, 30.0, 9.0], [40.0, 2.0, 9.0], [5.0, 20.0, 9.0], [9.0, 9.0, 1.0]],
        cap_orders=[2, 2, 2],
    )
    pattern = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0))
    other = solve(data, MipParams(time_limit_s=2.0, relative_gap=0.0, formulation=formulation))
    assert other.objective == pytest.approx(pattern.objective, rel=1e-6)


def test_mip_is_never_worse_than_its_warm_starts() -> None:
    rng = np.random.default_rng(3)
    avail = rng.integers(0, 3, (6, 8)).tolist()
    lines = [
        [
            (int(k), int(rng.integers(1, 3)))
            for k in rng.choice(8, rng.integers(1, 4), replace=False)
        ]
        for _ in range(30)
    ]
    dist = rng.uniform(1, 100, (30, 6)).tolist()
    data = tiny(avail, lines, dist, cap_orders=[6] * 6)
    plan = solve(data, MipParams(time_limit_s=2.0, candidates_per_line=1))
    for greedy in (nearest_full_stock(data), fewest_splits(data)):
        assert plan.objective <= greedy.objective + 1e-6
    assert plan.bound <= plan.objective + 1e-6


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="time_limit_s"):
        MipParams(time_limit_s=0)
    with pytest.raises(ValueError, match="backend"):
        MipParams(backend="gurobi")  # type: ignore[arg-type]
