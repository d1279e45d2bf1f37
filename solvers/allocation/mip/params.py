"""Settings of the allocation MIP: what to model, how to solve it, and the heuristics' knobs.

Every dataclass is frozen and rejects bad values in ``__post_init__``; the defaults are the
values the solver has always used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.status import MIP_BACKENDS, MipBackend

#: A HiGHS option value: routed to HiGHS's bool, int, double or string options by its type.
HighsValue = bool | int | float | str

#: Which model solves: ``exact`` (the compact MIP of every arc, HiGHS through scipy),
#: ``pattern`` (the pruned pattern MIP), or ``auto`` (exact up to ``exact_max_arcs`` eligible
#: arcs with the HiGHS backend and no ``highs_options``, else pattern).
MipStrategy = Literal["auto", "exact", "pattern"]
MIP_STRATEGIES: tuple[MipStrategy, ...] = ("auto", "exact", "pattern")


@dataclass(frozen=True)
class PatternParams:
    """How many patterns an order of many units may get; rejects bad values.

    Entry ``i`` of each tuple is for orders of 1, 2, 3-4 and 5 or more lines.
    """

    # Candidate sites kept per order (the cheapest by score), by number of lines.
    sites_kept: tuple[int, int, int, int] = (6, 8, 6, 5)
    # Largest subset of those sites a pattern ships from, by number of lines.
    max_subset: tuple[int, int, int, int] = (2, 2, 3, 3)

    def __post_init__(self) -> None:
        for name in ("sites_kept", "max_subset"):
            value = getattr(self, name)
            if len(value) != 4 or any(v < 1 for v in value):
                raise ValueError(f"{name} must be four integers >= 1, got {value}")

    def limits(self, n_lines: int) -> tuple[int, int]:
        """(candidate sites kept, largest site subset) for an order of ``n_lines`` lines."""
        if n_lines <= 1:
            i = 0
        elif n_lines == 2:
            i = 1
        elif n_lines <= 4:
            i = 2
        else:
            i = 3
        return self.sites_kept[i], self.max_subset[i]


@dataclass(frozen=True)
class LpFixParams:
    """The LP-fix heuristic: LP relaxation, then MIPs over widening neighbourhoods."""

    # A variable within this of 0 or 1 counts as whole in the LP solution.
    integrality_tol: float = 1e-6
    # A coupling row whose LP activity is within this of its upper bound is tight.
    tight_tol: float = 1e-6
    # Whole orders freed per tight row in the first neighbourhood round.
    initial_width: int = 16
    # Factor the width grows by from one round to the next.
    width_growth: int = 4
    # No new round starts with less than this many seconds left.
    min_round_s: float = 0.2
    # Share of the time left that one round's MIP may use.
    round_time_share: float = 0.5
    # A round's plan replaces the best one only if cheaper by more than this (absolute).
    improve_abs_tol: float = 1e-9
    # Relative improvement a round must bring, after the first, for another round to run.
    improve_rel_tol: float = 1e-6
    # The full MIP runs after the rounds only if more than this many seconds are left.
    min_full_mip_s: float = 0.5
    # Slack on ``relative_gap`` when the status is declared optimal.
    gap_tol: float = 1e-12

    def __post_init__(self) -> None:
        for name in (
            "integrality_tol",
            "tight_tol",
            "min_round_s",
            "improve_abs_tol",
            "improve_rel_tol",
            "min_full_mip_s",
            "gap_tol",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")
        if not 0 <= self.integrality_tol < 0.5:
            raise ValueError(f"integrality_tol must be in [0, 0.5), got {self.integrality_tol}")
        if self.initial_width < 1:
            raise ValueError(f"initial_width must be >= 1, got {self.initial_width}")
        if self.width_growth < 2:
            raise ValueError(f"width_growth must be >= 2, got {self.width_growth}")
        if not 0 < self.round_time_share <= 1:
            raise ValueError(f"round_time_share must be in (0, 1], got {self.round_time_share}")


@dataclass(frozen=True)
class MipParams:
    """Solver settings; rejects bad values."""

    # Wall time for everything: warm starts, pruning, building and solving.
    time_limit_s: float = 10.0
    # Stop when (objective - bound) / |objective| is at most this.
    relative_gap: float = 1e-3
    # Cheapest eligible sites kept per line (more are added until their stock covers it).
    candidates_per_line: int = 3
    # Sites kept per line of a scarce sku.
    candidates_scarce: int = 6
    # A sku is scarce when its demand exceeds this share of its supply.
    scarce_ratio: float = 0.8
    # Cheapest patterns kept per order of several units (plus the warm starts' patterns).
    patterns_per_order: int = 12
    # Which solver runs the MIPs (the LP always goes to HiGHS or SCIP through MathOpt).
    backend: MipBackend = "highs"
    # Solve independent components apart (when the full MIP runs).
    decompose: bool = True
    # Warm-start from both greedy plans when the caller gives none.
    warm_start: bool = True
    # Solver threads (SCIP and CP-SAT; HiGHS is left at its own default).
    threads: int = 1
    # Components with fewer variables are solved together in one model.
    component_min_vars: int = 2000
    # Run the LP-fix heuristic before the full MIP (HiGHS and SCIP only).
    lp_fix: bool = True
    # The LP relaxation uses barrier instead of dual simplex above this many variables.
    barrier_min_vars: int = 150_000
    # Extra HiGHS options (name, value), applied to every HiGHS solve.
    highs_options: tuple[tuple[str, HighsValue], ...] = ()
    # CP-SAT needs integer costs: they are multiplied by this and rounded (100: cents).
    cp_sat_cost_scale: int = 100
    # CP-SAT bounds are floored/ceiled after moving them by this, so 2.9999999999 stays 3.
    cp_sat_round_tol: float = 1e-9
    # Absolute gap at which HiGHS and SCIP stop.
    absolute_gap: float = 1e-6
    # The shortest time limit any single solve (or component) is given, in seconds.
    min_solve_time_s: float = 0.05
    # A stock or capacity row is kept only if its worst-case load exceeds it by more than this.
    binding_tol: float = 1e-9
    # The warm start replaces the MIP's plan only if cheaper by more than this.
    keep_start_tol: float = 1e-6
    # Compute the valid lower bound (LP relaxation of the full model, ``bound``) when the
    # instance has at most this many eligible (line, site) arcs; 0 never computes it. On the
    # 2-core machine the LP takes 0.5 s at 12k arcs (Olist), 2.7 s at 25k and over 120 s at
    # 264k (synthetic 10k x 50): above this the time it would reserve is better spent.
    bound_max_arcs: int = 100_000
    # Share of the time limit kept for that LP: the pattern MIP stops this much earlier.
    bound_time_share: float = 0.25
    # Exact MIP, pattern MIP, or exact when small enough (see ``MipStrategy``).
    strategy: MipStrategy = "auto"
    # ``auto`` solves the exact MIP up to this many eligible (line, site) arcs. On the 2-core
    # machine (10 s, gap 0.1%) full Olist (12k arcs; 20, 40 or 60 sites) is proven optimal in
    # 2-2.6 s; synthetic instances are harder: 1000x20 (11k arcs) stops at gap 0.004%, 1000x10
    # (6.8k) at 0.12%, 3000x10 (17.6k) at 15%, 1000x50 (24.7k) at 34%, and 10000x50 (264k)
    # finds no plan. Beyond this the pattern MIP makes better use of the time.
    exact_max_arcs: int = 15_000
    # Under ``auto``, share of the time left that the exact MIP gets; if it proves no gap
    # within ``relative_gap`` the pattern MIP gets the rest, warm-started from its plan.
    exact_time_share: float = 0.6
    # Pattern enumeration limits.
    patterns: PatternParams = field(default_factory=PatternParams)
    # The LP-fix heuristic's thresholds (used when ``lp_fix``).
    neighbourhood: LpFixParams = field(default_factory=LpFixParams)

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {self.time_limit_s}")
        if not 0 <= self.relative_gap < 1:
            raise ValueError(f"relative_gap must be in [0, 1), got {self.relative_gap}")
        if self.candidates_per_line < 1:
            raise ValueError(f"candidates_per_line must be >= 1, got {self.candidates_per_line}")
        if self.backend not in MIP_BACKENDS:
            raise ValueError(f"backend must be one of {MIP_BACKENDS}, got {self.backend!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.patterns_per_order < 1:
            raise ValueError(f"patterns_per_order must be >= 1, got {self.patterns_per_order}")
        if self.cp_sat_cost_scale < 1:
            raise ValueError(f"cp_sat_cost_scale must be >= 1, got {self.cp_sat_cost_scale}")
        if not self.min_solve_time_s > 0:
            raise ValueError(f"min_solve_time_s must be positive, got {self.min_solve_time_s}")
        if self.bound_max_arcs < 0:
            raise ValueError(f"bound_max_arcs must be >= 0, got {self.bound_max_arcs}")
        if not 0 <= self.bound_time_share < 1:
            raise ValueError(f"bound_time_share must be in [0, 1), got {self.bound_time_share}")
        if self.strategy not in MIP_STRATEGIES:
            raise ValueError(f"strategy must be one of {MIP_STRATEGIES}, got {self.strategy!r}")
        if not 0 < self.exact_time_share <= 1:
            raise ValueError(f"exact_time_share must be in (0, 1], got {self.exact_time_share}")
        if self.exact_max_arcs < 0:
            raise ValueError(f"exact_max_arcs must be >= 0, got {self.exact_max_arcs}")
        if self.strategy == "exact" and (self.backend != "highs" or self.highs_options):
            raise ValueError(
                "strategy 'exact' runs HiGHS through scipy: it needs backend 'highs' and no "
                f"highs_options, got backend {self.backend!r}, {len(self.highs_options)} options"
            )
        for name in ("cp_sat_round_tol", "absolute_gap", "binding_tol", "keep_start_tol"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")
        for item in self.highs_options:
            if len(item) != 2 or not isinstance(item[0], str):
                raise ValueError(f"highs_options must be (name, value) pairs, got {item!r}")
            if not isinstance(item[1], bool | int | float | str):
                raise ValueError(f"HiGHS option {item[0]!r} has an unusable value {item[1]!r}")

    def uses_exact(self, n_arcs: int) -> bool:
        """Whether an instance of ``n_arcs`` eligible arcs goes to the exact MIP."""
        if self.strategy != "auto":
            return self.strategy == "exact"
        return self.backend == "highs" and not self.highs_options and n_arcs <= self.exact_max_arcs
