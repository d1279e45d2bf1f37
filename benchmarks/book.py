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

import asyncio
import contextlib
import io
import json
import math
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from benchmarks.allocation_instances import PLAN_DATE, olist_frames, synthetic_frames
from benchmarks.databases import POSTGRES_URL, scratch_database
from benchmarks.load import LoadServer, percentile
from benchmarks.paths import shared_data_dir
from engine.book.planning import book_plan_request
from engine.book.store import BookStore
from engine.plan.pipeline import plan
from models.book import BookPlanRequest
from models.errors import ConflictError

DATABASES = ("sqlite", "postgres")
#: The PostgreSQL server on which each run creates (and drops) a database of its own.
#: How the one server runs (said in the output).
SERVER_SETTINGS = (
    "one uvicorn process (no --workers) on 127.0.0.1, default ROUTEPLAN_ settings: "
    "ROUTEPLAN_MAX_SYNC_SOLVES 2 solve worker processes, 1 job worker; book calls in the "
    "anyio thread pool (40 threads); no API keys"
)
#: The day's sites open (and their vans work) 08:00-18:00 from the day start.
OPENING_S = (8 * 3600.0, 18 * 3600.0)
#: The channel of the day's orders (the plan takes that channel only).
DAY_CHANNEL = "day"
#: Orders per CSV file of the bulk capture.
IMPORT_CHUNK_ORDERS = 2000
#: Clients that seed stock and capture orders outside the timed sections.
SETUP_CLIENTS = 20
HTTP_TIMEOUT_S = 600.0


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
class Rate:
    """Successful requests of one timed run: how many, how fast, and the statuses seen."""

    requests: int
    succeeded: int
    duration_s: float
    p50_ms: float | None
    p95_ms: float | None
    statuses: dict[str, int]
    transport_errors: int

    @property
    def per_s(self) -> float:
        """Successful requests per second."""
        return self.succeeded / self.duration_s if self.duration_s > 0 else 0.0


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


@dataclass(frozen=True)
class DayRun:
    """A day planned from the book, stage by stage."""

    source: str
    orders: int
    orders_on_hold: int
    capture_path: str
    capture_s: float
    capture_refused: int
    stock_records: int
    stock_setup_s: float
    sites: int
    vans: int
    plan_http_s: float
    commit_http_s: float
    plan_orders: int
    orders_allocated: int
    orders_backordered: int
    shipments_by_mode: dict[str, int]
    reservations: int
    units_reserved: int
    ledger_balanced: bool
    ledger_detail: str
    in_process_s: dict[str, float]
    in_process_commit: str


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


# --------------------------------------------------------------------------- clients


