"""Independent searches on several cores, keeping the best plan.

OR-Tools' routing search and PyVRP's both run on one core. With a time limit long enough
to repay starting a process (5 s and more), one search per core runs: the first in this
process (it reports progress), the others in child processes
(:mod:`engine.processes`), each with its own seed (PyVRP) or first-solution strategy
(OR-Tools, whose search has no seed). Worker seeds are drawn from the request's seed with
numpy's ``SeedSequence``, so the searches are independent streams and a run stays
reproducible for a given seed. PyVRP searches share their best plans through files in a
temporary folder (:class:`FileExchange`): one stalled behind a better plan restarts from it.
All stop at the same deadline (``time.monotonic``, shared by the processes); the plan with
the lowest objective wins. A child that fails or
overruns gives no plan (the in-process search always gives one); why it failed, with its
stderr, is logged as a warning and kept in the solution's ``worker_errors``.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.processes import start_call
from models.routing import RoutingOptions
from solvers.routing.data import ProgressCallback, VrpData, VrpSolution
from solvers.routing.ortools import OrToolsParams, solve_ortools
from solvers.routing.pyvrp import Plan, PyVrpParams, solve_pyvrp

logger = logging.getLogger(__name__)

#: Time limits below this run a single search: a spawned process needs about a second.
MIN_PARALLEL_S = 5.0
_STRATEGIES = [
    "PARALLEL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
    "LOCAL_CHEAPEST_INSERTION",
    "SAVINGS",
]


def worker_seed(seed: int, worker: int) -> int:
    """The PyVRP seed of search ``worker`` for the request's ``seed`` (a 31-bit integer)."""
    state = np.random.SeedSequence([seed, worker]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


class FileExchange:
    """Best plans shared by the PyVRP searches of one portfolio, as files in a folder.

    Each search writes its best as ``<worker>.pkl`` (written aside, then renamed, so a reader
    never sees half a file) and reads the others' only when their files have changed.
    """

    def __init__(self, folder: str | Path, worker: int) -> None:
        self.folder, self.worker = Path(folder), worker
        self.seen: dict[str, tuple[tuple[int, int], tuple[float, Plan]]] = {}

    def publish(self, cost: float, plan: Plan) -> None:
        """Offer this search's best plan."""
        aside = self.folder / f".{self.worker}.tmp"
        with aside.open("wb") as handle:
            pickle.dump((cost, plan), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(aside, self.folder / f"{self.worker}.pkl")

    def best(self) -> tuple[float, Plan] | None:
        """The cheapest plan the other searches have offered, if any."""
        offers = []
        for path in self.folder.glob("*.pkl"):
            if path.stem == str(self.worker):
                continue
            try:
                status = path.stat()
                stamp = (status.st_mtime_ns, status.st_size)
                if path.name not in self.seen or self.seen[path.name][0] != stamp:
                    with path.open("rb") as handle:
                        self.seen[path.name] = (stamp, pickle.load(handle))
            except (OSError, pickle.UnpicklingError, EOFError):
                continue
            offers.append(self.seen[path.name][1])
        return min(offers, key=lambda offer: offer[0]) if offers else None


def run_backend(
    data: VrpData,
    backend: str,
    deadline: float,
    seed: int,
    worker: int = 0,
    solution_limit: int | None = None,
    on_progress: ProgressCallback | None = None,
    exchange_folder: str | None = None,
) -> VrpSolution:
    """One search with ``backend`` until ``deadline`` (``time.monotonic()`` seconds).

    PyVRP searches given an ``exchange_folder`` share their best plans through it.
    """
    limit = max(deadline - time.monotonic(), 0.05)
    if backend == "pyvrp":
        pyvrp_params = PyVrpParams(
            time_limit_s=limit, seed=worker_seed(seed, worker), max_iterations=solution_limit
        )
        exchange = None if exchange_folder is None else FileExchange(exchange_folder, worker)
        return solve_pyvrp(data, pyvrp_params, on_progress, exchange)
    ortools_params = OrToolsParams(
        time_limit_s=limit,
        solution_limit=solution_limit,
        first_solution=_STRATEGIES[worker % len(_STRATEGIES)],
    )
    return solve_ortools(data, ortools_params, on_progress)


def worker_count(options: RoutingOptions) -> int:
    """How many searches to run: as asked, else one per core for long enough limits.

    A ``solution_limit`` always runs one search: only then does a seed reproduce the plan
    (parallel searches race to the deadline, so which one wins depends on timing).
    """
    cores = os.cpu_count() or 1
    if options.solution_limit is not None:
        return 1
    if options.workers:
        return min(options.workers, cores)
    if options.solution_limit is not None or options.time_limit_s < MIN_PARALLEL_S:
        return 1
    return cores


#: How long after the deadline a child may take to hand its plan back.
CHILD_GRACE_S = 5.0


def _better(a: VrpSolution, b: VrpSolution) -> VrpSolution:
    if b.objective is None:
        return a
    if a.objective is None or b.objective < a.objective:
        return b
    return a


def solve_portfolio(
    data: VrpData,
    backend: str,
    options: RoutingOptions,
    on_progress: ProgressCallback | None = None,
    *,
    child_search: Callable[..., VrpSolution] = run_backend,
) -> VrpSolution:
    """Run ``worker_count`` independent searches until the time limit; return the best.

    The child processes run ``child_search`` (a module-level function taking
    :func:`run_backend`'s arguments; tests pass one that fails).
    """
    began = time.monotonic()
    deadline = began + options.time_limit_s
    workers = worker_count(options)
    if workers <= 1:
        return run_backend(
            data, backend, deadline, options.seed, 0, options.solution_limit, on_progress
        )
    folder = tempfile.mkdtemp(prefix="routeplan-exchange-") if backend == "pyvrp" else None
    errors: list[str] = []
    try:
        children = [
            start_call(child_search, data, backend, deadline, options.seed, k, None, None, folder)
            for k in range(1, workers)
        ]
        best = run_backend(data, backend, deadline, options.seed, 0, None, on_progress, folder)
        for k, child in enumerate(children, start=1):
            other = None if child is None else child.collect(deadline + CHILD_GRACE_S)
            if isinstance(other, VrpSolution):
                best = _better(best, other)
                continue
            why = "could not be started" if child is None else child.error
            error = f"search {k} ({backend}) gave no plan: {why or 'it returned no solution'}"
            logger.warning("%s", error)
            errors.append(error)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    solve_s = time.monotonic() - began
    return VrpSolution(
        best.routes,
        best.dropped,
        best.objective,
        best.status,
        solve_s,
        best.first_solution_s,
        errors,
    )
