"""The day of the order book benchmark (:mod:`benchmarks.book`, section 3): a book of orders
(the Olist sample when the shared data has it, else the synthetic generator), captured by CSV
import, sites with stock, then a plan from the book and its commit, each stage timed, and the
server's stages measured again in-process."""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd

from benchmarks.allocation_instances import PLAN_DATE, olist_frames, synthetic_frames
from benchmarks.book_calls import (
    HTTP_TIMEOUT_S,
    SETUP_CLIENTS,
    capture_call,
    put,
    run_calls,
    setup,
    stock_count,
)
from benchmarks.paths import shared_data_dir
from engine.book.planning import book_plan_request
from engine.book.store import BookStore
from engine.plan.pipeline import plan
from models.book import BookPlanRequest
from models.errors import ConflictError

if TYPE_CHECKING:
    from benchmarks.book import Sizes

#: The day's sites open (and their vans work) 08:00-18:00 from the day start.
OPENING_S = (8 * 3600.0, 18 * 3600.0)
#: The channel of the day's orders (the plan takes that channel only).
DAY_CHANNEL = "day"
#: Orders per CSV file of the bulk capture.
IMPORT_CHUNK_ORDERS = 2000


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
    tally, _ = run_calls(base_url, [capture_call(b) for b in bodies], SETUP_CLIENTS, 201)
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
    setup(
        base_url,
        [put(f"/v1/sites/{row['site_id']}", _site_body(row)) for row in sites],
        201,
        "sites",
    )
    stock_rows = data.stock.to_dict("records")
    started = time.perf_counter()
    setup(
        base_url,
        [stock_count(str(r["site_id"]), str(r["sku"]), int(r["on_hand"])) for r in stock_rows],
        201,
        "stock",
    )
    safety = [
        put(f"/v1/stock/{r['site_id']}/{r['sku']}/safety", {"safety_stock": int(r["safety_stock"])})
        for r in stock_rows
        if int(r["safety_stock"]) > 0
    ]
    setup(base_url, safety, 200, "safety stock")
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
