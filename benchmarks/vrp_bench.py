"""The VRP benchmark: every instance with every solver, one run at a time, checked and reported.

Protocol:

* instances: CVRPLIB X (``.vrp``) and Solomon (``.txt``), each with its own cost convention
  (see :mod:`benchmarks.instances`); best-known costs from ``bks.csv``;
* each (instance, solver) pair runs alone (never concurrently, so timings are fair), with the
  same time limit and seed; a solver's wall time includes building its model;
* every plan, ours and the peers', is turned into a :class:`RoutingResult` through the engine
  and checked by :func:`engine.routing.evaluate.evaluate`; the evaluator's cost is the one reported,
  and a plan is ``feasible`` only if the evaluator finds no violation and every client is served;
* ``gap_pct = 100 * (cost - bks) / bks`` for feasible plans; means are over feasible plans.

Outputs in ``out_dir``: ``results.csv``, ``convergence.csv`` (best cost over time),
``solutions/<solver>/<instance>.sol``, ``summary.md``, ``gap.png`` and ``convergence.png``.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from benchmarks.instances import (
    Instance,
    cost_decimals,
    find_instances,
    format_cost,
    load_bks,
    read_instance,
    to_request,
    write_solution,
)
from benchmarks.vrp_peers import RUNNERS, SOLVERS, SolverRun, available_solvers
from engine.routing.compile import compile_request
from engine.routing.decode import decode
from engine.routing.evaluate import evaluate
from engine.routing.locations import resolve
from engine.units import COST_SCALE
from models.routing import Evaluation, RoutingRequest, RoutingResult, StepType
from solvers.routing.data import VehicleRoute, VrpSolution

#: The CI smoke run: one small X and one Solomon instance, 2 s each.
QUICK_INSTANCES = ("X-n101-k25", "C101")
QUICK_TIME_LIMIT_S = 2.0
#: Folders of the shared VRP data, relative to the shared data folder.
CVRP_SUBDIR = Path("vrp/cvrp")
VRPTW_SUBDIR = Path("vrp/vrptw")
#: The size bound of the acceptance's second X figure (clients).
SMALL_X_MAX_CLIENTS = 400

_SOLOMON = re.compile(r"^(RC|R|C)([12])\d\d$", re.IGNORECASE)

#: Called before each run with (instance i, of n, instance name, solver), i from 1.
RunStarted = Callable[[int, int, str, str], None]


@dataclass(frozen=True)
class BenchConfig:
    """What to run: instance files, solvers, the per-run time limit and seed, where to write."""

    instance_paths: list[Path]
    solvers: list[str]
    time_limit_s: float
    out_dir: Path
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.instance_paths:
            raise ValueError("no instance to run")
        if not self.solvers:
            raise ValueError("no solver to run")
        unknown = [s for s in self.solvers if s not in RUNNERS]
        if unknown:
            raise ValueError(f"unknown solver(s) {unknown}; known: {list(SOLVERS)}")
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")


@dataclass
class BenchRow:
    """One line of ``results.csv``; the first nine columns are the issue's."""

    instance: str
    n: int
    solver: str
    cost: float | None
    bks: float | None
    gap_pct: float | None
    vehicles: int
    seconds: float
    feasible: bool
    set: str
    unassigned: int
    violations: int
    status: str
    note: str = ""


@dataclass
class BenchReport:
    """Everything one benchmark run produced, with the paths it wrote."""

    rows: list[BenchRow]
    progress: dict[tuple[str, str], list[tuple[float, float]]]
    out_dir: Path

    @property
    def results_csv(self) -> Path:
        """Per-run results."""
        return self.out_dir / "results.csv"

    @property
    def summary_md(self) -> Path:
        """Mean gaps per set and solver, and the per-instance table."""
        return self.out_dir / "summary.md"

    def failures(self) -> list[str]:
        """One line per run without a feasible plan or with clients not served."""
        return [
            f"{row.instance} · {row.solver}: "
            + (row.note or f"infeasible, {row.unassigned} clients not served")
            for row in self.rows
            if not row.feasible or row.unassigned
        ]


