"""Load benchmark: a real server on loopback, driven by many concurrent asyncio clients.

For each database (SQLite file, PostgreSQL schema), each mode and each number of clients, a
fresh server is started (``uvicorn --factory api.http.app:create_app`` in a subprocess, on
127.0.0.1 and a free port, settings through ``ROUTEPLAN_`` variables), warmed up with one
solve, then driven for ``duration_s``:

- ``sync``: every client loops on ``POST /v1/routes`` (a 10-stop request, ``time_limit_s``
  0.5); a solve is an answer 200.
- ``async``: every client loops on ``POST /v1/jobs`` then polls ``GET /v1/jobs/{id}`` until
  the job is finished; a solve is a job that succeeded.

The clients start over ``RAMP_S``; a client that gets 429 waits ``Retry-After`` plus a random
jitter of up to ``JITTER_S`` (as a well-behaved client does), then sends again. Meanwhile a process
of its own polls ``GET /v1/health`` every 0.1 s. Answers still in flight at the end are not
counted (``unfinished``, at most one per client). The server's peak resident memory is its
``VmHWM`` (the job runner's child processes are not included; without ``/proc``, psutil's
current RSS at the end).

Reported per run: solves per second, p50/p95 latency of the solves, p95 of the 429 answers,
the count of each status code (every answer, polls included; 5xx also as ``server_errors``),
transport errors, ``/v1/health`` p95 and the peak RSS. ``run`` writes ``results.csv`` and
``summary.md`` (with the acceptance checks of issue 11).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import importlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import aio
from benchmarks.databases import POSTGRES_URL, scratch_database
from benchmarks.paths import REPO_ROOT

#: Numbers of concurrent clients of a full run, and of a ``--quick`` one.
LEVELS = (10, 20, 50, 200)
QUICK_LEVELS = (5, 50)
#: Seconds each run drives the server, full and quick.
DURATION_S = 20.0
QUICK_DURATION_S = 3.0
MODES = ("sync", "async")
DATABASES = ("sqlite", "postgresql")
#: How often an async client polls its job, and the health task polls ``/v1/health``.
POLL_S = 1.0
HEALTH_POLL_S = 0.1
#: Longest a 429 makes a client wait, whatever its Retry-After says; up to JITTER_S more is
#: added at random, so that the clients refused together do not all come back together.
MAX_BACKOFF_S = 5.0
JITTER_S = 1.0
#: The clients start one after another over this many seconds (a ramp, not one burst).
RAMP_S = 1.0
#: Seconds the server has to answer its first health check.
START_TIMEOUT_S = 60.0


def routes_body(stops: int = 10, time_limit_s: float = 0.5) -> dict[str, Any]:
    """A routing request of ``stops`` stops around Porto, two vans, haversine distances."""
    return {
        "stops": [
            {
                "id": f"s{i}",
                "location": [-8.61 + 0.004 * (i % 5), 41.15 + 0.004 * (i // 5)],
                "demand": {"kg": 5},
                "service_s": 120,
            }
            for i in range(stops)
        ],
        "vehicles": [
            {
                "id": f"van-{v}",
                "start": [-8.63, 41.18],
                "end": [-8.63, 41.18],
                "capacity": {"kg": 40},
            }
            for v in range(2)
        ],
        "matrix": {"provider": "haversine", "speed_kmh": 30},
        "options": {"time_limit_s": time_limit_s},
    }


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


@dataclass
class Tally:
    """What the clients of one run saw."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    solves: int = 0
    solve_latencies_s: list[float] = field(default_factory=list)
    busy_latencies_s: list[float] = field(default_factory=list)
    job_outcomes: Counter[str] = field(default_factory=Counter)
    health_latencies_s: list[float] = field(default_factory=list)
    health_statuses: Counter[int] = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        """Answers of any status."""
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """Answers of status 500 or more."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def unfinished(self) -> int:
        """Requests still in flight when the run ended."""
        return self.sent - self.answered - self.transport_errors


@dataclass(frozen=True)
class LoadRun:
    """One run's figures."""

    database: str
    mode: str
    clients: int
    duration_s: float
    tally: Tally
    peak_rss_bytes: int | None

    @property
    def solves_per_s(self) -> float:
        """Successful solves per second of the run."""
        return self.tally.solves / self.duration_s

    def row(self) -> dict[str, Any]:
        """The run as one row of ``results.csv`` (times in milliseconds)."""
        t = self.tally

        def ms(value: float | None) -> str:
            return "" if value is None else f"{1000 * value:.1f}"

        return {
            "database": self.database,
            "mode": self.mode,
            "clients": self.clients,
            "duration_s": f"{self.duration_s:.1f}",
            "requests": t.sent,
            "solves": t.solves,
            "solves_per_s": f"{self.solves_per_s:.2f}",
            "latency_p50_ms": ms(percentile(t.solve_latencies_s, 50)),
            "latency_p95_ms": ms(percentile(t.solve_latencies_s, 95)),
            "busy_p95_ms": ms(percentile(t.busy_latencies_s, 95)),
            "statuses": " ".join(f"{s}:{n}" for s, n in sorted(t.statuses.items())),
            "server_errors": t.server_errors,
            "transport_errors": t.transport_errors,
            "unfinished": t.unfinished,
            "jobs": " ".join(f"{s}:{n}" for s, n in sorted(t.job_outcomes.items())),
            "health_requests": sum(t.health_statuses.values()),
            "health_not_200": sum(n for s, n in t.health_statuses.items() if s != 200),
            "health_p95_ms": ms(percentile(t.health_latencies_s, 95)),
            "health_max_ms": ms(max(t.health_latencies_s, default=None)),
            "peak_rss_mb": ""
            if self.peak_rss_bytes is None
            else f"{self.peak_rss_bytes / 2**20:.0f}",
        }


