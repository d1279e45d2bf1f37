r"""Cost-optimal allocation of order lines to sites: an exact MIP, or one over pruned patterns.

Strategy (``MipParams.strategy``)
    ``exact`` solves the compact MIP of every eligible arc (``exact``: integer units
    ``x_{ls}``, binary ships-from ``y_{os}``, splits, ship-complete whole-or-nothing; its rows
    are those of ``bound``, which solves their LP relaxation) with HiGHS through scipy: its
    optimum is the problem's. ``pattern`` solves the restricted model below (pruned arcs,
    greedy-filled patterns), which scales further but can miss the optimum. ``auto`` (the
    default) runs ``exact`` up to ``exact_max_arcs`` eligible arcs with the HiGHS backend for
    ``exact_time_share`` of the time, then, if the gap is not proven, the pattern MIP on the
    rest, warm-started from the exact plan; beyond the limit it runs ``pattern`` alone.
    Either way ``bound`` is valid for the real problem (the exact MIP's dual bound or the full
    LP's), and ``status`` is ``"optimal"`` only when the gap to it meets ``relative_gap``.

Data (see :class:`~solvers.allocation.data.AllocationData`)
    Sites ``s`` with order and unit capacities ``C^o_s``, ``C^u_s``; available stock
    ``a_{sk}`` (on hand minus safety stock); orders ``o`` with lines ``l`` of sku ``k(l)`` and
    quantity ``q_l``; max shipments ``m_o``; a ship-complete flag; eligibility ``e_{os}``
    (online site, channel allowed, hard SLA met); shipment cost ``f_{os}`` (fixed + distance +
    soft-SLA lateness); unit cost ``c_{os}`` (per-unit shipping + handling); split penalty
    ``\sigma``; unfulfilled penalty ``p_l`` per unit (by priority).

Candidates (pruning)
    Arcs ``(l, s)`` exist only for eligible sites holding the sku: the ``k`` cheapest per line
    for a whole-line shipment, more until their stock reaches ``q_l``, up to
    ``candidates_scarce`` for a scarce sku (demand above ``scarce_ratio`` of supply), and every
    site that a warm-start (greedy) plan uses, so the MIP can never be worse than the greedy.

Patterns (the columns)
    A pattern ``j`` of order ``o`` says how many units of each line ship from which site. A
    single-line, single-unit order has one pattern per arc -- no shipment binary at all. Any
    other order gets, for each subset ``S'`` of its (at most 5-8, ``patterns.sites_kept``) best
    candidate sites of size up to ``min(m_o, 2 or 3)`` (``patterns.max_subset``), the
    cheapest filling of its lines from ``S'`` (cheapest unit cost first, splitting a line when
    one site lacks stock); subsets with an unused site and ship-complete patterns that fall
    short are skipped; the ``patterns_per_order`` cheapest are kept, plus each greedy plan's
    pattern for the order. Pattern cost ``g_j`` is exact:
    ``\sum_{s \in S_j} f_{os} + \sum c_{os} x + \sigma (|S_j| - 1) - \sum_l p_l x_l`` (the
    penalty it saves), so splits, max shipments and ship-complete live inside the columns.

Variables
    ``z_j \in \{0, 1\}``: order ``o(j)`` ships as pattern ``j`` (none: it ships nothing).

Constraints
    one pattern:  ``\sum_{j \in o} z_j \le 1``                      for every order;
    stock:        ``\sum_j x_{j,s,k} z_j \le a_{sk}``              for every (site, sku);
    unit cap.:    ``\sum_j u_{j,s} z_j \le C^u_s``                 for every site;
    order cap.:   ``\sum_j [s \in S_j] z_j \le C^o_s``             for every site.
    Rows whose worst case (each order's largest load) fits are dropped; orders that then share
    no row are independent components.

Objective (minimise)
    ``\sum_j g_j z_j + \sum_l p_l q_l``: shipping, handling, splits and lateness, plus the
    penalty of every unit left unfulfilled.

Solving (``lp_fix=True``, HiGHS or SCIP through MathOpt)
    The model goes from numpy arrays straight into a MathOpt ``ModelProto`` (no per-variable
    Python objects). 1) The LP relaxation (dual simplex; barrier above ``barrier_min_vars``)
    gives the lower bound; per order, its columns are nearly a convex hull, so the LP is tight
    and few orders are fractional. 2) Orders the LP serves with one whole pattern keep it,
    except those on a tight stock/capacity row shared with a fractional order that lose least
    by moving (smallest reduced cost of another pattern), up to a width per row (16 at first,
    ``neighbourhood.initial_width``); the freed orders are solved as a MIP against what the
    fixed ones leave. The neighbourhood widens (x4, ``neighbourhood.width_growth``) until the
    gap to the LP bound meets ``relative_gap``; 3) failing that, the full MIP (per
    independent component) gets the rest of the time, warm-started from the best plan.
    With ``lp_fix=False`` or ``backend="cp_sat"`` only step 3 runs (CP-SAT gets costs times
    ``cp_sat_cost_scale``: cents). The pattern model's own bound, proven for the pruned model
    only, is ``stats["pattern_bound"]``; the reported ``bound`` is the full LP's (``bound``).

Modules (one job each)
    ``params`` (:class:`MipParams`, :class:`PatternParams`, :class:`LpFixParams`),
    ``candidates`` (pruning), ``patterns`` (columns), ``model`` (rows and costs as arrays),
    ``backends`` (HiGHS / SCIP / CP-SAT calls), ``decompose`` (components), ``lp_fix`` (the
    LP-fix heuristic), ``bound`` (the full model's rows and its LP bound), ``exact`` (the
    full model as a MIP), ``entry`` (the entry point :func:`solve`); ``arrays`` holds the
    array forms they pass each other.
"""

from __future__ import annotations

from solvers.allocation.mip.arrays import Columns
from solvers.allocation.mip.candidates import candidate_arcs
from solvers.allocation.mip.entry import solve
from solvers.allocation.mip.model import build_pattern_model
from solvers.allocation.mip.params import (
    HighsValue,
    LpFixParams,
    MipParams,
    MipStrategy,
    PatternParams,
)
from solvers.allocation.mip.patterns import enumerate_patterns

__all__ = [
    "Columns",
    "HighsValue",
    "LpFixParams",
    "MipParams",
    "MipStrategy",
    "PatternParams",
    "build_pattern_model",
    "candidate_arcs",
    "enumerate_patterns",
    "solve",
]
