r"""The exact strategy: the compact model of :mod:`~solvers.allocation.mip.bound` as a MIP.

Data, arcs, variables, constraints and objective are those of ``bound`` (built by the same
:func:`~solvers.allocation.mip.bound.build_full_lp` with ``integral=True``), with
``x_{ls} \in \{0, .., u_{ls}\}`` units, ``y_{os} \in \{0, 1\}`` ships-from (every pair has
one), ``z_o`` integer splits and ``w_o \in \{0, 1\}`` ship-complete order ``o`` ships (whole).
No pruning and no patterns: every plan is a point of the MIP at the same cost as
:func:`~solvers.allocation.data.plan_cost`, and every MIP point decodes (``x`` per arc) to a
plan that costs no more, so the MIP optimum is the problem's optimum and its dual bound is
valid for the real problem. The offset ``\sum_l p_l q_l`` rides on a column fixed at one, so
HiGHS's relative gap (``mip_rel_gap``) is the gap of the full objective.

HiGHS runs through :func:`scipy.optimize.milp` (time limit and relative gap; scipy takes no
warm start and no further HiGHS options, so ``highs_options`` do not apply here).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from models.errors import SolverError
from solvers.allocation.data import AllocationData, AllocationSolution, plan_cost
from solvers.allocation.mip.bound import FullLp, build_full_lp

#: How the exact MIP ended: proven within the gap asked, stopped with a plan, or no plan.
EXACT_STATUSES = ("optimal", "stopped", "no_solution", "no_time")


@dataclass(frozen=True)
class ExactResult:
    """The exact MIP's plan (None when it found none), its objective (the plan's cost), the
    solver's valid dual bound (NaN when none), how it ended, and its size and time."""

    plan: AllocationSolution | None
    objective: float
    bound: float
    status: str
    n_vars: int
    n_rows: int
    solve_s: float


def solve_exact(
    data: AllocationData, time_limit_s: float, relative_gap: float, cost_tol: float = 1e-6
) -> ExactResult:
    """Solve the exact MIP within ``time_limit_s`` to ``relative_gap``; decode its plan.

    Raises :class:`~models.errors.SolverError` if a decoded plan costs more than the MIP's
    objective (beyond ``cost_tol``, relative to the objective's size): the model would be wrong.
    """
    start = time.perf_counter()
    model = build_full_lp(data, integral=True)
    n_vars, n_rows = model.cost.shape[0], model.b_ub.shape[0] + model.b_eq.shape[0]
    left_s = time_limit_s - (time.perf_counter() - start)
    if left_s <= 0:
        return ExactResult(None, np.nan, np.nan, "no_time", n_vars, n_rows, time_limit_s)
    res = _milp(model, left_s, relative_gap)
    elapsed = time.perf_counter() - start
    raw_bound = getattr(res, "mip_dual_bound", None)
    bound = float(raw_bound) if raw_bound is not None else float("nan")
    bound = bound if np.isfinite(bound) else float("nan")
    if res.x is None:
        return ExactResult(None, np.nan, bound, "no_solution", n_vars, n_rows, elapsed)
    plan = decode(model, np.asarray(res.x, dtype=np.float64))
    cost = plan_cost(data, plan)
    mip_objective = float(res.fun)
    if cost > mip_objective + cost_tol * max(1.0, abs(mip_objective)):
        raise SolverError(f"exact MIP plan costs {cost} > its objective {mip_objective}")
    # Equal at an optimum; lower only if an incumbent pays for an empty shipment or split.
    status = "optimal" if res.status == 0 else "stopped"
    return ExactResult(plan, cost, bound, status, n_vars, n_rows, elapsed)


def _milp(model: FullLp, time_limit_s: float, relative_gap: float) -> OptimizeResult:
    """HiGHS on ``model`` with every column integer and the offset on a column fixed at 1."""
    n = model.cost.shape[0]
    cost = np.r_[model.cost, model.offset]
    lb, ub = np.r_[model.lb, 1.0], np.r_[model.ub, 1.0]
    constraints = []
    if model.b_ub.shape[0]:
        a_ub = sparse.hstack([model.a_ub, sparse.csr_matrix((model.b_ub.shape[0], 1))])
        constraints.append(LinearConstraint(a_ub.tocsr(), -np.inf, model.b_ub))
    if model.b_eq.shape[0]:
        a_eq = sparse.hstack([model.a_eq, sparse.csr_matrix((model.b_eq.shape[0], 1))])
        constraints.append(LinearConstraint(a_eq.tocsr(), model.b_eq, model.b_eq))
    return milp(
        cost,
        integrality=np.ones(n + 1),
        bounds=Bounds(lb, ub),
        constraints=constraints,
        options={"time_limit": time_limit_s, "mip_rel_gap": relative_gap},
    )


def decode(model: FullLp, values: np.ndarray) -> AllocationSolution:
    """The plan of a MIP point: units per arc (the first columns), rounded, zeros dropped."""
    n_arcs = model.arc_line.shape[0]
    units = np.rint(values[:n_arcs]).astype(np.int64)
    keep = units > 0
    return AllocationSolution(
        model.arc_line[keep], model.arc_site[keep], units[keep], method="mip", status="feasible"
    )