def instance_set(name: str) -> str:
    """The set an instance belongs to: ``X``, or a Solomon class (``C1`` … ``RC2``)."""
    if name.startswith("X-"):
        return "X"
    match = _SOLOMON.match(name)
    if match:
        return f"{match.group(1).upper()}{match.group(2)}"
    return "other"


def collect_instances(folders: Sequence[Path], only: Sequence[str] | None = None) -> list[Path]:
    """Instance files of ``folders`` (X first, by size), restricted to ``only`` when given.

    Raises:
        ValueError: a folder is missing, or a name of ``only`` is in none of them.
    """
    paths: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"instance folder {folder} does not exist or is not a folder")
        paths += find_instances(folder, list(only) if only else None)
    if only:
        missing = sorted(set(only) - {p.stem for p in paths})
        if missing:
            raise ValueError(
                f"instance(s) {missing} not found in {', '.join(str(f) for f in folders)}"
            )
    if not paths:
        raise ValueError(f"no .vrp or .txt instance in {', '.join(str(f) for f in folders)}")
    return paths


def quick_folders(shared_data_dir: Path) -> list[Path]:
    """The folders holding the quick mode's instances."""
    return [shared_data_dir / CVRP_SUBDIR, shared_data_dir / VRPTW_SUBDIR]


def plan_result(
    request: RoutingRequest, routes: list[list[int]], run: SolverRun, backend: str
) -> RoutingResult:
    """A peer's routes (stop ids per vehicle) as a :class:`RoutingResult`, built by the engine.

    Route k goes to the request's vehicle k; clients the routes miss are listed as unassigned;
    times are the engine's earliest schedule, so the evaluator can then judge the plan.

    Raises:
        ValueError: more routes than vehicles, or an id that is no routable stop.
    """
    problem = compile_request(resolve(request))
    if len(routes) > len(request.vehicles):
        raise ValueError(f"{len(routes)} routes for {len(request.vehicles)} vehicles")
    stop_index = {stop.id: i for i, stop in enumerate(request.stops)}
    node_of_stop = {int(s): node for node, s in enumerate(problem.stop_of_node)}
    vehicle_routes = []
    visited: set[int] = set()
    for vehicle, route in enumerate(routes):
        nodes = []
        for client in route:
            if client not in stop_index or stop_index[client] not in node_of_stop:
                raise ValueError(f"route visits {client}, which is no routable stop")
            nodes.append(node_of_stop[stop_index[client]])
        visited.update(nodes)
        vehicle_routes.append(VehicleRoute(vehicle, np.asarray(nodes, dtype=np.int64), 0))
    dropped = [node for node in range(len(problem.stop_of_node)) if node not in visited]
    claimed = run.claimed_cost if run.claimed_cost is not None else 0.0
    solution = VrpSolution(
        routes=vehicle_routes,
        dropped=np.asarray(dropped, dtype=np.int64),
        objective=round(claimed * COST_SCALE) if run.found else None,
        status=run.status,
        solve_s=run.seconds,
        first_solution_s=run.progress[0][0] if run.progress else None,
    )
    return decode(problem, solution, backend=backend)


def _check(
    instance: Instance, request: RoutingRequest, solver: str, run: SolverRun
) -> tuple[RoutingResult | None, Evaluation | None, str]:
    """The run's plan as a result, the evaluator's verdict on it, and a note."""
    if not run.found:
        return None, None, f"no solution ({run.status})"
    try:
        result = run.result or plan_result(request, run.routes, run, solver)
    except ValueError as error:
        return None, None, f"plan rejected: {error}"
    verdict = evaluate(request, result)
    notes = []
    if not verdict.feasible:
        codes = sorted({v.code for v in verdict.violations})
        notes.append(f"{len(verdict.violations)} violations ({', '.join(codes)})")
    if result.unassigned:
        notes.append(f"{len(result.unassigned)} clients not served")
    return result, verdict, "; ".join(notes)


