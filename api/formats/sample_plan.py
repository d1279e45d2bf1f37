"""A reproducible day for the whole pipeline: orders around Porto and across Portugal, stock at
warehouses and stores, and vans at the two Porto warehouses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from api.formats.sample_day import CENTRE, DEPOTS, HOUR, sample_van
from models.plan import PlanRequest

#: Far sites and customer towns ([lon, lat]): their orders go by carrier.
TOWNS = {"lisbon": (-9.1393, 38.7223), "braga": (-8.4265, 41.5454), "coimbra": (-8.4196, 40.2033)}
#: The sample day's date.
PLAN_DATE = dt.date(2026, 11, 27)
#: Number of skus in the catalogue.
N_SKUS = 40
#: Number of vans (the first four large), alternating between the two Porto warehouses.
N_VANS = 10

Json = dict[str, Any]


def _sites() -> list[Json]:
    """Two Porto warehouses with vans, a small store in the centre, a warehouse in Lisbon."""
    return [
        {
            "id": "WH-north",
            "kind": "warehouse",
            "location": list(DEPOTS["north"]),
            "capacity_orders": 400,
            "handling_cost_per_unit": 0.4,
        },
        {
            "id": "WH-east",
            "kind": "warehouse",
            "location": list(DEPOTS["east"]),
            "capacity_orders": 400,
            "handling_cost_per_unit": 0.4,
        },
        {
            "id": "ST-baixa",
            "kind": "store",
            "location": [-8.6110, 41.1460],
            "capacity_orders": 25,
            "capacity_units": 60,
            "handling_cost_per_unit": 1.2,
        },
        {
            "id": "WH-lisbon",
            "kind": "warehouse",
            "location": list(TOWNS["lisbon"]),
            "capacity_orders": 400,
            "handling_cost_per_unit": 0.3,
        },
    ]


def _products(rng: np.random.Generator, skus: list[str]) -> list[Json]:
    """Each sku's weight and volume."""
    return [
        {
            "sku": sku,
            "weight_kg": round(float(rng.uniform(0.3, 12.0)), 1),
            "volume_l": round(float(rng.uniform(1.0, 40.0)), 1),
        }
        for sku in skus
    ]


def _stock(rng: np.random.Generator, sites: list[Json], skus: list[str]) -> list[Json]:
    """Every sku at every site; one in seven is scarce, stores hold a third and keep one
    unit of safety stock."""
    stock = []
    for site in sites:
        for k, sku in enumerate(skus):
            scarce = k % 7 == 0
            on_hand = int(rng.integers(0, 4)) if scarce else int(rng.integers(10, 60))
            if site["kind"] == "store":
                on_hand //= 3
            stock.append(
                {
                    "site_id": site["id"],
                    "sku": sku,
                    "on_hand": on_hand,
                    "safety_stock": 1 if site["kind"] == "store" and on_hand else 0,
                }
            )
    return stock


def _order(rng: np.random.Generator, i: int, skus: list[str]) -> tuple[Json, Json | None]:
    """Order ``i`` (one to three lines; mostly around Porto, some in far towns) and, for some
    Porto orders, its three-hour delivery window."""
    far = rng.random() < 0.15
    if far:
        town = list(TOWNS.values())[int(rng.integers(0, len(TOWNS)))]
        lon, lat = town[0] + rng.normal(0, 0.02), town[1] + rng.normal(0, 0.02)
    else:
        lon, lat = CENTRE[0] + rng.normal(0, 0.025), CENTRE[1] + rng.normal(0, 0.015)
    order_id = f"O{i + 1:04d}"
    lines = [
        {
            "id": f"{order_id}-{j + 1}",
            "sku": skus[int(rng.integers(0, len(skus)))],
            "quantity": int(rng.integers(1, 4)),
        }
        for j in range(int(rng.integers(1, 4)))
    ]
    order = {
        "id": order_id,
        "channel": "online",
        "location": [round(float(lon), 6), round(float(lat), 6)],
        "created_date": (PLAN_DATE - dt.timedelta(days=1)).isoformat(),
        "promised_date": (PLAN_DATE + dt.timedelta(days=int(rng.integers(0, 4)))).isoformat(),
        "priority": int(rng.integers(0, 4)),
        "payment_status": "pending" if i % 41 == 5 else "authorised",
        "ship_complete": bool(i % 9 == 0),
        "lines": lines,
    }
    delivery = None
    if not far and rng.random() < 0.6:
        begin = int(rng.integers(9, 16)) * HOUR
        delivery = {"order_id": order_id, "time_windows": [[begin, begin + 3 * HOUR]]}
    return order, delivery


def _fleet() -> list[Json]:
    """Large and small vans, alternating between the two Porto warehouses."""
    fleet = []
    for k in range(N_VANS):
        large = k < 4
        fleet.append(
            {
                "id": f"{'L' if large else 'V'}{k + 1:02d}",
                "site_id": "WH-north" if k % 2 == 0 else "WH-east",
                **sample_van(large, 19, (900.0, 4000.0) if large else (450.0, 2000.0)),
            }
        )
    return fleet


def sample_plan(
    n_orders: int = 180, seed: int = 11, routing_time_limit_s: float = 8.0
) -> PlanRequest:
    """Orders with one to three lines, some scarce skus, windows, priorities and a few holds."""
    rng = np.random.default_rng(seed)
    sites = _sites()
    skus = [f"SKU-{k:03d}" for k in range(N_SKUS)]
    products = _products(rng, skus)
    stock = _stock(rng, sites, skus)
    orders, deliveries = [], []
    for i in range(n_orders):
        order, delivery = _order(rng, i, skus)
        orders.append(order)
        if delivery is not None:
            deliveries.append(delivery)
    return PlanRequest.model_validate(
        {
            "plan_date": PLAN_DATE.isoformat(),
            "day_start": dt.datetime.combine(PLAN_DATE, dt.time()).isoformat(),
            "sites": sites,
            "stock": stock,
            "orders": orders,
            "products": products,
            "fleet": _fleet(),
            "deliveries": deliveries,
            "allocation_options": {"time_limit_s": 5.0},
            "options": {
                "routing_time_limit_s": routing_time_limit_s,
                "local_radius_km": 25.0,
                "default_time_windows": [[9 * HOUR, 18 * HOUR]],
                "matrix": {"provider": "haversine", "speed_kmh": 28.0, "detour_factor": 1.35},
            },
        }
    )
