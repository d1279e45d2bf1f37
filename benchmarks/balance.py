"""The workload-balance trade-off on the sample day: for each weight of ``options.balance``,
the plan's cost without the balance term (what the day costs to drive), its balance figure
(the longest route, or the busiest), the spread between routes and the vans used.

Two searches of the term, at the same time limit and on the same cores: ``sweep`` (the
engine's default, :mod:`engine.routing.balance`: the day without the term, then capped
days, on PyVRP or the hybrid) and ``ortools`` (OR-Tools' global span cost, the direct
min-max). Every plan is checked by the independent evaluator (``feasible`` in each row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.routing.solve import solve_routes
from models.routing import Balance, RoutingRequest, RoutingResult

#: Builds the day: (stops, search seconds) -> request (the CLI passes the sample day's).
DayMaker = Callable[[int, float], RoutingRequest]

#: (stops, search seconds, weights per metric) of a full and a quick run.
FULL = (150, 10.0, {"duration": [0, 10, 25, 50, 100], "stops": [0, 2, 5, 10, 20]})
QUICK = (40, 1.0, {"duration": [0, 50], "stops": [0, 10]})
#: The searches compared: the engine's default (the sweep) and OR-Tools' direct min-max.
SEARCHES = {"sweep": "auto", "ortools": "ortools"}


@dataclass(frozen=True)
class BalanceRow:
    """One plan of the curve."""

    search: str
    metric: str
    weight: float
    cost: float  # without the balance term
    balance_cost: float
    largest: float  # hours (duration) or stops
    smallest: float
    vans: int
    unassigned: int
    feasible: bool


def _figures(result: RoutingResult, metric: str) -> list[float]:
    if metric == "duration":
        return [r.summary.duration_s / 3600 for r in result.routes]
    return [float(r.summary.stops) for r in result.routes]


def run(
    out: Path,
    day: DayMaker,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[BalanceRow]:
    """Plan the sample day at each weight of each metric; write balance.json and .md."""
    n_stops, time_limit_s, weights = QUICK if quick else FULL
    rows = []
    for search, backend in SEARCHES.items():
        for metric, values in weights.items():
            for weight in values:
                if progress is not None:
                    progress(f"{search}: balance on {metric}, weight {weight}")
                rows.append(_row(day(n_stops, time_limit_s), search, backend, metric, weight, seed))
    out.mkdir(parents=True, exist_ok=True)
    (out / "balance.json").write_text(json.dumps([asdict(r) for r in rows], indent=2))
    (out / "balance.md").write_text(markdown(rows, quick))
    return rows


def _row(
    base: RoutingRequest, search: str, backend: str, metric: str, weight: float, seed: int
) -> BalanceRow:
    """One plan of the curve (weight 0: the day without the term, on that backend)."""
    options = base.options.model_copy(
        update={
            "backend": backend,
            "seed": seed,
            "balance": Balance(metric=metric, weight=weight) if weight else None,
        }
    )
    result = solve_routes(base.model_copy(update={"options": options}))
    figures = _figures(result, metric) or [0.0]
    return BalanceRow(
        search=search,
        metric=metric,
        weight=float(weight),
        cost=result.summary.cost - result.summary.balance_cost,
        balance_cost=result.summary.balance_cost,
        largest=max(figures),
        smallest=min(figures),
        vans=len(result.routes),
        unassigned=len(result.unassigned),
        feasible=bool(result.evaluation and result.evaluation.feasible),
    )


def markdown(rows: Sequence[BalanceRow], quick: bool) -> str:
    """The curve as a markdown table."""
    n_stops, time_limit_s, _ = QUICK if quick else FULL
    lines = [
        f"Sample day, {n_stops} stops, 12 vans, {time_limit_s:g} s per plan, seed 0.",
        "",
        "| search | metric | weight | cost without balance | balance cost | total | largest "
        "| smallest | vans | unassigned | feasible |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        unit = "h" if r.metric == "duration" else " stops"
        lines.append(
            f"| {r.search} | {r.metric} | {r.weight:g} | {r.cost:,.2f} | {r.balance_cost:,.2f} | "
            f"{r.cost + r.balance_cost:,.2f} | "
            f"{r.largest:.2f}{unit} | {r.smallest:.2f}{unit} | {r.vans} | {r.unassigned} | "
            f"{'yes' if r.feasible else 'NO'} |"
        )
    return "\n".join(lines) + "\n"
