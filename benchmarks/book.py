"""Order book benchmark: capture, reservations, the oversell check and a day planned from the
book, through a real server on loopback (:class:`benchmarks.load.LoadServer`: one uvicorn
process, the default ``ROUTEPLAN_`` settings, no API keys).

For each database (a fresh SQLite file, or a fresh PostgreSQL database
``rp_bench_<hex>`` created on the server and dropped afterwards) one server is started, then:

1. **capture**: ``POST /v1/orders`` (1-3 lines each, a fresh ``Idempotency-Key`` each) from 1
   client, then from 20 concurrent clients: orders per second and p50/p95 latency of the 201s.
2. **reservations**: 50 concurrent clients, each with an order of its own, reserve 1 unit
   per ``POST /v1/reservations`` of one sku at one site (the hot-row case); then the
   **oversell check**, round after round: a fresh sku with 20 units, 50 fresh orders of one
   unit each, 50 clients released together: a round passes when exactly 20 get 201, 30 get
   409 ``insufficient_stock``, ``GET /v1/stock`` says 20 on hand, 20 reserved, 0 available,
   and :meth:`engine.book.store.BookStore.ledger_mismatches` is empty.
3. **day**: a book of orders (the Olist sample when the shared data has it, else the
   synthetic generator with a seed), captured through ``POST /v1/orders/import`` (CSV, in
   chunks; ``POST /v1/orders`` from 20 clients when the import does not answer 200), 5 sites
   with stock (``PUT /v1/sites``, ``POST /v1/stock/movements``), a few vans per site; then
   ``POST /v1/plans`` from the book and ``POST /v1/plans/{id}/commit``, each timed. The
   server's stages are measured again in-process on the same book (snapshot, plan request,
   plan, save; then the commit of that second draft, which must come back ``stale_plan``
   once the first is committed). The ledger must balance after the commit.

:func:`run` returns a :class:`BookBench` and writes ``book.json`` and ``book.md`` (the
tables and a snippet for ``RESULTS.md``).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import aio
from benchmarks.book_calls import (
    HTTP_TIMEOUT_S,
    SETUP_CLIENTS,
    Call,
    Rate,
    capture_call,
    fan_out,
    post,
    put,
    run_calls,
    setup,
    stock_count,
)
from benchmarks.book_day import (
    DAY_CHANNEL,
    IMPORT_CHUNK_ORDERS,
    OPENING_S,
    DayData,
    DayRun,
    bench_day,
    capture_day,
    day_data,
    order_bodies,
    plan_body,
)
from benchmarks.databases import POSTGRES_URL, scratch_database
from benchmarks.load import LoadServer
from engine.book.store import BookStore

__all__ = [
    "DATABASES",
    "DAY_CHANNEL",
    "FULL",
    "HTTP_TIMEOUT_S",
    "IMPORT_CHUNK_ORDERS",
    "OPENING_S",
    "POSTGRES_URL",
    "QUICK",
    "SERVER_SETTINGS",
    "SETUP_CLIENTS",
    "BookBench",
    "Call",
    "CaptureRun",
    "DatabaseResult",
    "DayData",
    "DayRun",
    "OversellRound",
    "Rate",
    "Sizes",
    "bench_capture",
    "bench_day",
    "bench_reservations",
    "book_database",
    "capture_bodies",
    "capture_day",
    "day_data",
    "day_rows",
    "markdown",
    "order_bodies",
    "oversell_round",
    "oversell_rows",
    "plan_body",
    "rate_rows",
    "run",
    "run_database",
    "write_results",
]

DATABASES = ("sqlite", "postgres")
#: The PostgreSQL server on which each run creates (and drops) a database of its own.
#: How the one server runs (said in the output).
SERVER_SETTINGS = (
    "one uvicorn process (no --workers) on 127.0.0.1, default ROUTEPLAN_ settings: "
    "ROUTEPLAN_MAX_SYNC_SOLVES 2 solve worker processes, 1 job worker; book calls in the "
    "anyio thread pool (40 threads); no API keys"
)


@dataclass(frozen=True)
class Sizes:
    """How big each section is (:data:`FULL`, :data:`QUICK`, or smaller for tests)."""

    capture_orders: int = 2000
    capture_clients: tuple[int, ...] = (1, 20)
    reservation_clients: int = 50
    reservations: int = 2000
    oversell_rounds: int = 20
    oversell_clients: int = 50
    oversell_units: int = 20
    day_orders: int = 10_000
    day_sites: int = 5
    vans_per_site: int = 3
    allocation_time_limit_s: float = 20.0
    routing_time_limit_s: float = 5.0
    local_radius_km: float = 50.0

    def __post_init__(self) -> None:
        if self.oversell_units >= self.oversell_clients:
            raise ValueError(
                f"oversell_units {self.oversell_units} must be below oversell_clients "
                f"{self.oversell_clients}, or no client is refused"
            )
        for name in ("capture_orders", "reservation_clients", "reservations", "day_orders"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")


FULL = Sizes()
QUICK = Sizes(
    capture_orders=200,
    reservations=200,
    oversell_rounds=5,
    day_orders=1000,
    allocation_time_limit_s=3.0,
    routing_time_limit_s=1.0,
)


@dataclass(frozen=True)
class CaptureRun:
    """``POST /v1/orders`` from ``clients`` concurrent clients."""

    clients: int
    orders: int
    rate: Rate


@dataclass(frozen=True)
class OversellRound:
    """One round of the oversell check."""

    round: int
    succeeded: int
    refused: int
    other_statuses: dict[str, int]
    stock: dict[str, int]
    ledger_mismatches: int
    passed: bool
    first_unexpected: str | None = None


@dataclass
class DatabaseResult:
    """Every section's figures on one database."""

    database: str
    capture: list[CaptureRun] = field(default_factory=list)
    reservations: CaptureRun | None = None
    oversell: list[OversellRound] = field(default_factory=list)
    day: DayRun | None = None
    peak_rss_mb: float | None = None

    @property
    def oversell_passed(self) -> int:
        """Rounds of the oversell check that passed."""
        return sum(r.passed for r in self.oversell)


