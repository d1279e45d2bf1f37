"""PyVRP's search loop as the backend runs it: the stopping criterion (deadline, early exit
while infeasible, progress relay, adopting another search's better plan), the exchange of
plans between searches side by side, and PyVRP 0.14's ``solve`` taken apart to restart from an
adopted plan (see :mod:`solvers.routing.pyvrp`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pyvrp
from pyvrp import SolveParams
from pyvrp.IteratedLocalSearch import (
    IteratedLocalSearch,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
)
from pyvrp.PenaltyManager import PenaltyManager
from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours

from solvers.routing.data import ProgressCallback

#: A plan in PyVRP's own terms: (vehicle type, visits) per route; a visit is a client index,
#: or ``-1 - depot`` for a reload at that depot (:mod:`solvers.routing.pyvrp_reloads`).
Plan = list[tuple[int, list[int]]]


class Exchange(Protocol):
    """Where searches running side by side on the same data share their best plans."""

    def publish(self, cost: float, plan: Plan) -> None:
        """Offer this search's best feasible plan and its cost."""

    def best(self) -> tuple[float, Plan] | None:
        """The cheapest plan the other searches have offered so far, if any."""


class BestPlan(IteratedLocalSearchCallbacks):
    """Keeps the ILS's latest best solution, so the stopping criterion can share it."""

    def __init__(self) -> None:
        self.solution: pyvrp.Solution | None = None

    def on_best(self, best: pyvrp.Solution) -> None:
        """Remember a new best (PyVRP only calls this with feasible solutions)."""
        self.solution = best


@dataclass
class Sharing:
    """A search's link to an :class:`Exchange`: what it last offered, when it last looked."""

    exchange: Exchange
    plan_of: Callable[[pyvrp.Solution], Plan]
    stall_s: float
    callbacks: BestPlan
    every_s: float  # how often it offers its best and looks at the others'
    offered: float = math.inf
    looked_at: float = -math.inf


class Stop:
    """PyVRP stopping criterion: a deadline, an early exit while infeasible, progress relay,
    and (when sharing) an exit to adopt another search's better plan after a stall."""

    def __init__(
        self,
        deadline: float,
        give_up_at: float | None,
        scale: int,
        began: float,
        on_progress: ProgressCallback | None,
        max_iterations: int | None = None,
        sharing: Sharing | None = None,
    ) -> None:
        self.deadline, self.give_up_at, self.scale = deadline, give_up_at, scale
        self.max_iterations, self.iterations = max_iterations, 0
        self.began, self.on_progress = began, on_progress
        self.best = math.inf
        self.first_feasible_s: float | None = None
        self.gave_up = False
        self.sharing = sharing
        self.improved_at = time.perf_counter()
        self.adopt: Plan | None = None

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        self.iterations += 1
        if math.isfinite(best_cost) and best_cost < self.best:
            self.best = best_cost
            self.improved_at = now
            if self.first_feasible_s is None:
                self.first_feasible_s = now - self.began
            if self.on_progress is not None:
                self.on_progress(now - self.began, int(best_cost) * self.scale)
        if self.give_up_at is not None and now >= self.give_up_at and not math.isfinite(self.best):
            self.gave_up = True
            return True
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            return True
        if now >= self.deadline:
            return True
        sharing = self.sharing
        if sharing is not None and now - sharing.looked_at >= sharing.every_s:
            sharing.looked_at = now
            return self._share(sharing, now)
        return False

    def _share(self, sharing: Sharing, now: float) -> bool:
        """Offer this search's best; True (end the segment) to adopt a better one."""
        solution = sharing.callbacks.solution
        if solution is not None and self.best < sharing.offered:
            sharing.exchange.publish(self.best, sharing.plan_of(solution))
            sharing.offered = self.best
        if now - self.improved_at < sharing.stall_s:
            return False
        offer = sharing.exchange.best()
        if offer is not None and offer[0] < self.best:
            self.adopt = offer[1]
            return True
        return False


class Search:
    """PyVRP's ``solve`` (0.14) taken apart, so that a restart from an adopted plan keeps the
    search's random stream, local search and, above all, its adapted penalties (a fresh
    ``solve`` starts them again at the midpoint of their range, far too high, and takes tens
    of thousands of iterations to bring them down). Until the first restart it makes the
    same calls in the same order as ``pyvrp.solve``, so it is PyVRP's own search.
    """

    def __init__(self, data: pyvrp.ProblemData, seed: int, callbacks: BestPlan) -> None:
        defaults = SolveParams()
        self.data = data
        self.rng = pyvrp.RandomNumberGenerator(seed=seed)
        neighbours = compute_neighbours(data, defaults.neighbourhood)
        perturbation = PerturbationManager(defaults.perturbation)
        self.local_search = LocalSearch(data, self.rng, neighbours, perturbation)
        for operator in defaults.operators:
            if operator.supports(data):
                self.local_search.add_operator(operator(data))
        penalties = defaults.penalty.midpoint_penalties(data)
        self.penalties = PenaltyManager(penalties, defaults.penalty)
        self.params = IteratedLocalSearchParams(callbacks=callbacks)

    def run(self, stop: Stop, initial: pyvrp.Solution | None) -> pyvrp.Result:
        """Iterated local search from ``initial`` (else a random start) until ``stop``."""
        if initial is None:
            random = pyvrp.Solution.make_random(self.data, self.rng)
            initial = self.local_search(
                random, self.penalties.max_cost_evaluator(), exhaustive=True
            )
        search = IteratedLocalSearch(
            self.data, self.penalties, self.local_search, initial, self.params
        )
        return search.run(stop, collect_stats=False, display=False)