@dataclass
class _Tally:
    """What the clients of one timed run saw."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    latencies_s: list[float] = field(default_factory=list)
    #: Answers other than the one wanted, by ``"status code"`` (the error body's code).
    codes: Counter[str] = field(default_factory=Counter)
    #: The first such answer's body (shortened), to say what went wrong.
    first_unexpected: str | None = None

    def rate(self, duration_s: float) -> Rate:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(1000 * value, 1)

        return Rate(
            requests=self.sent,
            succeeded=len(self.latencies_s),
            duration_s=round(duration_s, 3),
            p50_ms=ms(percentile(self.latencies_s, 50)),
            p95_ms=ms(percentile(self.latencies_s, 95)),
            statuses={str(s): n for s, n in sorted(self.statuses.items())},
            transport_errors=self.transport_errors,
        )


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def _timed(http: httpx.AsyncClient, call: Call, tally: _Tally, ok: int) -> int:
    """One request: its status (0 for a transport error); its latency kept when ``ok``."""
    tally.sent += 1
    started = time.perf_counter()
    try:
        response = await call(http)
    except httpx.TransportError:
        tally.transport_errors += 1
        return 0
    took_s = time.perf_counter() - started
    tally.statuses[response.status_code] += 1
    if response.status_code == ok:
        tally.latencies_s.append(took_s)
        return response.status_code
    try:
        code = str(response.json().get("code"))
    except ValueError:
        code = "?"
    tally.codes[f"{response.status_code} {code}"] += 1
    if tally.first_unexpected is None:
        tally.first_unexpected = f"{response.status_code} {response.text[:300]}"
    return response.status_code


async def _fan_out(base_url: str, queues: list[list[Call]], ok: int) -> tuple[_Tally, float]:
    """One client (one connection, opened before the clock starts) per queue; each sends its
    calls one after another; all start together. The tally and the wall time."""
    tally = _Tally()
    https = [httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S) for _ in queues]
    async with contextlib.AsyncExitStack() as stack:
        for http in https:
            await stack.enter_async_context(http)
        await asyncio.gather(*(http.get("/v1/health") for http in https))
        gate = asyncio.Event()

        async def client(http: httpx.AsyncClient, calls: list[Call]) -> None:
            await gate.wait()
            for call in calls:
                await _timed(http, call, tally, ok)

        tasks = [asyncio.create_task(client(h, q)) for h, q in zip(https, queues, strict=True)]
        await asyncio.sleep(0)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        return tally, time.perf_counter() - started


def _split(calls: list[Call], clients: int) -> list[list[Call]]:
    """``calls`` dealt round-robin to ``clients`` queues."""
    return [calls[i::clients] for i in range(clients)]


def _post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Call:
    def call(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return http.post(path, json=body, headers=headers)

    return call


def _put(path: str, body: dict[str, Any]) -> Call:
    def call(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return http.put(path, json=body)

    return call


def _run_calls(base_url: str, calls: list[Call], clients: int, ok: int) -> tuple[_Tally, float]:
    return asyncio.run(_fan_out(base_url, _split(calls, clients), ok))


def _setup(base_url: str, calls: list[Call], ok: int, what: str) -> float:
    """Untimed set-up calls from :data:`SETUP_CLIENTS` clients; every one must answer ``ok``."""
    if not calls:
        return 0.0
    tally, took_s = _run_calls(base_url, calls, min(SETUP_CLIENTS, len(calls)), ok)
    if tally.statuses.get(ok, 0) != len(calls):
        raise RuntimeError(
            f"set-up of {what}: {dict(tally.statuses)} answers, all {ok} wanted; the first "
            f"other: {tally.first_unexpected}"
        )
    return took_s


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


def _capture_call(body: dict[str, Any]) -> Call:
    return _post("/v1/orders", body, {"Idempotency-Key": uuid.uuid4().hex})


# --------------------------------------------------------------------------- sections


def bench_capture(base_url: str, sizes: Sizes) -> list[CaptureRun]:
    """Section 1: orders captured per second from each number of clients."""
    runs = []
    for clients in sizes.capture_clients:
        bodies = capture_bodies(sizes.capture_orders, f"cap{clients}", seed=clients)
        tally, took_s = _run_calls(base_url, [_capture_call(b) for b in bodies], clients, 201)
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


def _count(site_id: str, sku: str, units: int) -> Call:
    return _post(
        "/v1/stock/movements", {"site_id": site_id, "sku": sku, "quantity": units, "kind": "count"}
    )


def bench_reservations(base_url: str, sizes: Sizes) -> CaptureRun:
    """Section 2a: each client reserves 1 unit at a time of one sku for its own order."""
    clients = sizes.reservation_clients
    per_client = math.ceil(sizes.reservations / clients)
    site = {"kind": "warehouse", "location": [-8.63, 41.18]}
    _setup(base_url, [_put("/v1/sites/RS", site)], 201, "the reservation site")
    _setup(base_url, [_count("RS", "res-hot", clients * per_client)], 201, "stock")
    orders = [_one_line_order(f"res-{c}", "res-hot", per_client) for c in range(clients)]
    _setup(base_url, [_capture_call(o) for o in orders], 201, "orders")
    queues = [
        [_post("/v1/reservations", _reservation(f"res-{c}", "res-hot"))] * per_client
        for c in range(clients)
    ]
    tally, took_s = asyncio.run(_fan_out(base_url, queues, 201))
    return CaptureRun(clients, clients * per_client, tally.rate(took_s))


def oversell_round(base_url: str, store: BookStore, sizes: Sizes, round_: int) -> OversellRound:
    """Section 2b, one round: ``oversell_clients`` clients reserve 1 unit each of a fresh sku
    with ``oversell_units`` units, all at once."""
    sku = f"over-{round_}"
    _setup(base_url, [_count("RS", sku, sizes.oversell_units)], 201, "stock")
    ids = [f"over-{round_}-{i}" for i in range(sizes.oversell_clients)]
    _setup(base_url, [_capture_call(_one_line_order(i, sku, 1)) for i in ids], 201, "orders")
    queues = [[_post("/v1/reservations", _reservation(i, sku))] for i in ids]
    tally, _ = asyncio.run(_fan_out(base_url, queues, 201))
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


# --------------------------------------------------------------------------- the day


@dataclass(frozen=True)
class DayData:
    """A day's book in the CSV layouts: orders (one row per line), stock and sites."""

    source: str
    orders: pd.DataFrame
    stock: pd.DataFrame
    sites: pd.DataFrame