@dataclass
class BookBench:
    """The whole benchmark: sizes, server settings, one result per database."""

    sizes: Sizes
    quick: bool
    server: str
    results: list[DatabaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every oversell round passed and every day's ledger balanced after its commit."""
        return all(
            r.oversell_passed == len(r.oversell) and (r.day is None or r.day.ledger_balanced)
            for r in self.results
        )

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON (rates with their per-second figure)."""

        def rate(run: CaptureRun) -> dict[str, Any]:
            return {**asdict(run), "per_s": round(run.rate.per_s, 2)}

        return {
            "quick": self.quick,
            "server": self.server,
            "sizes": asdict(self.sizes),
            "passed": self.passed,
            "databases": [
                {
                    "database": r.database,
                    "capture": [rate(c) for c in r.capture],
                    "reservations": None if r.reservations is None else rate(r.reservations),
                    "oversell": {
                        "rounds": len(r.oversell),
                        "passed": r.oversell_passed,
                        "failed": len(r.oversell) - r.oversell_passed,
                        "details": [asdict(o) for o in r.oversell],
                    },
                    "day": None if r.day is None else asdict(r.day),
                    "peak_rss_mb": r.peak_rss_mb,
                }
                for r in self.results
            ],
        }


# --------------------------------------------------------------------------- databases


@contextlib.contextmanager
def book_database(kind: str, work_dir: Path, postgres_url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh book's URL: a SQLite file in ``work_dir``, or a PostgreSQL database of its own
    on the server of ``postgres_url``, dropped afterwards."""
    if kind not in DATABASES:
        raise ValueError(f"database must be one of {DATABASES}, not {kind!r}")
    with scratch_database(kind, work_dir, postgres_url, name="book") as url:
        yield url


# --------------------------------------------------------------------------- bodies


def capture_bodies(n: int, prefix: str, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` paid orders of 1-3 lines around Porto (skus of a catalogue of 500)."""
    rng = random.Random(seed)
    bodies = []
    for i in range(n):
        skus = rng.sample(range(500), rng.randint(1, 3))
        bodies.append(
            {
                "id": f"{prefix}-{i}",
                "channel": "bench",
                "location": [-8.61 + rng.uniform(-0.05, 0.05), 41.15 + rng.uniform(-0.05, 0.05)],
                "lines": [
                    {"id": str(j + 1), "sku": f"cap-K{k}", "quantity": rng.randint(1, 3)}
                    for j, k in enumerate(skus)
                ],
                "priority": rng.randint(1, 3),
                "payment_status": "authorised",
            }
        )
    return bodies


def _one_line_order(order_id: str, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "id": order_id,
        "channel": "bench",
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": sku, "quantity": quantity}],
        "payment_status": "authorised",
    }


# --------------------------------------------------------------------------- sections


def bench_capture(base_url: str, sizes: Sizes) -> list[CaptureRun]:
    """Section 1: orders captured per second from each number of clients."""
    runs = []
    for clients in sizes.capture_clients:
        bodies = capture_bodies(sizes.capture_orders, f"cap{clients}", seed=clients)
        tally, took_s = run_calls(base_url, [capture_call(b) for b in bodies], clients, 201)
        runs.append(CaptureRun(clients, sizes.capture_orders, tally.rate(took_s)))
    return runs


def _reservation(order_id: str, sku: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "channel": "bench",
        "line_id": "1",
        "site_id": "RS",
        "sku": sku,
        "quantity": 1,
    }


def bench_reservations(base_url: str, sizes: Sizes) -> CaptureRun:
    """Section 2a: each client reserves 1 unit at a time of one sku for its own order."""
    clients = sizes.reservation_clients
    per_client = math.ceil(sizes.reservations / clients)
    site = {"kind": "warehouse", "location": [-8.63, 41.18]}
    setup(base_url, [put("/v1/sites/RS", site)], 201, "the reservation site")
    setup(base_url, [stock_count("RS", "res-hot", clients * per_client)], 201, "stock")
    orders = [_one_line_order(f"res-{c}", "res-hot", per_client) for c in range(clients)]
    setup(base_url, [capture_call(o) for o in orders], 201, "orders")
    queues = [
        [post("/v1/reservations", _reservation(f"res-{c}", "res-hot"))] * per_client
        for c in range(clients)
    ]
    tally, took_s = aio.run(fan_out(base_url, queues, 201))
    return CaptureRun(clients, clients * per_client, tally.rate(took_s))


def oversell_round(base_url: str, store: BookStore, sizes: Sizes, round_: int) -> OversellRound:
    """Section 2b, one round: ``oversell_clients`` clients reserve 1 unit each of a fresh sku
    with ``oversell_units`` units, all at once."""
    sku = f"over-{round_}"
    setup(base_url, [stock_count("RS", sku, sizes.oversell_units)], 201, "stock")
    ids = [f"over-{round_}-{i}" for i in range(sizes.oversell_clients)]
    setup(base_url, [capture_call(_one_line_order(i, sku, 1)) for i in ids], 201, "orders")
    queues = [[post("/v1/reservations", _reservation(i, sku))] for i in ids]
    tally, _ = aio.run(fan_out(base_url, queues, 201))
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S) as http:
        levels = http.get("/v1/stock", params={"site_id": "RS", "sku": sku}).json()["levels"]
    stock = {k: int(levels[0][k]) for k in ("on_hand", "reserved", "available")} if levels else {}
    mismatches = len(store.ledger_mismatches())
    succeeded = tally.statuses.get(201, 0)
    refused = tally.codes.pop("409 insufficient_stock", 0)
    units = sizes.oversell_units
    passed = (
        succeeded == units
        and refused == sizes.oversell_clients - units
        and not tally.codes
        and tally.transport_errors == 0
        and stock == {"on_hand": units, "reserved": units, "available": 0}
        and mismatches == 0
    )
    others = dict(tally.codes)
    if tally.transport_errors:
        others["transport"] = tally.transport_errors
    example = None if passed else tally.first_unexpected
    return OversellRound(round_, succeeded, refused, others, stock, mismatches, passed, example)


# --------------------------------------------------------------------------- the run


def run_database(
    database: str,
    sizes: Sizes,
    work_dir: Path,
    *,
    postgres_url: str = POSTGRES_URL,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DatabaseResult:
    """Every section on one fresh database and one server."""
    result = DatabaseResult(database)
    with (
        book_database(database, work_dir, postgres_url) as url,
        LoadServer(url, work_dir) as server,
    ):
        store = BookStore(url)
        try:
            progress(f"{database}: capture")
            result.capture = bench_capture(server.url, sizes)
            progress(f"{database}: reservations")
            result.reservations = bench_reservations(server.url, sizes)
            for round_ in range(sizes.oversell_rounds):
                progress(f"{database}: oversell round {round_ + 1}/{sizes.oversell_rounds}")
                result.oversell.append(oversell_round(server.url, store, sizes, round_))
            progress(f"{database}: a day of {sizes.day_orders} orders")
            result.day = bench_day(server.url, store, sizes, work_dir / "cache")
            peak = server.peak_rss_bytes()
            result.peak_rss_mb = None if peak is None else round(peak / 2**20, 1)
        finally:
            store.close()
    return result


def run(
    out: Path,
    *,
    quick: bool = False,
    databases: tuple[str, ...] = DATABASES,
    sizes: Sizes | None = None,
    postgres_url: str = POSTGRES_URL,
    progress: Callable[[str], None] = lambda _msg: None,
) -> BookBench:
    """Every section on every database; writes ``book.json`` and ``book.md`` to ``out``."""
    sizes = sizes or (QUICK if quick else FULL)
    for database in databases:
        if database not in DATABASES:
            raise ValueError(f"database must be one of {DATABASES}, not {database!r}")
    out.mkdir(parents=True, exist_ok=True)
    bench = BookBench(sizes=sizes, quick=quick, server=SERVER_SETTINGS)
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="routeplan-book-") as tmp:
            bench.results.append(
                run_database(
                    database, sizes, Path(tmp), postgres_url=postgres_url, progress=progress
                )
            )
        write_results(out, bench)
    write_results(out, bench)
    return bench


def write_results(out: Path, bench: BookBench) -> None:
    """``book.json`` (every figure) and ``book.md`` (the tables, ready for RESULTS.md)."""
    (out / "book.json").write_text(json.dumps(bench.to_json(), indent=2) + "\n")
    (out / "book.md").write_text(markdown(bench))


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def rate_rows(bench: BookBench) -> list[dict[str, str]]:
    """One row per timed HTTP run (capture and reservations), as text cells."""
    rows = []
    for r in bench.results:
        runs = [("capture", c) for c in r.capture]
        if r.reservations is not None:
            runs.append(("reserve", r.reservations))
        for what, run_ in runs:
            rows.append(
                {
                    "database": r.database,
                    "call": what,
                    "clients": str(run_.clients),
                    "requests": str(run_.rate.requests),
                    "per s": f"{run_.rate.per_s:.1f}",
                    "p50 ms": _ms(run_.rate.p50_ms),
                    "p95 ms": _ms(run_.rate.p95_ms),
                    "statuses": " ".join(f"{s}:{n}" for s, n in run_.rate.statuses.items()),
                }
            )
    return rows


def oversell_rows(bench: BookBench) -> list[dict[str, str]]:
    """One row per database: rounds passed and failed of the oversell check."""
    rows = []
    for r in bench.results:
        outcomes = Counter(f"{o.succeeded}/{o.refused}" for o in r.oversell)
        others: Counter[str] = Counter()
        for o in r.oversell:
            others.update(o.other_statuses)
        rows.append(
            {
                "database": r.database,
                "rounds": str(len(r.oversell)),
                "passed": str(r.oversell_passed),
                "failed": str(len(r.oversell) - r.oversell_passed),
                "201/409 seen": " ".join(f"{k} ×{n}" for k, n in sorted(outcomes.items())),
                "other answers": " ".join(f"{k}: {n}" for k, n in sorted(others.items())),
            }
        )
    return rows


def day_rows(bench: BookBench) -> list[dict[str, str]]:
    """One row per database: the day's stages and outcome."""
    rows = []
    for r in bench.results:
        d = r.day
        if d is None:
            continue
        inner = d.in_process_s
        rows.append(
            {
                "database": r.database,
                "orders": f"{d.orders} ({d.orders_on_hold} held)",
                "capture s": f"{d.capture_s:.1f}",
                "POST /v1/plans s": f"{d.plan_http_s:.1f}",
                "commit s": f"{d.commit_http_s:.2f}",
                "snapshot / request / plan / save s": " / ".join(
                    f"{inner.get(k, 0.0):.2f}"
                    for k in (
                        "plan_snapshot",
                        "book_plan_request",
                        "plan (allocate + route)",
                        "save_plan",
                    )
                ),
                "allocated / backordered": f"{d.orders_allocated} / {d.orders_backordered}",
                "shipments": " ".join(f"{k} {n}" for k, n in sorted(d.shipments_by_mode.items())),
                "units reserved": str(d.units_reserved),
                "ledger": "balanced" if d.ledger_balanced else "NOT balanced",
            }
        )
    return rows


def _table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return []
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[k] for k in head) + " |" for row in rows]
    return lines


def markdown(bench: BookBench) -> str:
    """The results as a section for ``RESULTS.md``."""
    s = bench.sizes
    day = next((r.day for r in bench.results if r.day is not None), None)
    lines = [
        f"## Order book (issue 12){' — quick run' if bench.quick else ''}",
        "",
        f"Server: {bench.server}. Clients: asyncio + httpx on the same machine, one "
        "connection per client, all released together.",
        "",
        "```bash",
        ".venv/bin/routeplan bench book"
        + (" --quick" if bench.quick else "")
        + " --out bench-output/book",
        "```",
        "",
        f"Capture: {s.capture_orders} orders of 1-3 lines per setting, a fresh Idempotency-Key "
        f"each. Reservations: {s.reservation_clients} clients reserving 1 unit at a time of "
        f"one sku at one site (about {s.reservations} in all).",
        "",
        *_table(rate_rows(bench)),
        "",
        f"Oversell check: {s.oversell_clients} clients reserve 1 unit each of a sku with "
        f"{s.oversell_units} available, {s.oversell_rounds} rounds (fresh sku and orders each); "
        f"a round passes with exactly {s.oversell_units} × 201, "
        f"{s.oversell_clients - s.oversell_units} × 409, the stock as it must be and no ledger "
        "mismatch.",
        "",
        *_table(oversell_rows(bench)),
        "",
    ]
    if day is not None:
        lines += [
            f"Day: {day.orders} orders from {day.source}, captured by {day.capture_path}; "
            f"{day.sites} sites, {day.vans} vans; allocation time_limit_s "
            f"{s.allocation_time_limit_s:g}, routing_time_limit_s {s.routing_time_limit_s:g}, "
            f"local_radius_km {s.local_radius_km:g}. The in-process stages are the server's "
            "stages of `POST /v1/plans` called directly on the same book.",
            "",
            *_table(day_rows(bench)),
            "",
        ]
    lines.append(f"All oversell rounds passed and every ledger balanced: **{bench.passed}**.")
    return "\n".join(lines) + "\n"
