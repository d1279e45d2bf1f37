"""Through-the-day benchmark: driver events through a real server, and a re-plan mid-day.

For each database (a fresh SQLite file, or a fresh PostgreSQL database created and dropped):

1. **set-up** (in-process, untimed): one site in Porto with stock, ``stops`` paid orders
   around it (a seeded generator: 1 kettle each, a 09:00-17:00 window), ``vans`` vans of 16
   kettles each and three spares (a fixed cost of 100 each, so the plan leaves them at the
   site); the day planned from the book, committed, every order
   picked and packed, every route dispatched;
2. **events**: one ``routeplan`` server (:class:`benchmarks.load.LoadServer`, a webhook
   subscribed to a local sink so deliveries run too); 20 clients, each the driver's app of
   one route, post ``arrived`` then ``delivered`` for the first half of its stops, in order:
   events per second and p50/p95 latency of the 200s;
3. **re-plan** (in-process): at the last event's time plus a minute, ``new`` urgent orders
   are captured and the day re-planned (:meth:`engine.book.store.BookStore.replan`, the
   routing time limit per site as set), then committed; both timed. Its cost (the routes from
   ``at`` on, the new orders' stops included) is set against a *free* re-plan of the same
   rest of the day at the same time limit: the same vans from the same places, but no locked
   stop, no goods tied to their van and new orders allowed on any van, a relaxation that
   shows what keeping the day's facts costs. Both plans are judged by the routing evaluator.

:func:`run` writes ``day.json`` and ``day.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from benchmarks import aio
from benchmarks.book_calls import Call, Rate, fan_out, post
from benchmarks.databases import POSTGRES_URL, scratch_database
from benchmarks.load import LoadServer
from engine.allocation.allocate import allocate
from engine.book import replans
from engine.book.planning import book_plan_request
from engine.dispatch.store import DispatchStore
from engine.plan.pipeline import plan, site_requests
from engine.plan.replan import site_works
from engine.plan.replan_sites import routing_request
from engine.routing.evaluate import evaluate
from engine.routing.solve import solve_routes
from models.book import (
    BookPlanRequest,
    BookSelection,
    DeliveryWindow,
    OrderIn,
    SiteIn,
    StockMovementIn,
)
from models.replan import ReplanRequest
from models.status import OrderStatus

DATABASES = ("sqlite", "postgres")
DAY = dt.date(2026, 12, 2)
DAY_START = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
SITE = (-8.61, 41.15)
#: Kettles per van.
VAN_UNITS = 16
EVENT_CLIENTS = 20


@dataclass(frozen=True)
class Sizes:
    """How big the day is."""

    stops: int = 300
    vans: int = 20
    new_orders: int = 20
    routing_time_limit_s: float = 5.0
    seed: int = 0


FULL = Sizes()
QUICK = Sizes(stops=60, vans=4, new_orders=5, routing_time_limit_s=1.0)


@dataclass
class DatabaseResult:
    """One database's figures."""

    database: str
    setup_s: float = 0.0
    routes: int = 0
    events: Rate | None = None
    webhook_deliveries: int = 0
    replan_s: float = 0.0
    commit_s: float = 0.0
    replan_cost: float = 0.0
    free_cost: float = 0.0
    replan_feasible: bool = False
    free_feasible: bool = False
    replan_unassigned: int = 0
    free_unassigned: int = 0
    new_served: int = 0
    locked_stops: int = 0
    on_board: int = 0
    notes: list[str] = field(default_factory=list)


def _clock(seconds: float) -> dt.datetime:
    return DAY_START + dt.timedelta(seconds=seconds)


def _capture(store: DispatchStore, order_id: str, rng: random.Random) -> None:
    location = (SITE[0] + rng.uniform(-0.06, 0.06), SITE[1] + rng.uniform(-0.05, 0.05))
    window = DeliveryWindow(start=_clock(9 * 3600), end=_clock(17 * 3600))
    store.capture(
        OrderIn(
            id=order_id,
            channel="web",
            location=(round(location[0], 5), round(location[1], 5)),
            lines=[{"id": "l1", "sku": "kettle", "quantity": 1}],  # type: ignore[list-item]
            payment_status="authorised",
            delivery_windows=[window],
            service_s=180.0,
        )
    )


def _fleet(sizes: Sizes) -> list[dict[str, Any]]:
    van = {"site_id": "porto", "capacity": {"weight_kg": 2.0 * VAN_UNITS}, "shift": [28800, 64800]}
    vans = [{"id": f"van-{k + 1}", **van} for k in range(sizes.vans)]
    return vans + [{"id": f"spare-{k + 1}", **van, "fixed_cost": 100.0} for k in range(3)]