def _usable(orders: pd.DataFrame) -> pd.DataFrame:
    """The rows of orders with a location and items (the Olist sample has some without)."""
    return orders[(orders.sku != "") & (orders.lat != "") & (orders.lon != "")].copy()


def day_data(n_orders: int, n_sites: int, seed: int = 0) -> DayData:
    """``n_orders`` orders from the Olist sample when the shared data has that many (its
    cancelled orders as payment pending: they stay on hold), else from the synthetic
    generator; ``source`` says which, and why."""
    olist = shared_data_dir() / "olist"
    source = f"synthetic (seed {seed}): no Olist sample in the shared data"
    frames = None
    if (olist / "olist_orders_dataset.csv").is_file():
        frames = olist_frames(olist, n_sites=n_sites, seed=seed, max_orders=int(n_orders * 1.4))
        usable = _usable(frames[0]).order_id.nunique()
        source = f"olist (shared data, seed {seed})"
        if usable < n_orders:
            frames = None
            source = (
                f"synthetic (seed {seed}): the Olist sample has {usable} usable orders, "
                f"fewer than {n_orders}"
            )
    orders, stock, sites = frames or synthetic_frames(n_orders, n_sites, seed=seed)
    orders = _usable(orders)
    keep = list(dict.fromkeys(orders.order_id))[:n_orders]
    orders = orders[orders.order_id.isin(set(keep))].copy()
    orders["channel"] = DAY_CHANNEL
    if "payment_status" in orders.columns:
        orders["payment_status"] = orders.payment_status.replace({"declined": "pending"})
    else:
        orders["payment_status"] = "authorised"
    stock = stock[stock.sku.isin(set(orders.sku))].copy()
    return DayData(source, orders.reset_index(drop=True), stock, sites)


def _site_body(row: dict[Any, Any]) -> dict[str, Any]:
    return {
        "kind": str(row["kind"]),
        "location": [float(row["lon"]), float(row["lat"])],
        "capacity_orders": int(row["capacity_orders"]),
        "capacity_units": int(row["capacity_units"]),
        "handling_cost_per_unit": float(row["handling_cost_per_unit"]),
        "opening_hours": [{"start_s": OPENING_S[0], "end_s": OPENING_S[1]}],
    }