def run_one(
    instance: Instance, solver: str, time_limit_s: float, seed: int
) -> tuple[BenchRow, SolverRun, RoutingResult | None]:
    """Run one solver on one instance and judge its plan with the evaluator."""
    request = to_request(instance, time_limit_s=time_limit_s, seed=seed)
    began = time.perf_counter()
    try:
        run = RUNNERS[solver](instance, time_limit_s, seed)
    except Exception as error:  # a crashing peer is a result, not the end of the benchmark
        run = SolverRun([], time.perf_counter() - began, f"error: {type(error).__name__}")
        note = f"{solver} raised {type(error).__name__}: {error}"
        result, verdict = None, None
    else:
        result, verdict, note = _check(instance, request, solver, run)
    unassigned = len(result.unassigned) if result is not None else instance.n_customers
    feasible = verdict is not None and verdict.feasible and unassigned == 0
    # float sums of one-decimal arcs: 6 decimals keep every real difference, drop the noise
    cost = round(verdict.cost, 6) if verdict is not None else None
    gap = (
        round(100.0 * (cost - instance.bks) / instance.bks, 4) + 0.0
        if feasible and cost is not None and instance.bks
        else None
    )
    row = BenchRow(
        instance=instance.name,
        n=instance.n_customers,
        solver=solver,
        cost=cost,
        bks=instance.bks,
        gap_pct=gap,
        vehicles=len(result.routes) if result is not None else 0,
        seconds=round(run.seconds, 3),
        feasible=feasible,
        set=instance_set(instance.name),
        unassigned=unassigned,
        violations=0 if verdict is None else len(verdict.violations),
        status=run.status,
        note=note,
    )
    return row, run, result


def _sol_routes(result: RoutingResult) -> list[list[int]]:
    return [[int(str(s.id)) for s in r.steps if s.type == StepType.STOP] for r in result.routes]


def run_benchmark(config: BenchConfig, on_start: RunStarted | None = None) -> BenchReport:
    """Run every instance with every solver, sequentially, writing results as they come.

    ``results.csv`` and ``convergence.csv`` are rewritten after each run, so an interrupted
    benchmark keeps what it measured; the summary and plots are written at the end.
    """
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    bks_by_folder: dict[Path, dict[str, float]] = {}
    rows: list[BenchRow] = []
    progress: dict[tuple[str, str], list[tuple[float, float]]] = {}
    total = len(config.instance_paths)
    for i, path in enumerate(config.instance_paths, start=1):
        folder = path.parent
        if folder not in bks_by_folder:
            bks_by_folder[folder] = load_bks(folder)
        instance = read_instance(path, bks_by_folder[folder])
        for solver in config.solvers:
            if on_start is not None:
                on_start(i, total, instance.name, solver)
            row, run, result = run_one(instance, solver, config.time_limit_s, config.seed)
            rows.append(row)
            progress[(instance.name, solver)] = run.progress
            if result is not None and result.routes and row.cost is not None:
                write_solution(
                    out / "solutions" / solver / f"{instance.name}.sol",
                    _sol_routes(result),
                    row.cost,
                    cost_decimals(instance),
                )
            write_results_csv(rows, out / "results.csv")
            write_convergence_csv(progress, out / "convergence.csv")
    report = BenchReport(rows, progress, out)
    write_summary(rows, out / "summary.md", config)
    plot_gaps(rows, out / "gap.png")
    plot_convergence(rows, progress, out / "convergence.png", config.time_limit_s)
    return report


def default_solvers() -> tuple[list[str], dict[str, str]]:
    """The solvers that can run here, and why each other one cannot."""
    status = available_solvers()
    runnable = [s for s in SOLVERS if status[s] is None]
    skipped = {s: why for s, why in status.items() if why is not None}
    return runnable, skipped


def write_results_csv(rows: list[BenchRow], path: Path) -> Path:
    """One line per (instance, solver); empty cells where there is no value."""
    names = [f.name for f in fields(BenchRow)]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})
    return path


