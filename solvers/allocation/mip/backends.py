"""The solve calls: HiGHS and SCIP through MathOpt (from a ``ModelProto``), and CP-SAT."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
from scipy import sparse

from solvers.allocation.data import FloatArray
from solvers.allocation.mip.arrays import MipArrays, Outcome
from solvers.allocation.mip.params import MipParams


def solve_arrays(
    mip: MipArrays,
    params: MipParams,
    time_limit_s: float,
    hint: FloatArray | None,
    relax: bool = False,
) -> Outcome:
    """Solve ``mip`` (its LP relaxation if ``relax``) with the backend ``params`` names.

    The LP always goes to MathOpt: dual simplex, or barrier above ``barrier_min_vars``.
    """
    if relax:
        lp = MipArrays(
            mip.cost,
            mip.lb,
            mip.ub,
            np.zeros(mip.n_vars, dtype=bool),
            mip.rows,
            mip.cols,
            mip.vals,
            mip.row_lb,
            mip.row_ub,
            mip.offset,
        )
        barrier = mip.n_vars > params.barrier_min_vars
        return solve_mathopt(lp, params, time_limit_s, None, barrier=barrier)
    if params.backend == "cp_sat":
        return solve_cp_sat(mip, params, time_limit_s, hint)
    return solve_mathopt(mip, params, time_limit_s, hint)


# --------------------------------------------------------------------------- MathOpt


def solve_mathopt(
    mip: MipArrays,
    params: MipParams,
    time_limit_s: float,
    hint: FloatArray | None,
    barrier: bool = False,
) -> Outcome:
    """HiGHS or SCIP (``params.backend``) through MathOpt, without per-variable objects."""
    from ortools.math_opt import model_parameters_pb2
    from ortools.math_opt.core.python import solver as core_solver
    from ortools.math_opt.python import callback, init_arguments, mathopt

    proto = _model_proto(mip)
    highs = params.backend == "highs"
    solver_type = mathopt.SolverType.HIGHS if highs else mathopt.SolverType.GSCIP
    model_params = model_parameters_pb2.ModelSolveParametersProto()
    if hint is not None:
        h = model_params.solution_hints.add()
        h.variable_values.ids.extend(range(mip.n_vars))  # a complete point: checked, not searched
        h.variable_values.values.extend(hint.tolist())
    result = core_solver.solve(
        proto,
        solver_type.value,
        init_arguments.StreamableSolverInitArguments().to_proto(),
        _solve_parameters(params, time_limit_s, barrier).to_proto(),
        model_params,
        None,
        callback.CallbackRegistration().to_proto(),
        None,
        None,
    )
    return _outcome(result, mip.n_vars)


def _model_proto(mip: MipArrays) -> Any:
    """``mip`` as a MathOpt ``ModelProto`` (variable ``i`` and row ``r`` keep their ids)."""
    from ortools.math_opt import model_pb2

    proto = model_pb2.ModelProto()
    proto.variables.ids.extend(range(mip.n_vars))
    proto.variables.lower_bounds.extend(mip.lb.tolist())
    proto.variables.upper_bounds.extend(mip.ub.tolist())
    proto.variables.integers.extend(mip.integer.tolist())
    proto.objective.maximize = False
    proto.objective.offset = mip.offset
    nz = np.nonzero(mip.cost)[0]
    proto.objective.linear_coefficients.ids.extend(nz.tolist())
    proto.objective.linear_coefficients.values.extend(mip.cost[nz].tolist())
    proto.linear_constraints.ids.extend(range(mip.n_rows))
    proto.linear_constraints.lower_bounds.extend(mip.row_lb.tolist())
    proto.linear_constraints.upper_bounds.extend(mip.row_ub.tolist())
    order = np.lexsort((mip.cols, mip.rows))
    matrix = proto.linear_constraint_matrix
    matrix.row_ids.extend(mip.rows[order].tolist())
    matrix.column_ids.extend(mip.cols[order].tolist())
    matrix.coefficients.extend(mip.vals[order].tolist())
    return proto


def _solve_parameters(params: MipParams, time_limit_s: float, barrier: bool) -> Any:
    """MathOpt ``SolveParameters``: limits, gaps, threads (SCIP only) and HiGHS options."""
    from ortools.math_opt.python import mathopt

    highs = params.backend == "highs"
    solve_params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(time_limit_s, params.min_solve_time_s)),
        relative_gap_tolerance=params.relative_gap,
        absolute_gap_tolerance=params.absolute_gap,
        threads=None if highs else params.threads,
        lp_algorithm=mathopt.LPAlgorithm.BARRIER if barrier else None,
    )
    if highs:
        options = solve_params.highs
        for key, value in params.highs_options:
            if isinstance(value, bool):
                options.bool_options[key] = value
            elif isinstance(value, int):
                options.int_options[key] = value
            elif isinstance(value, float):
                options.double_options[key] = value
            else:
                options.string_options[key] = value
    return solve_params


def _outcome(result: Any, n: int) -> Outcome:
    """The first primal solution, the first reduced costs, bounds and status of a result."""
    from ortools.math_opt.python import mathopt

    status = mathopt.TerminationReason(result.termination.reason).name.lower()
    bounds = result.termination.objective_bounds
    values = None
    for sol in result.solutions:
        if sol.HasField("primal_solution"):
            vv = sol.primal_solution.variable_values
            values = np.zeros(n)
            values[np.asarray(vv.ids, dtype=np.int64)] = np.asarray(vv.values)
            break
    reduced = None
    for sol in result.solutions:
        if sol.HasField("dual_solution"):
            rc = sol.dual_solution.reduced_costs
            reduced = np.zeros(n)
            reduced[np.asarray(rc.ids, dtype=np.int64)] = np.asarray(rc.values)
            break
    return Outcome(values, float(bounds.primal_bound), float(bounds.dual_bound), status, reduced)


# --------------------------------------------------------------------------- CP-SAT


def solve_cp_sat(
    mip: MipArrays, params: MipParams, time_limit_s: float, hint: FloatArray | None
) -> Outcome:
    """CP-SAT on ``mip`` with costs scaled by ``cp_sat_cost_scale`` and rounded."""
    from ortools.sat.python import cp_model

    scale = params.cp_sat_cost_scale
    model, xs = _cp_model(mip, scale, params.cp_sat_round_tol)
    if hint is not None:
        for i in np.nonzero(hint)[0].tolist():
            model.add_hint(xs[i], round(hint[i]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, params.min_solve_time_s)
    solver.parameters.relative_gap_limit = params.relative_gap
    solver.parameters.num_workers = max(params.threads, 1)
    code = solver.solve(model)
    status = solver.status_name(code).lower()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Outcome(None, float("inf"), float("-inf"), status)
    values = np.asarray([solver.value(x) for x in xs], dtype=np.float64)
    obj = float(mip.cost @ values) + mip.offset
    bound = solver.best_objective_bound / scale + mip.offset
    return Outcome(values, obj, bound, status)


def _cp_model(mip: MipArrays, scale: int, tol: float) -> tuple[Any, list[Any]]:
    """``mip`` as a ``CpModel`` (bounds moved by ``tol`` before rounding) and its variables."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    lb = np.ceil(mip.lb - tol).astype(np.int64).tolist()
    ub = np.floor(mip.ub + tol).astype(np.int64).tolist()
    xs = [model.new_int_var(a, b, "") for a, b in zip(lb, ub, strict=True)]
    csr = sparse.csr_matrix((mip.vals, (mip.rows, mip.cols)), shape=(mip.n_rows, mip.n_vars))
    for r in range(mip.n_rows):
        cols = csr.indices[csr.indptr[r] : csr.indptr[r + 1]].tolist()
        vals = np.rint(csr.data[csr.indptr[r] : csr.indptr[r + 1]]).astype(np.int64).tolist()
        expr = cp_model.LinearExpr.weighted_sum([xs[c] for c in cols], vals)
        if np.isfinite(mip.row_lb[r]) and mip.row_lb[r] == mip.row_ub[r]:
            model.add(expr == round(mip.row_ub[r]))
        else:
            if np.isfinite(mip.row_ub[r]):
                model.add(expr <= int(np.floor(mip.row_ub[r] + tol)))
            if np.isfinite(mip.row_lb[r]):
                model.add(expr >= int(np.ceil(mip.row_lb[r] - tol)))
    scaled = np.rint(mip.cost * scale).astype(np.int64)
    nz = np.nonzero(scaled)[0].tolist()
    model.minimize(cp_model.LinearExpr.weighted_sum([xs[i] for i in nz], scaled[nz].tolist()))
    return model, xs
