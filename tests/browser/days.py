"""The days the browser tests put on the page, stored through the real API: a full plan request
(the sample day, small), a 500-stop 40-van day for the load time, and a day taken through the
order book up to dispatched routes (for live updates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import numpy as np

from api.formats.sample_day import CENTRE
from api.formats.sample_plan import sample_plan

Json = dict[str, Any]
#: The step types that are visits (not the start, a break or the end).
VISITS = ("job", "delivery", "pickup")
#: The book day of :func:`dispatched_plan`.
BOOK_DAY = dt.date(2026, 12, 2)
BOOK_SITE = [-8.61, 41.15]
#: Solves of these tests stay short.
TIME_LIMIT_S = 1.0


def ok(answer: httpx.Response, status: int = 200) -> Any:
    """The JSON of an answer that must have ``status``."""
    assert answer.status_code == status, f"{answer.request.url}: {answer.text[:2000]}"
    return answer.json()


def small_day() -> Json:
    """The sample day at 60 orders (carrier shipments, holds and scarce skus: some lines are
    left out with a reason), with 1 s searches."""
    body = sample_plan(n_orders=60, seed=11, routing_time_limit_s=TIME_LIMIT_S).model_dump(
        mode="json"
    )
    body["allocation_options"]["time_limit_s"] = TIME_LIMIT_S
    body["options"]["parallel"] = False
    return body


def big_day(n_orders: int = 500, n_vans: int = 40, seed: int = 5) -> Json:
    """``n_orders`` one-line orders around Porto, two sites with ``n_vans`` vans between them
    (15 stops each at most, so most vans are used), 2 s searches."""
    rng = np.random.default_rng(seed)
    sites = [
        {"id": "north", "location": [CENTRE[0], CENTRE[1] + 0.02]},
        {"id": "south", "location": [CENTRE[0], CENTRE[1] - 0.02]},
    ]
    orders = [
        {
            "id": f"B{i:04d}",
            "location": [
                round(float(CENTRE[0] + rng.normal(0, 0.03)), 6),
                round(float(CENTRE[1] + rng.normal(0, 0.02)), 6),
            ],
            "lines": [{"id": 1, "sku": "parcel", "quantity": int(rng.integers(1, 3))}],
        }
        for i in range(n_orders)
    ]
    fleet = [
        {
            "id": f"van-{k + 1:02d}",
            "site_id": sites[k % 2]["id"],
            "capacity": {"weight_kg": 400},
            "shift": [8 * 3600, 20 * 3600],
            "max_stops": 15,
            "cost_per_km": 0.3,
            "cost_per_working_hour": 20,
        }
        for k in range(n_vans)
    ]
    return {
        "plan_date": "2026-12-03",
        "day_start": "2026-12-03T00:00:00",
        "sites": sites,
        "stock": [{"site_id": s["id"], "sku": "parcel", "on_hand": 2 * n_orders} for s in sites],
        "orders": orders,
        "products": [{"sku": "parcel", "weight_kg": 2.0, "volume_l": 5}],
        "fleet": fleet,
        "allocation_options": {"time_limit_s": 2.0},
        "options": {"routing_time_limit_s": 2.0, "parallel": False, "local_radius_km": 30},
    }


def store_plan(http: httpx.Client, body: Json) -> Json:
    """``POST /v1/plans``, then the stored plan as ``GET /v1/plans/{id}`` returns it."""
    draft = ok(http.post("/v1/plans", json=body, timeout=300))
    return ok(http.get(f"/v1/plans/{draft['id']}"))


def routes_of(plan: Json) -> list[Json]:
    """Every route of every site of a plan (as ``GET /v1/plans/{id}`` gives them)."""
    return [r for site in plan["sites"] for r in site["routing"]["routes"]]


def visit_ids(route: Json) -> list[str]:
    """The ids of a plan route's visits, in visiting order."""
    return [str(s["id"]) for s in route["steps"] if s["type"] in VISITS]


def clock(seconds: float) -> str:
    """The book day's clock time ``seconds`` after midnight UTC."""
    start = dt.datetime.combine(BOOK_DAY, dt.time(), tzinfo=dt.UTC)
    return (start + dt.timedelta(seconds=seconds)).isoformat()


def _book(http: httpx.Client, n_orders: int) -> None:
    """A site with stock, and ``n_orders`` paid one-kettle orders due on the book day."""
    ok(http.put("/v1/sites/wh-1", json={"location": BOOK_SITE}), 201)
    receipt = {"site_id": "wh-1", "sku": "kettle", "quantity": 40, "kind": "receipt"}
    ok(http.post("/v1/stock/movements", json=receipt), 201)
    window = {"start": clock(9 * 3600), "end": clock(17 * 3600)}
    for k in range(n_orders):
        side = 1 if k % 2 else -1
        place = [BOOK_SITE[0] + side * 0.01 * (1 + k // 2), BOOK_SITE[1] + 0.004 * (k % 3)]
        order = {
            "id": f"o-{k}",
            "channel": "web",
            "location": [round(x, 5) for x in place],
            "lines": [{"id": "l1", "sku": "kettle", "quantity": 1}],
            "payment_status": "authorised",
            "delivery_windows": [window],
        }
        assert ok(http.post("/v1/orders", json=order), 201)["status"] == "ready"


def dispatched_plan(http: httpx.Client, n_orders: int = 6) -> Json:
    """Orders captured and paid, planned from the book for two vans, committed, picked,
    packed and dispatched: the stored plan (with its ``routes`` refs)."""
    _book(http, n_orders)
    van = {"site_id": "wh-1", "capacity": {"weight_kg": 10}, "shift": [28800, 64800]}
    body = {
        "from_book": {"date": BOOK_DAY.isoformat(), "site_ids": ["wh-1"]},
        "fleet": [{"id": "van-1", **van}, {"id": "van-2", **van}],
        "products": [{"sku": "kettle", "weight_kg": 2.0, "volume_l": 6}],
        "allocation_options": {"time_limit_s": TIME_LIMIT_S},
        "options": {"routing_time_limit_s": TIME_LIMIT_S, "parallel": False},
    }
    draft = ok(http.post("/v1/plans", json=body, timeout=120))
    ok(http.post(f"/v1/plans/{draft['id']}/commit"))
    plan = ok(http.get(f"/v1/plans/{draft['id']}"))
    assert plan["routes"], plan["unassigned"]
    for k in range(n_orders):
        for status in ("picking", "packed"):
            ok(http.post(f"/v1/orders/o-{k}/status", json={"status": status}))
    for ref in plan["routes"]:
        ok(http.post(f"/v1/routes/{ref['route_id']}/dispatch"))
    return plan