def order_bodies(orders: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``POST /v1/orders`` bodies of an orders frame (the fallback of the CSV import)."""
    bodies: dict[str, dict[str, Any]] = {}
    for row in orders.astype(str).to_dict("records"):
        body = bodies.get(row["order_id"])
        if body is None:
            body = bodies[row["order_id"]] = {
                "id": row["order_id"],
                "channel": row["channel"],
                "location": [float(row["lon"]), float(row["lat"])],
                "lines": [],
                "payment_status": row["payment_status"],
            }
            if row.get("priority", ""):
                body["priority"] = int(row["priority"])
            if row.get("promised_date", ""):
                body["promised_date"] = row["promised_date"]
            if "ship_complete" in row:
                body["ship_complete"] = row["ship_complete"] in ("true", "1")
            if row.get("max_shipments", ""):
                body["max_shipments"] = int(row["max_shipments"])
        body["lines"].append(
            {"id": row["line_id"], "sku": row["sku"], "quantity": int(row["quantity"])}
        )
    return list(bodies.values())


def _chunks(orders: pd.DataFrame, per_chunk: int) -> list[pd.DataFrame]:
    ids = list(dict.fromkeys(orders.order_id))
    return [
        orders[orders.order_id.isin(set(ids[i : i + per_chunk]))]
        for i in range(0, len(ids), per_chunk)
    ]


def capture_day(base_url: str, orders: pd.DataFrame) -> tuple[str, float, int]:
    """Capture the day's orders: CSV import in chunks, or (when the import does not answer
    200) ``POST /v1/orders`` from 20 clients. The path taken, its seconds, orders refused."""
    chunks = _chunks(orders, IMPORT_CHUNK_ORDERS)
    refused = 0
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S) as http:
        for i, chunk in enumerate(chunks):
            buffer = io.StringIO()
            chunk.to_csv(buffer, index=False)
            answer = http.post(
                "/v1/orders/import",
                params={"mode": "per_row"},
                content=buffer.getvalue().encode(),
                headers={"Content-Type": "text/csv"},
            )
            if answer.status_code != 200:
                if i > 0:
                    raise RuntimeError(f"import of chunk {i}: {answer.status_code} {answer.text}")
                break
            refused += int(answer.json()["orders_refused"])
        else:
            return "POST /v1/orders/import (CSV)", time.perf_counter() - started, refused
    bodies = order_bodies(orders)
    started = time.perf_counter()
    tally, _ = _run_calls(base_url, [_capture_call(b) for b in bodies], SETUP_CLIENTS, 201)
    refused = len(bodies) - tally.statuses.get(201, 0)
    return "POST /v1/orders (20 clients)", time.perf_counter() - started, refused


def plan_body(data: DayData, sizes: Sizes) -> dict[str, Any]:
    """The ``POST /v1/plans`` body from the book: the day's channel, every site, the vans."""
    site_ids = [str(s) for s in data.sites.site_id]
    fleet = [
        {"id": f"{site}-van{v}", "site_id": site}
        for site in site_ids
        for v in range(sizes.vans_per_site)
    ]
    return {
        "from_book": {
            "date": PLAN_DATE.isoformat(),
            "site_ids": site_ids,
            "channels": [DAY_CHANNEL],
        },
        "fleet": fleet,
        "allocation_options": {"time_limit_s": sizes.allocation_time_limit_s},
        "options": {
            "routing_time_limit_s": sizes.routing_time_limit_s,
            "local_radius_km": sizes.local_radius_km,
        },
    }


def _ledger_check(
    base_url: str, store: BookStore, data: DayData, units_reserved: int
) -> tuple[bool, str]:
    """Whether the day's stock balances after the commit: no ledger mismatch, on hand as
    seeded, reserved as committed, available = on hand - reserved - safety (at least 0)."""
    mismatches = store.ledger_mismatches()
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S) as http:
        levels = [
            level
            for site in data.sites.site_id
            for level in http.get("/v1/stock", params={"site_id": str(site)}).json()["levels"]
        ]
    on_hand = sum(int(level["on_hand"]) for level in levels)
    reserved = sum(int(level["reserved"]) for level in levels)
    bad = [
        level
        for level in levels
        if level["available"]
        != max(0, level["on_hand"] - level["reserved"] - level["safety_stock"])
    ]
    seeded = int(data.stock.on_hand.sum())
    ok = not mismatches and on_hand == seeded and reserved == units_reserved and not bad
    detail = (
        f"{len(mismatches)} ledger mismatches; on hand {on_hand} (seeded {seeded}); reserved "
        f"{reserved} (committed {units_reserved}); {len(bad)} levels with a wrong available"
    )
    return ok, detail


