"""The allocation pipeline: validate, compile, solve (MIP or greedy), decode, explain."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import numpy as np

from engine.allocation.compile import compile_request
from engine.allocation.decode import shipments_of, site_loads, unfulfilled_of
from engine.allocation.evaluate import evaluate_allocation
from engine.allocation.explain import explain
from engine.allocation.validate import check_request, validate_orders
from models.allocation import (
    AllocationRequest,
    AllocationResult,
    AllocationStats,
    BaselineSummary,
    Totals,
    UnfulfilledLine,
)
from solvers.allocation import greedy as allocation_greedy
from solvers.allocation import mip as allocation_mip
from solvers.allocation.data import AllocationData, AllocationSolution, empty_plan, plan_cost

#: Progress callback: (stage, seconds since start).
Progress = Callable[[str, float], None]


def _summary(data: AllocationData, plan: AllocationSolution) -> BaselineSummary:
    keep = plan.quantity > 0
    pairs = np.unique(data.line_order[plan.line[keep]] * max(data.n_sites, 1) + plan.site[keep])
    n_orders = np.unique(pairs // max(data.n_sites, 1)).shape[0]
    return BaselineSummary(
        method=plan.method,
        objective=plan_cost(data, plan),
        shipments=int(pairs.shape[0]),
        splits=int(pairs.shape[0] - n_orders),
        units_shipped=int(plan.quantity[keep].sum()),
        solve_time_s=plan.solve_time_s,
    )


def allocate(
    request: AllocationRequest,
    rejected: Sequence[UnfulfilledLine] = (),
    progress: Progress | None = None,
) -> AllocationResult:
    """Allocate ``request``; ``rejected`` are lines already refused while reading the input.

    Every order comes back, shipped or unfulfilled with a reason, and the result carries the
    independent checker's verdict in ``evaluation``. Raises
    :class:`~engine.allocation.validate.AllocationInputError` for request-level problems.
    """
    start = time.perf_counter()

    def tell(stage: str) -> None:
        if progress is not None:
            progress(stage, time.perf_counter() - start)

    check_request(request)
    validated = validate_orders(request)
    tell(f"validated: {len(validated.valid)} orders go on")
    plan_date = request.plan_date or dt.date.today()
    compiled = compile_request(request, validated.valid, plan_date)
    data = compiled.data
    opts = request.options
    tell("compiled")
    baselines: list[AllocationSolution] = []
    if data.n_orders == 0:
        plan = empty_plan(opts.method, "optimal")
    else:
        # Both greedy plans: baselines to report, and warm starts (and columns) of the MIP.
        baselines = [
            allocation_greedy.nearest_full_stock(data),
            allocation_greedy.fewest_splits(data),
        ]
        tell("greedy baselines done")
        if opts.method == "mip":
            params = allocation_mip.MipParams(
                time_limit_s=opts.time_limit_s,
                relative_gap=opts.relative_gap,
                candidates_per_line=opts.candidates_per_line,
                backend=opts.backend,
                lp_fix=opts.lp_fix,
                strategy=opts.strategy,
            )
            plan = allocation_mip.solve(data, params, warm_start=tuple(baselines))
            # Units the (pruned, time-limited) MIP left short that still pay for themselves.
            plan = allocation_greedy.top_up(data, plan)
        else:
            plan = next(p for p in baselines if p.method == opts.method)
        tell(f"solved: {plan.method} {plan.status}")
    shipments = shipments_of(compiled, plan)
    unfulfilled = unfulfilled_of(compiled, plan)
    explanations = explain(compiled, plan, shipments, unfulfilled) if opts.explain else []
    all_unfulfilled = list(rejected) + validated.rejected + unfulfilled
    shipping = float(sum(sh.cost_total for sh in shipments))
    penalty = float(sum(u.penalty for u in unfulfilled))
    shipped_orders = {sh.order_id for sh in shipments}
    short_orders = {u.order_id for u in unfulfilled}
    n_input = len(request.orders) + len({r.order_id for r in rejected})
    totals = Totals(
        orders=n_input,
        orders_allocated=len(shipped_orders - short_orders),
        orders_partial=len(shipped_orders & short_orders),
        orders_unfulfilled=n_input - len(shipped_orders),
        lines=sum(len(o.lines) for o in request.orders) + len(rejected),
        units_requested=sum(max(ln.quantity, 0) for o in request.orders for ln in o.lines)
        + sum(r.quantity for r in rejected),
        units_shipped=sum(ln.quantity for sh in shipments for ln in sh.lines),
        shipments=len(shipments),
        splits=len(shipments) - len(shipped_orders),
        shipping_cost=shipping,
        unfulfilled_penalty=penalty,
        objective=shipping + penalty,
    )
    gap = plan.gap if plan.method == "mip" else None
    stats = AllocationStats(
        method=plan.method,
        backend=opts.backend if plan.method == "mip" else None,
        status=plan.status,
        objective=shipping + penalty,
        bound=float(plan.bound) if np.isfinite(plan.bound) else None,
        gap=float(gap) if gap is not None and np.isfinite(gap) else None,
        solve_time_s=time.perf_counter() - start,
        details={k: float(v) for k, v in plan.stats.items()},
    )
    tell("decoded")
    result = AllocationResult(
        shipments=shipments,
        unfulfilled=all_unfulfilled,
        site_loads=site_loads(compiled, shipments),
        totals=totals,
        stats=stats,
        explanations=explanations,
        baselines=[_summary(data, p) for p in baselines] if opts.compare_greedy else [],
    )
    # The independent checker's verdict, recomputed from the request and the result alone.
    result.evaluation = evaluate_allocation(request, result, plan_date, rejected)
    return result