def _retry_after_s(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "1")
    try:
        return min(max(float(value), 0.0), MAX_BACKOFF_S)
    except ValueError:
        return 1.0


async def _send(
    tally: Tally, request: Awaitable[httpx.Response]
) -> tuple[httpx.Response | None, float]:
    """One request: counted as sent, then by its status (or as a transport error)."""
    tally.sent += 1
    started = time.monotonic()
    try:
        response = await request
    except httpx.TransportError:
        tally.transport_errors += 1
        return None, time.monotonic() - started
    tally.statuses[response.status_code] += 1
    return response, time.monotonic() - started


async def _backoff(response: httpx.Response | None, deadline: float) -> None:
    """After anything but a success: wait Retry-After (429) or a little, within the run."""
    pause_s = 0.5
    if response is not None and response.status_code == 429:
        pause_s = _retry_after_s(response) + random.uniform(0.0, JITTER_S)
    await asyncio.sleep(max(0.0, min(pause_s, deadline - time.monotonic())))


async def _sync_client(
    http: httpx.AsyncClient, body: dict[str, Any], deadline: float, tally: Tally, delay_s: float
) -> None:
    """After ``delay_s``, loop on ``POST /v1/routes`` until the deadline."""
    await asyncio.sleep(delay_s)
    while time.monotonic() < deadline:
        response, took_s = await _send(tally, http.post("/v1/routes", json=body))
        if response is not None and response.status_code == 200:
            tally.solves += 1
            tally.solve_latencies_s.append(took_s)
            continue
        if response is not None and response.status_code == 429:
            tally.busy_latencies_s.append(took_s)
        await _backoff(response, deadline)


async def _async_client(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    deadline: float,
    tally: Tally,
    delay_s: float,
    poll_s: float,
) -> None:
    """After ``delay_s``, loop on ``POST /v1/jobs`` then poll the job until it is finished,
    until the deadline."""
    await asyncio.sleep(delay_s)
    submission = {"kind": "routes", "request": body}
    while time.monotonic() < deadline:
        started = time.monotonic()
        response, took_s = await _send(tally, http.post("/v1/jobs", json=submission))
        if response is None or response.status_code != 202:
            if response is not None and response.status_code == 429:
                tally.busy_latencies_s.append(took_s)
            await _backoff(response, deadline)
            continue
        location = response.headers["location"]
        while time.monotonic() < deadline:
            await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))
            view, _ = await _send(tally, http.get(location))
            if view is None or view.status_code != 200:
                continue
            status = str(view.json().get("status"))
            if status in ("succeeded", "failed", "cancelled"):
                tally.job_outcomes[status] += 1
                if status == "succeeded":
                    tally.solves += 1
                    tally.solve_latencies_s.append(time.monotonic() - started)
                break


async def poll_health(base_url: str, deadline: float) -> list[tuple[int, float]]:
    """Poll ``/v1/health`` every ``HEALTH_POLL_S`` until ``deadline`` (``time.monotonic``):
    (status, latency in seconds) of each answer, status 0 for a transport error."""
    answers: list[tuple[int, float]] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status = (await http.get("/v1/health")).status_code
            except httpx.TransportError:
                status = 0
            answers.append((status, time.monotonic() - started))
            await asyncio.sleep(HEALTH_POLL_S)
    return answers