def _set_up(store: DispatchStore, sizes: Sizes, rng: random.Random) -> tuple[str, list[str]]:
    """The committed, packed, dispatched day (see the module doc): its plan and route ids."""
    store.put_site("porto", SiteIn.model_validate({"location": SITE}))
    units = sizes.stops + sizes.new_orders + 10
    store.move_stock(StockMovementIn(site_id="porto", sku="kettle", quantity=units, kind="receipt"))
    for k in range(sizes.stops):
        _capture(store, f"o-{k}", rng)
    request = BookPlanRequest.model_validate(
        {
            "from_book": BookSelection(date=DAY).model_dump(mode="json"),
            "fleet": _fleet(sizes),
            "products": [{"sku": "kettle", "weight_kg": 2.0, "volume_l": 6}],
            "allocation_options": {"time_limit_s": 5.0},
            "options": {"routing_time_limit_s": sizes.routing_time_limit_s, "parallel": False},
        }
    )
    full, refs = book_plan_request(store.plan_snapshot(request.from_book), request)
    draft = store.save_plan("book", request.model_dump(mode="json"), plan(full), refs)
    store.commit_plan(draft.id)
    for k in range(sizes.stops):
        store.change_status(f"o-{k}", OrderStatus.PICKING)
        store.change_status(f"o-{k}", OrderStatus.PACKED)
    committed = store.get_plan(draft.id)
    for ref in committed.routes:
        store.dispatch(ref.route_id)
    return draft.id, [ref.route_id for ref in committed.routes]


