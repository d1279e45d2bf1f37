"""The HTTP calls of the order book benchmark (:mod:`benchmarks.book`): concurrent clients
that time them (:func:`fan_out`), untimed set-up calls (:func:`setup`), and the figures of a
timed run (:class:`Rate`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks import aio
from benchmarks.load import percentile

#: Clients that seed stock and capture orders outside the timed sections.
SETUP_CLIENTS = 20
HTTP_TIMEOUT_S = 600.0


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


@dataclass
class Tally:
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


async def timed_call(http: httpx.AsyncClient, call: Call, tally: Tally, ok: int) -> int:
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


async def fan_out(base_url: str, queues: list[list[Call]], ok: int) -> tuple[Tally, float]:
    """One client (one connection, opened before the clock starts) per queue; each sends its
    calls one after another; all start together. The tally and the wall time."""
    tally = Tally()
    https = [httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S) for _ in queues]
    async with contextlib.AsyncExitStack() as stack:
        for http in https:
            await stack.enter_async_context(http)
        await asyncio.gather(*(http.get("/v1/health") for http in https))
        gate = asyncio.Event()

        async def client(http: httpx.AsyncClient, calls: list[Call]) -> None:
            await gate.wait()
            for call in calls:
                await timed_call(http, call, tally, ok)

        tasks = [asyncio.create_task(client(h, q)) for h, q in zip(https, queues, strict=True)]
        await asyncio.sleep(0)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        return tally, time.perf_counter() - started


def split_calls(calls: list[Call], clients: int) -> list[list[Call]]:
    """``calls`` dealt round-robin to ``clients`` queues."""
    return [calls[i::clients] for i in range(clients)]


def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Call:
    def call(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return http.post(path, json=body, headers=headers)

    return call


def put(path: str, body: dict[str, Any]) -> Call:
    def call(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return http.put(path, json=body)

    return call


def run_calls(base_url: str, calls: list[Call], clients: int, ok: int) -> tuple[Tally, float]:
    return aio.run(fan_out(base_url, split_calls(calls, clients), ok))


def setup(base_url: str, calls: list[Call], ok: int, what: str) -> float:
    """Untimed set-up calls from :data:`SETUP_CLIENTS` clients; every one must answer ``ok``."""
    if not calls:
        return 0.0
    tally, took_s = run_calls(base_url, calls, min(SETUP_CLIENTS, len(calls)), ok)
    if tally.statuses.get(ok, 0) != len(calls):
        raise RuntimeError(
            f"set-up of {what}: {dict(tally.statuses)} answers, all {ok} wanted; the first "
            f"other: {tally.first_unexpected}"
        )
    return took_s


def capture_call(body: dict[str, Any]) -> Call:
    return post("/v1/orders", body, {"Idempotency-Key": uuid.uuid4().hex})


def stock_count(site_id: str, sku: str, units: int) -> Call:
    return post(
        "/v1/stock/movements", {"site_id": site_id, "sku": sku, "quantity": units, "kind": "count"}
    )
