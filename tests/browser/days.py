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


#: The analytics book's sites (their [lon, lat]), and how many days of orders it holds.
ANALYTICS_SITES = {"north": [-8.61, 41.17], "south": [-8.61, 41.13]}
ANALYTICS_DAYS = 35
#: The analytics book's orders on each weekday (Monday first), and the channels they use.
ANALYTICS_PATTERN = [4, 6, 5, 7, 9, 3, 2]
ANALYTICS_CHANNELS = ("web", "phone", "marketplace")


def _analytics_order(day: dt.date, n: int, paid: bool, due: dt.date | None) -> Json:
    """The ``n``-th order placed on ``day``: near one site or the other, one lamp; with
    ``due``, a delivery window that morning."""
    site = ANALYTICS_SITES["north" if n % 2 else "south"]
    placed = dt.datetime.combine(day, dt.time(9 + n % 8, 7 * n % 60), tzinfo=dt.UTC)
    order: Json = {
        "id": f"a-{day.isoformat()}-{n}",
        "channel": ANALYTICS_CHANNELS[n % len(ANALYTICS_CHANNELS)],
        "location": [round(site[0] + 0.004 * (n % 3 - 1), 5), round(site[1] + 0.003 * (n % 2), 5)],
        "lines": [{"id": "l1", "sku": "lamp", "quantity": 1}],
        "placed_at": placed.isoformat(),
        "payment_status": "authorised" if paid else "pending",
    }
    if due is not None:
        start = dt.datetime.combine(due, dt.time(9), tzinfo=dt.UTC)
        order["delivery_windows"] = [
            {"start": start.isoformat(), "end": (start + dt.timedelta(hours=3)).isoformat()}
        ]
    return order


def analytics_count(day: dt.date) -> int:
    """How many orders the analytics book places on ``day``: its weekday's count of
    :data:`ANALYTICS_PATTERN`, give or take two (the same each run)."""
    return max(1, ANALYTICS_PATTERN[day.weekday()] + (day.toordinal() * 37) % 5 - 2)


def _plan_book_day(http: httpx.Client, day: dt.date) -> Json:
    """Plan the book's ready orders for ``day`` (a van per site), commit: the stored plan."""
    van = {"capacity": {"weight_kg": 40}, "shift": [8 * 3600, 20 * 3600], "max_stops": 8}
    body = {
        "from_book": {"date": day.isoformat()},
        "fleet": [{"id": f"van-{s}", "site_id": s, **van} for s in ANALYTICS_SITES],
        "products": [{"sku": "lamp", "weight_kg": 2.0, "volume_l": 6}],
        "allocation_options": {"time_limit_s": TIME_LIMIT_S},
        "options": {"routing_time_limit_s": TIME_LIMIT_S, "parallel": False},
    }
    draft = ok(http.post("/v1/plans", json=body, timeout=120))
    ok(http.post(f"/v1/plans/{draft['id']}/commit"))
    return ok(http.get(f"/v1/plans/{draft['id']}"))  # type: ignore[no-any-return]


def analytics_book(http: httpx.Client, last: dt.date) -> list[Json]:
    """A book with history for the analytics page: orders over the :data:`ANALYTICS_DAYS`
    days up to ``last`` (three channels, most paid), planned in three committed plans
    (sites ``north`` and ``south``; the unpaid ones stay unplanned), and the last plan's
    first route dispatched and driven to completion (its stops delivered, some late).
    The committed plans, oldest first."""
    for site, location in ANALYTICS_SITES.items():
        ok(http.put(f"/v1/sites/{site}", json={"location": location}), 201)
        receipt = {"site_id": site, "sku": "lamp", "quantity": 400, "kind": "receipt"}
        ok(http.post("/v1/stock/movements", json=receipt), 201)
    first = last - dt.timedelta(days=ANALYTICS_DAYS - 1)
    cut_offs = [first + dt.timedelta(days=k) for k in (11, 23, ANALYTICS_DAYS - 1)]
    plans = []
    day = first
    for cut_off in cut_offs:
        while day <= cut_off:
            for n in range(analytics_count(day)):
                due = last if cut_off == last else None
                order = _analytics_order(day, n, paid=n % 5 != 4, due=due)
                ok(http.post("/v1/orders", json=order), 201)
            day += dt.timedelta(days=1)
        plans.append(_plan_book_day(http, cut_off))
    drive_route(http, plans[-1]["routes"][0]["route_id"], last)
    return plans


def drive_route(http: httpx.Client, route_id: str, day: dt.date) -> Json:
    """Pick, pack and dispatch a committed route, then deliver its stops, the k-th at its
    planned start plus ``(k - 1) * 10`` minutes (the first 10 minutes early): the route as
    ``GET /v1/routes/{id}`` then answers (completed)."""
    route = ok(http.get(f"/v1/routes/{route_id}"))
    stops = [s for s in route["stops"] if s["kind"] in VISITS]
    for stop in stops:
        for status in ("picking", "packed"):
            ok(http.post(f"/v1/orders/{stop['order_id']}/status", json={"status": status}))
    ok(http.post(f"/v1/routes/{route_id}/dispatch"))
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    for k, stop in enumerate(stops):
        at = start + dt.timedelta(seconds=stop["planned_start_s"] + (k - 1) * 600)
        body = {"type": "delivered", "stop_id": stop["stop_id"], "at": at.isoformat()}
        ok(http.post(f"/v1/routes/{route_id}/events", json=body))
    return ok(http.get(f"/v1/routes/{route_id}"))  # type: ignore[no-any-return]