def write_convergence_csv(
    progress: dict[tuple[str, str], list[tuple[float, float]]], path: Path
) -> Path:
    """Best cost over time: ``instance, solver, seconds, cost``, one line per improvement."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["instance", "solver", "seconds", "cost"])
        for (instance, solver), samples in progress.items():
            for seconds, cost in samples:
                writer.writerow([instance, solver, round(seconds, 4), round(cost, 6)])
    return path


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _groups(rows: list[BenchRow]) -> list[tuple[str, Callable[[BenchRow], bool]]]:
    """Summary groups: each set, X up to 400 clients when X also has larger ones, and all."""
    sets = sorted({r.set for r in rows}, key=lambda s: (s != "X", s))

    def in_set(name: str) -> Callable[[BenchRow], bool]:
        return lambda r: r.set == name

    groups: list[tuple[str, Callable[[BenchRow], bool]]] = [(s, in_set(s)) for s in sets]
    x_sizes = {r.n for r in rows if r.set == "X"}
    if x_sizes and max(x_sizes) > SMALL_X_MAX_CLIENTS >= min(x_sizes):
        groups.append(
            (f"X, n ≤ {SMALL_X_MAX_CLIENTS}", lambda r: r.set == "X" and r.n <= SMALL_X_MAX_CLIENTS)
        )
    solomon = [s for s in sets if s not in ("X", "other")]
    if len(solomon) > 1:
        groups.append(("Solomon", lambda r: r.set in solomon))
    if len(solomon) < len(sets) and len(sets) > 1:
        groups.append(("all", lambda r: True))
    return groups


#: A group's figures for one solver: mean gap over feasible plans (None if none), feasible, runs.
GroupGap = tuple[float | None, int, int]


def mean_gaps(rows: list[BenchRow]) -> list[tuple[str, dict[str, GroupGap]]]:
    """Per summary group (each set, X up to 400 clients, Solomon, all) and solver: mean gap."""
    solvers = list(dict.fromkeys(r.solver for r in rows))
    out = []
    for name, member in _groups(rows):
        cells: dict[str, GroupGap] = {}
        for solver in solvers:
            mine = [r for r in rows if r.solver == solver and member(r)]
            if mine:
                gaps = [r.gap_pct for r in mine if r.gap_pct is not None]
                cells[solver] = (_mean(gaps), sum(r.feasible for r in mine), len(mine))
        out.append((name, cells))
    return out


def format_group_gap(cell: GroupGap | None) -> str:
    """``0.43 (10/10)``: mean gap, then feasible plans over runs."""
    if cell is None:
        return "–"
    mean, ok, runs = cell
    return f"{'–' if mean is None else f'{mean:.2f}'} ({ok}/{runs})"


def summary_markdown(rows: list[BenchRow], config: BenchConfig | None = None) -> str:
    """Mean gap per set and solver, then every instance's cost and gap per solver."""
    solvers = list(dict.fromkeys(r.solver for r in rows))
    lines = ["# VRP benchmark", ""]
    if config is not None:
        lines += [
            f"{len(config.instance_paths)} instances, solvers {', '.join(config.solvers)}, "
            f"{config.time_limit_s:g} s per run, seed {config.seed}, one run at a time.",
            "",
        ]
    lines += [
        "Costs are the evaluator's; a plan counts as feasible when the evaluator finds no "
        "violation and every client is served. Mean gaps are over feasible plans only "
        "(in brackets: feasible plans / runs).",
        "",
        "## Mean gap to best-known (%)",
        "",
        "| set | " + " | ".join(solvers) + " |",
        "|---|" + "---:|" * len(solvers),
    ]
    for name, group in mean_gaps(rows):
        lines.append(
            f"| {name} | " + " | ".join(format_group_gap(group.get(s)) for s in solvers) + " |"
        )
    lines += [
        "",
        "## Mean seconds per run",
        "",
        "| " + " | ".join(solvers) + " |",
        "|" + "---:|" * len(solvers),
        "| "
        + " | ".join(
            f"{_mean([r.seconds for r in rows if r.solver == s]) or 0:.1f}" for s in solvers
        )
        + " |",
        "",
        "## Per instance: cost (gap %)",
        "",
        "| instance | n | bks | " + " | ".join(solvers) + " |",
        "|---|---:|---:|" + "---:|" * len(solvers),
    ]
    for instance in dict.fromkeys(r.instance for r in rows):
        mine = {r.solver: r for r in rows if r.instance == instance}
        first = next(iter(mine.values()))
        decimals = 0 if first.set in ("X", "other") else 1
        cells: list[str] = []
        for solver in solvers:
            row = mine.get(solver)
            if row is None:
                cells.append("")
            elif not row.feasible:
                cells.append("infeasible" if row.cost is not None else "no solution")
            else:
                gap = "" if row.gap_pct is None else f" ({row.gap_pct:.2f})"
                cells.append(f"{format_cost(row.cost or 0.0, decimals)}{gap}")
        bks = "" if first.bks is None else format_cost(first.bks, decimals)
        lines.append(f"| {instance} | {first.n} | {bks} | " + " | ".join(cells) + " |")
    notes = [r for r in rows if r.note]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {r.instance} / {r.solver}: {r.note}" for r in notes]
    return "\n".join(lines) + "\n"