async def _health_process(base_url: str, deadline: float, tally: Tally) -> None:
    """Run :func:`poll_health` in a process of its own, so that a busy client loop does not
    add to the health latencies (CLOCK_MONOTONIC is shared by the processes of a machine)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.load",
        base_url,
        repr(deadline),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    for status, latency_s in json.loads(stdout or b"[]"):
        tally.health_statuses[int(status)] += 1
        tally.health_latencies_s.append(float(latency_s))


async def drive(
    base_url: str,
    mode: str,
    clients: int,
    duration_s: float,
    body: dict[str, Any] | None = None,
    poll_s: float = POLL_S,
) -> Tally:
    """Drive a running server with ``clients`` concurrent clients for ``duration_s``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    body = body or routes_body()
    tally = Tally()
    # One client (one connection) per simulated user: a pool shared by hundreds of tasks
    # makes the client, not the server, the bottleneck.
    https = [httpx.AsyncClient(base_url=base_url, timeout=60) for _ in range(clients)]
    async with contextlib.AsyncExitStack() as stack:
        for http in https:
            await stack.enter_async_context(http)
        deadline = time.monotonic() + duration_s
        ramp_s = min(RAMP_S, duration_s / 10)
        delays_s = [ramp_s * i / clients for i in range(clients)]
        if mode == "sync":
            workers = [
                _sync_client(http, body, deadline, tally, d)
                for http, d in zip(https, delays_s, strict=True)
            ]
        else:
            workers = [
                _async_client(http, body, deadline, tally, d, poll_s)
                for http, d in zip(https, delays_s, strict=True)
            ]
        tasks = [asyncio.create_task(w) for w in workers]
        health = asyncio.create_task(_health_process(base_url, deadline, tally))
        _, pending = await asyncio.wait(tasks, timeout=duration_s + 0.5)
        for task in pending:  # requests still in flight at the end are not counted
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.wait_for(health, timeout=90)
    return tally


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_bytes(pid: int) -> int | None:
    """A process's peak resident memory (``VmHWM``), or its current RSS through psutil where
    ``/proc`` is missing; None when neither can tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        psutil = importlib.import_module("psutil")
        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # psutil missing, or the process is gone
        return None


class LoadServer:
    """A ``uvicorn`` server in its own process group, on 127.0.0.1 and a free port."""

    def __init__(self, database_url: str, work_dir: Path, env: dict[str, str] | None = None):
        self.database_url = database_url
        self.work_dir = work_dir
        self.env = env or {}
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = work_dir / "server.log"

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until ``/v1/health`` answers 200."""
        env = {k: v for k, v in os.environ.items() if k != "ROUTEPLAN_API_KEYS"}
        env |= {
            "ROUTEPLAN_DATABASE_URL": self.database_url,
            "ROUTEPLAN_CACHE_DIR": str(self.work_dir / "cache"),
            **self.env,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.http.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def peak_rss_bytes(self) -> int | None:
        """The server process's peak resident memory so far."""
        return None if self.process is None else peak_rss_bytes(self.process.pid)

    def stop(self) -> None:
        """Stop the server and anything left in its process group (job children)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> LoadServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def job_database(kind: str, work_dir: Path, postgres_url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh job store's URL: a SQLite file in ``work_dir``, or a PostgreSQL database of
    its own, dropped afterwards."""
    if kind not in DATABASES:
        raise ValueError(f"database must be one of {DATABASES}, not {kind!r}")
    with scratch_database(kind, work_dir, postgres_url, name="jobs") as url:
        yield url


def warm_up(base_url: str, mode: str, body: dict[str, Any]) -> None:
    """One solve before the clock starts, so imports and the first job child are paid."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        http.post("/v1/routes", json=body)
        if mode == "async":
            location = http.post("/v1/jobs", json={"kind": "routes", "request": body}).headers[
                "location"
            ]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if http.get(location).json().get("status") in ("succeeded", "failed"):
                    return
                time.sleep(0.1)


def run_one(
    database: str,
    mode: str,
    clients: int,
    duration_s: float,
    work_dir: Path,
    *,
    env: dict[str, str] | None = None,
    postgres_url: str = POSTGRES_URL,
) -> LoadRun:
    """One run on a fresh server and job store."""
    body = routes_body()
    with (
        job_database(database, work_dir, postgres_url) as url,
        LoadServer(url, work_dir, env) as server,
    ):
        warm_up(server.url, mode, body)
        tally = aio.run(drive(server.url, mode, clients, duration_s, body))
        peak = server.peak_rss_bytes()
    return LoadRun(database, mode, clients, duration_s, tally, peak)


def run(
    out: Path,
    *,
    quick: bool = False,
    databases: tuple[str, ...] = DATABASES,
    modes: tuple[str, ...] = MODES,
    levels: tuple[int, ...] | None = None,
    duration_s: float | None = None,
    postgres_url: str = POSTGRES_URL,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[LoadRun]:
    """Every (database, mode, clients) run; writes ``results.csv`` and ``summary.md`` to
    ``out``."""
    levels = levels or (QUICK_LEVELS if quick else LEVELS)
    duration_s = duration_s or (QUICK_DURATION_S if quick else DURATION_S)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[LoadRun] = []
    for database in databases:
        for mode in modes:
            for clients in levels:
                progress(f"{database} {mode}: {clients} clients for {duration_s:.0f} s")
                with tempfile.TemporaryDirectory(prefix="routeplan-load-") as tmp:
                    runs.append(
                        run_one(
                            database,
                            mode,
                            clients,
                            duration_s,
                            Path(tmp),
                            postgres_url=postgres_url,
                        )
                    )
                write_results(out, runs)
    return runs


def write_results(out: Path, runs: list[LoadRun]) -> None:
    """``results.csv`` (one row per run) and ``summary.md`` (the table and the checks)."""
    rows = [r.row() for r in runs]
    if not rows:
        return
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "summary.md").write_text(summary_markdown(runs))


def acceptance(runs: list[LoadRun]) -> list[tuple[str, bool | None]]:
    """The checks of issue 11: each with True (met), False (not met) or None (not run)."""
    checks: list[tuple[str, bool | None]] = []
    for database in sorted({r.database for r in runs}):
        sync = {r.clients: r for r in runs if r.database == database and r.mode == "sync"}
        base = sync.get(20)
        for clients in (50, 200):
            name = f"{database}: sync solves/s at {clients} clients within 20% of 20 clients"
            if base is None or clients not in sync or base.solves_per_s == 0:
                checks.append((name, None))
            else:
                ratio = sync[clients].solves_per_s / base.solves_per_s
                checks.append((f"{name} (ratio {ratio:.2f})", ratio >= 0.8))
    worst = max((percentile(r.tally.health_latencies_s, 95) or 0.0 for r in runs), default=0.0)
    checks.append(
        (f"/v1/health p95 under 100 ms in every run (worst {1000 * worst:.0f} ms)", worst < 0.1)
    )
    errors = sum(r.tally.server_errors + r.tally.transport_errors for r in runs)
    checks.append((f"no server or transport errors ({errors})", errors == 0))
    return checks


def summary_markdown(runs: list[LoadRun]) -> str:
    """The runs as a Markdown table, then the acceptance checks."""
    columns = [
        ("database", "database"),
        ("mode", "mode"),
        ("clients", "clients"),
        ("solves/s", "solves_per_s"),
        ("p50 ms", "latency_p50_ms"),
        ("p95 ms", "latency_p95_ms"),
        ("429 p95 ms", "busy_p95_ms"),
        ("statuses", "statuses"),
        ("5xx", "server_errors"),
        ("transport", "transport_errors"),
        ("health p95 ms", "health_p95_ms"),
        ("peak RSS MB", "peak_rss_mb"),
    ]
    lines = [
        "# Load benchmark",
        "",
        f"{len(runs)} runs of {runs[0].duration_s:.0f} s each on 127.0.0.1; a 10-stop "
        "`POST /v1/routes` (time_limit_s 0.5), or the same as a job. Statuses count every "
        "answer (job polls included).",
        "",
        "| " + " | ".join(title for title, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for run_ in runs:
        row = run_.row()
        lines.append("| " + " | ".join(str(row[key]) for _, key in columns) + " |")
    lines += ["", "## Acceptance (issue 11)", ""]
    for name, met in acceptance(runs):
        mark = {True: "met", False: "NOT met", None: "not run"}[met]
        lines.append(f"- {name}: **{mark}**")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # the health poller of ``drive``: URL and deadline in, JSON out
    print(json.dumps(aio.run(poll_health(sys.argv[1], float(sys.argv[2])))))