def _event_queues(store: DispatchStore, route_ids: list[str]) -> tuple[list[list[Call]], float]:
    """Per route, its driver's events for the first half of its stops, in order; and the
    last event's time (seconds from the day start)."""
    queues, last = [], 0.0
    for route_id in route_ids:
        route = store.get_route(route_id)
        visits = [s for s in route.stops if s.kind in ("job", "delivery", "pickup")]
        calls: list[Call] = []
        for stop in visits[: max(1, len(visits) // 2)]:
            t = stop.planned_start_s
            for kind, at_s in (("arrived", t), ("delivered", t + stop.service_s)):
                body = {"type": kind, "stop_id": stop.stop_id, "at": _clock(at_s).isoformat()}
                calls.append(post(f"/v1/routes/{route_id}/events", body))
                last = max(last, at_s)
        queues.append(calls)
    return queues, last


class _Sink:
    """A webhook receiver that answers 200 and counts."""

    def __init__(self) -> None:
        self.count = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                sink.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _events(url: str, work_dir: Path, queues: list[list[Call]]) -> tuple[Rate, int]:
    """The events from :data:`EVENT_CLIENTS` drivers' apps through a real server."""
    sink = _Sink()
    try:
        with LoadServer(url, work_dir) as server:
            hook = {"url": sink.url, "events": ["*"], "secret": "bench-secret-0123456789"}
            assert httpx.post(f"{server.url}/v1/webhooks", json=hook).status_code == 201
            per_client: list[list[Call]] = [[] for _ in range(EVENT_CLIENTS)]
            for k, queue in enumerate(queues):
                per_client[k % EVENT_CLIENTS].extend(queue)
            tally, took_s = aio.run(fan_out(server.url, [q for q in per_client if q], 200))
            time.sleep(2.0)  # the deliveries of the last events
            return tally.rate(took_s), sink.count
    finally:
        sink.close()


def _free_cost(inp: Any, limit_s: float) -> tuple[float, bool, int]:
    """The rest of the day re-planned free of locks and ties (see the module doc)."""
    allocation = allocate(inp.added.allocation_request())
    per_site = site_requests(inp.added, allocation) if inp.added.orders else {}
    new_stops = {
        str(site): [s.model_dump(by_alias=False, exclude_none=True) for s in request.stops]
        for site, (request, _index) in per_site.items()
    }
    works = site_works(inp, new_stops)
    cost, feasible, unassigned = 0.0, True, 0
    for work in works.values():
        if not work.vehicles:
            continue
        free = dataclasses.replace(
            work,
            vehicles=[{**v, "locked_stops": []} for v in work.vehicles],
            stops=[
                {k: v for k, v in s.items() if k not in ("vehicles", "assigned_vehicle")}
                for s in work.stops
            ],
        )
        request = routing_request(free, inp.matrix, limit_s, 0, 0.0, inp.parent.day_start)
        result = solve_routes(request)
        verdict = evaluate(request, result)
        cost += result.summary.cost
        feasible = feasible and verdict.feasible
        unassigned += len(result.unassigned)
    return cost, feasible, unassigned


def _replan(
    store: DispatchStore,
    plan_id: str,
    sizes: Sizes,
    at_s: float,
    rng: random.Random,
    result: DatabaseResult,
) -> None:
    """Capture the urgent orders, re-plan at ``at_s`` and commit; the free re-plan beside it."""
    new = [f"u-{k}" for k in range(sizes.new_orders)]
    for order_id in new:
        _capture(store, order_id, rng)
    body = ReplanRequest.model_validate(
        {
            "add_orders": new,
            "at": _clock(at_s).isoformat(),
            "options": {"routing_time_limit_s": sizes.routing_time_limit_s},
        }
    )
    began = time.perf_counter()
    draft = store.replan(plan_id, body)
    result.replan_s = round(time.perf_counter() - began, 2)
    assert draft.replan is not None
    result.replan_cost = round(sum(s.routing.summary.cost for s in draft.sites), 2)
    result.replan_feasible = draft.replan.check.feasible
    result.replan_unassigned = sum(len(s.routing.unassigned) for s in draft.sites)
    served = {str(st.id) for s in draft.sites for r in s.routing.routes for st in r.steps}
    result.new_served = sum(f"{o}@porto" in served for o in new)
    result.locked_stops = sum(len(v.locked) for v in draft.replan.vans)
    result.on_board = sum(len(v.on_board) for v in draft.replan.vans)
    with store._read() as conn:  # the same state, read again, for the free re-plan
        inp, _refs = replans.replan_input(conn, plan_id, ReplanRequest(at=body.at))
    free = _free_cost(inp, sizes.routing_time_limit_s)
    result.free_cost, result.free_feasible, result.free_unassigned = round(free[0], 2), *free[1:]
    began = time.perf_counter()
    store.commit_plan(draft.id)
    result.commit_s = round(time.perf_counter() - began, 2)


def run_database(
    database: str,
    sizes: Sizes,
    work_dir: Path,
    postgres_url: str = POSTGRES_URL,
    progress: Callable[[str], None] = lambda _m: None,
) -> DatabaseResult:
    """Every section on one fresh database."""
    result = DatabaseResult(database)
    rng = random.Random(sizes.seed)
    with scratch_database(database, work_dir, postgres_url, name="day") as url:
        store = DispatchStore(url)
        try:
            progress(f"{database}: set-up ({sizes.stops} stops)")
            began = time.perf_counter()
            plan_id, route_ids = _set_up(store, sizes, rng)
            result.setup_s = round(time.perf_counter() - began, 1)
            result.routes = len(route_ids)
            queues, last_s = _event_queues(store, route_ids)
            progress(f"{database}: events from {EVENT_CLIENTS} clients")
            result.events, result.webhook_deliveries = _events(url, work_dir, queues)
            progress(f"{database}: re-plan with {sizes.new_orders} new orders")
            _replan(store, plan_id, sizes, last_s + 60, rng, result)
        finally:
            store.close()
    return result


def markdown(results: list[DatabaseResult], sizes: Sizes) -> str:
    """The tables, ready for RESULTS.md."""
    lines = [
        f"A day of {sizes.stops} stops on {sizes.vans} vans (+3 spares), "
        f"{sizes.new_orders} urgent orders, routing {sizes.routing_time_limit_s} s per site.",
        "",
        "| database | events | events/s | p50 ms | p95 ms | webhooks sent | re-plan s | commit s "
        "| re-plan cost | free cost | locks cost | new served | feasible (re-plan, free) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ev = r.events
        extra = (r.replan_cost / r.free_cost - 1) * 100 if r.free_cost else float("nan")
        lines.append(
            f"| {r.database} | {ev.succeeded if ev else 0}/{ev.requests if ev else 0} | "
            f"{ev.per_s if ev else 0:.1f} | {ev.p50_ms if ev else '-'} | "
            f"{ev.p95_ms if ev else '-'} | {r.webhook_deliveries} | {r.replan_s} | {r.commit_s} | "
            f"{r.replan_cost:.2f} | {r.free_cost:.2f} | {extra:+.1f}% | "
            f"{r.new_served}/{sizes.new_orders} | {r.replan_feasible}, {r.free_feasible} |"
        )
    return "\n".join(lines) + "\n"


def run(
    out: Path,
    *,
    quick: bool = False,
    databases: tuple[str, ...] = DATABASES,
    sizes: Sizes | None = None,
    postgres_url: str = POSTGRES_URL,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[DatabaseResult]:
    """Every section on every database; writes ``day.json`` and ``day.md`` to ``out``."""
    sizes = sizes or (QUICK if quick else FULL)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for database in databases:
        if database not in DATABASES:
            raise ValueError(f"database must be one of {DATABASES}, not {database!r}")
        with tempfile.TemporaryDirectory(prefix="routeplan-day-") as tmp:
            results.append(run_database(database, sizes, Path(tmp), postgres_url, progress))
    (out / "day.json").write_text(
        json.dumps({"sizes": asdict(sizes), "results": [asdict(r) for r in results]}, indent=2)
        + "\n"
    )
    (out / "day.md").write_text(markdown(results, sizes))
    return results