def write_summary(rows: list[BenchRow], path: Path, config: BenchConfig | None = None) -> Path:
    """Write :func:`summary_markdown` to ``path``."""
    path.write_text(summary_markdown(rows, config))
    return path


def plot_gaps(rows: list[BenchRow], path: Path) -> Path:
    """Grouped bars: the gap of each solver on each instance (an ``x`` marks no feasible plan)."""
    from matplotlib.figure import Figure

    instances = list(dict.fromkeys(r.instance for r in rows))
    solvers = list(dict.fromkeys(r.solver for r in rows))
    width = 0.8 / max(len(solvers), 1)
    fig = Figure(figsize=(max(6.0, 0.3 * len(instances) * len(solvers) + 2), 4.5))
    ax = fig.add_subplot()
    positions = np.arange(len(instances))
    for k, solver in enumerate(solvers):
        by_instance = {r.instance: r for r in rows if r.solver == solver}
        gaps: list[float] = []
        for i in instances:
            gap = by_instance[i].gap_pct if i in by_instance else None
            gaps.append(math.nan if gap is None else gap)
        x = positions + (k - (len(solvers) - 1) / 2) * width
        bars = ax.bar(x, gaps, width, label=solver)
        missing = [xi for xi, g in zip(x, gaps, strict=True) if math.isnan(g)]
        if missing:
            ax.plot(missing, [0] * len(missing), "x", color=bars.patches[0].get_facecolor())
    ax.set_xticks(positions, instances, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("gap to best-known (%)")
    ax.set_title("Gap per instance and solver (x: no feasible plan)")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_convergence(
    rows: list[BenchRow],
    progress: dict[tuple[str, str], list[tuple[float, float]]],
    path: Path,
    time_limit_s: float,
) -> Path:
    """One panel per instance: each solver's best cost over time (log time), the BKS dashed.

    The cost axis is fitted to the final costs, so early, much worse costs fall off the top.
    """
    from matplotlib.figure import Figure

    instances = list(dict.fromkeys(r.instance for r in rows))
    solvers = list(dict.fromkeys(r.solver for r in rows))
    colors = {s: f"C{k}" for k, s in enumerate(solvers)}
    columns = min(4, len(instances))
    lines_n = math.ceil(len(instances) / columns)
    fig = Figure(figsize=(4.0 * columns, 3.0 * lines_n))
    for k, instance in enumerate(instances):
        ax = fig.add_subplot(lines_n, columns, k + 1)
        mine = [r for r in rows if r.instance == instance]
        finals = [r.cost for r in mine if r.feasible and r.cost is not None]
        bks = mine[0].bks
        for row in mine:
            samples = progress.get((instance, row.solver), [])
            if not samples:
                continue
            xs = [max(s, 1e-3) for s, _ in samples] + [max(row.seconds, samples[-1][0])]
            ys = [c for _, c in samples] + [samples[-1][1]]
            ax.step(xs, ys, where="post", color=colors[row.solver], label=row.solver)
            ax.plot(xs[-1], ys[-1], "o", color=colors[row.solver], markersize=3)
        if bks is not None:
            ax.axhline(bks, color="black", linestyle="--", linewidth=0.8, label="BKS")
        reference = [*finals, *([bks] if bks is not None else [])]
        if reference:
            lo, hi = min(reference), max(reference)
            pad = max(hi - lo, 0.005 * lo, 1e-6)
            ax.set_ylim(lo - 0.3 * pad, hi + 1.5 * pad)
        ax.set_xscale("log")
        ax.set_xlim(1e-2, max(time_limit_s, *(r.seconds for r in mine)) * 1.2)
        ax.set_title(instance, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("seconds", fontsize=8)
        ax.set_ylabel("best cost", fontsize=8)
        if k == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