def bench_day(base_url: str, store: BookStore, sizes: Sizes, cache_dir: Path) -> DayRun:
    """Section 3: a day planned from the book, each stage timed."""
    data = day_data(sizes.day_orders, sizes.day_sites)
    sites = data.sites.to_dict("records")
    _setup(
        base_url,
        [_put(f"/v1/sites/{row['site_id']}", _site_body(row)) for row in sites],
        201,
        "sites",
    )
    stock_rows = data.stock.to_dict("records")
    started = time.perf_counter()
    _setup(
        base_url,
        [_count(str(r["site_id"]), str(r["sku"]), int(r["on_hand"])) for r in stock_rows],
        201,
        "stock",
    )
    safety = [
        _put(
            f"/v1/stock/{r['site_id']}/{r['sku']}/safety", {"safety_stock": int(r["safety_stock"])}
        )
        for r in stock_rows
        if int(r["safety_stock"]) > 0
    ]
    _setup(base_url, safety, 200, "safety stock")
    stock_setup_s = time.perf_counter() - started
    path, capture_s, refused = capture_day(base_url, data.orders)
    body = plan_body(data, sizes)
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S) as http:
        started = time.perf_counter()
        answer = http.post("/v1/plans", json=body)
        plan_http_s = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"POST /v1/plans: {answer.status_code} {answer.text[:2000]}")
        draft = answer.json()
        stages, second_id = _in_process(store, body, cache_dir)
        started = time.perf_counter()
        answer = http.post(f"/v1/plans/{draft['id']}/commit")
        commit_http_s = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"commit: {answer.status_code} {answer.text[:2000]}")
    committed = answer.json()
    started = time.perf_counter()
    try:
        store.commit_plan(second_id)
        outcome = "committed (NOT stale: the book was planned twice)"
    except ConflictError as error:
        outcome = f"409 {error.code.value}, as it must after the first commit"
    stages["commit_plan (stale second draft)"] = round(time.perf_counter() - started, 3)
    statuses = Counter(o["status"] for o in committed["orders"])
    balanced, detail = _ledger_check(base_url, store, data, int(committed["units_reserved"]))
    held = int((data.orders.drop_duplicates("order_id").payment_status == "pending").sum())
    return DayRun(
        source=data.source,
        orders=int(data.orders.order_id.nunique()),
        orders_on_hold=held,
        capture_path=path,
        capture_s=round(capture_s, 3),
        capture_refused=refused,
        stock_records=len(stock_rows),
        stock_setup_s=round(stock_setup_s, 3),
        sites=len(sites),
        vans=len(body["fleet"]),
        plan_http_s=round(plan_http_s, 3),
        commit_http_s=round(commit_http_s, 3),
        plan_orders=len(draft.get("book_orders", [])),
        orders_allocated=statuses.get("allocated", 0),
        orders_backordered=statuses.get("backordered", 0),
        shipments_by_mode=dict(Counter(str(x["mode"]) for x in draft.get("shipments", []))),
        reservations=int(committed["reservations"]),
        units_reserved=int(committed["units_reserved"]),
        ledger_balanced=balanced,
        ledger_detail=detail,
        in_process_s=stages,
        in_process_commit=outcome,
    )


def _in_process(
    store: BookStore, body: dict[str, Any], cache_dir: Path
) -> tuple[dict[str, float], str]:
    """The server's stages of ``POST /v1/plans`` called here, on the same book: their seconds
    and the id of the draft saved."""
    request = BookPlanRequest.model_validate(body)
    stages: dict[str, float] = {}

    def timed(name: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = step()
        stages[name] = round(time.perf_counter() - started, 3)
        return value

    snap = timed("plan_snapshot", lambda: store.plan_snapshot(request.from_book))
    full, refs = timed("book_plan_request", lambda: book_plan_request(snap, request))
    result = timed("plan (allocate + route)", lambda: plan(full, matrix_cache_dir=cache_dir))
    record = timed(
        "save_plan", lambda: store.save_plan("book", request.model_dump(mode="json"), result, refs)
    )
    return stages, str(record.id)


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
