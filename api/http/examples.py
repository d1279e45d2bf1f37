"""Examples shown in the OpenAPI document (``/docs``), one or more for every endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROUTES_REQUEST: dict[str, Any] = {
    "stops": [
        {
            "id": "order-1",
            "location": [2.3522, 48.8566],
            "demand": {"weight_kg": 12},
            "service": 300,
            "time_windows": [[0, 7200]],
        },
        {
            "id": "order-2",
            "location": [2.2945, 48.8584],
            "demand": {"weight_kg": 30},
            "service": 300,
        },
        {"id": "order-3", "location": [2.3499, 48.8530], "demand": {"weight_kg": 8}},
    ],
    "vehicles": [
        {
            "id": "van-1",
            "start": [2.3376, 48.8606],
            "end": [2.3376, 48.8606],
            "capacity": {"weight_kg": 100},
            "time_window": [0, 28800],
        }
    ],
    "options": {"time_limit_s": 1},
}

ROUTES_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "coordinates": {
        "summary": "Three stops, one van, haversine travel times",
        "value": ROUTES_REQUEST,
    },
    "matrix": {
        "summary": "Your own duration matrix (VROOM's example 2)",
        "value": {
            "jobs": [{"id": 1414, "location_index": 1}, {"id": 1515, "location_index": 2}],
            "vehicles": [{"id": 0, "start_index": 0, "end_index": 3, "cost_per_hour": 3600}],
            "matrix": {
                "provider": "explicit",
                "durations_s": [
                    [0, 2104, 197, 1299],
                    [2103, 0, 2255, 3152],
                    [197, 2256, 0, 1102],
                    [1299, 3153, 1102, 0],
                ],
            },
            "options": {"time_limit_s": 1},
        },
    },
}


def _step(kind: str, at: float, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "arrival_s": at,
        "service_start_s": at,
        "departure_s": at + extra.get("service_s", 0.0),
        "waiting_s": 0.0,
        **extra,
    }


ROUTES_RESULT: dict[str, Any] = {
    "summary": {
        "cost": 8.8511,
        "travel_cost": 8.8511,
        "fixed_cost": 0.0,
        "drop_penalty": 0.0,
        "routes": 1,
        "stops_served": 3,
        "unassigned": 0,
        "distance_m": 8851.1,
        "duration_s": 1396.6,
        "travel_s": 796.6,
        "service_s": 600.0,
        "waiting_s": 0.0,
    },
    "routes": [
        {
            "vehicle_id": "van-1",
            "steps": [
                _step("start", 0.0, location=[2.3376, 48.8606], load={"weight_kg": 50.0}),
                _step(
                    "job",
                    104.1,
                    id="order-1",
                    location=[2.3522, 48.8566],
                    service_s=300.0,
                    load={"weight_kg": 38.0},
                    distance_m=1157.0,
                    duration_s=104.1,
                ),
                _step(
                    "job",
                    443.2,
                    id="order-3",
                    location=[2.3499, 48.853],
                    load={"weight_kg": 30.0},
                    distance_m=1591.2,
                    duration_s=443.2,
                ),
                _step(
                    "job",
                    812.0,
                    id="order-2",
                    location=[2.2945, 48.8584],
                    service_s=300.0,
                    load={"weight_kg": 0.0},
                    distance_m=5688.6,
                    duration_s=812.0,
                ),
                _step(
                    "end",
                    1396.6,
                    location=[2.3376, 48.8606],
                    load={"weight_kg": 0.0},
                    distance_m=8851.1,
                    duration_s=1396.6,
                ),
            ],
            "summary": {
                "stops": 3,
                "distance_m": 8851.1,
                "duration_s": 1396.6,
                "travel_s": 796.6,
                "service_s": 600.0,
                "waiting_s": 0.0,
                "break_s": 0.0,
                "start_s": 0.0,
                "end_s": 1396.6,
                "delivered": {"weight_kg": 50.0},
                "capacity": {"weight_kg": 100.0},
                "cost": 8.8511,
            },
        }
    ],
    "unassigned": [],
    "stats": {
        "status": "complete",
        "backend": "pyvrp",
        "solver_status": "feasible",
        "objective": 8.85,
        "first_solution_s": 0.0004,
        "solve_s": 1.0,
        "matrix_s": 0.0003,
    },
    "evaluation": {
        "feasible": True,
        "violations": [],
        "cost": 8.8511,
        "distance_m": 8851.1,
        "duration_s": 1396.6,
    },
}

ALLOCATION_REQUEST: dict[str, Any] = {
    "plan_date": "2026-11-26",
    "sites": [
        {"id": "wh-sp", "location": [-46.63, -23.55]},
        {"id": "store-rio", "kind": "store", "location": [-43.2, -22.9]},
    ],
    "stock": [
        {"site_id": "wh-sp", "sku": "A", "on_hand": 10},
        {"site_id": "store-rio", "sku": "A", "on_hand": 2},
        {"site_id": "store-rio", "sku": "B", "on_hand": 5},
    ],
    "orders": [
        {
            "id": "o-1",
            "location": [-43.18, -22.95],
            "lines": [{"id": 1, "sku": "A", "quantity": 3}, {"id": 2, "sku": "B", "quantity": 1}],
        },
        {"id": "o-2", "location": [-46.6, -23.5], "lines": [{"id": 1, "sku": "A", "quantity": 1}]},
        {"id": "o-3", "location": [-46.6, -23.5], "lines": [{"id": 1, "sku": "C", "quantity": 1}]},
    ],
    "options": {"time_limit_s": 2},
}

ALLOCATION_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "two_sites": {
        "summary": "Three orders, a warehouse and a store; one order asks for an unknown sku",
        "value": ALLOCATION_REQUEST,
    }
}

ALLOCATION_RESULT: dict[str, Any] = {
    "shipments": [
        {
            "order_id": "o-1",
            "site_id": "store-rio",
            "lines": [
                {"line_id": 1, "sku": "A", "quantity": 2},
                {"line_id": 2, "sku": "B", "quantity": 1},
            ],
            "distance_km": 5.93,
            "cost": {
                "fixed": 8.0,
                "distance": 0.12,
                "units": 3.0,
                "handling": 0.0,
                "lateness": 0.0,
                "split": 2.0,
            },
            "cost_total": 13.12,
            "promised_date": None,
            "expected_date": "2026-11-27",
            "days_late": 0,
        }
    ],
    "unfulfilled": [
        {
            "order_id": "o-3",
            "line_id": 1,
            "sku": "C",
            "quantity": 1,
            "reason": "invalid_order",
            "detail": "line 1: unknown sku 'C'",
            "penalty": 0.0,
        }
    ],
    "site_loads": [
        {
            "site_id": "store-rio",
            "orders": 1,
            "units": 3,
            "capacity_orders": None,
            "capacity_units": None,
        }
    ],
    "totals": {
        "orders": 3,
        "orders_allocated": 2,
        "orders_partial": 0,
        "orders_unfulfilled": 1,
        "lines": 4,
        "units_requested": 6,
        "units_shipped": 5,
        "shipments": 3,
        "splits": 1,
        "shipping_cost": 38.42,
        "unfulfilled_penalty": 0.0,
        "objective": 38.42,
    },
    "stats": {
        "method": "mip",
        "backend": "highs",
        "status": "optimal",
        "objective": 38.42,
        "gap": 0.0,
        "solve_time_s": 0.12,
    },
}

JOB_SUBMISSION_EXAMPLES: dict[str, dict[str, Any]] = {
    "routes": {
        "summary": "Plan routes in the background",
        "value": {"kind": "routes", "request": {**ROUTES_REQUEST, "options": {"time_limit_s": 30}}},
    },
    "allocation": {
        "summary": "Allocate orders in the background",
        "value": {"kind": "allocation", "request": ALLOCATION_REQUEST},
    },
}

JOB_VIEW: dict[str, Any] = {
    "id": "0b7c3f9e-5d7a-4a52-9a1e-2f1c7d8e9a10",
    "kind": "routes",
    "status": "running",
    "progress": 0.4,
    "best_cost": 8.85,
    "attempts": 1,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:12Z",
    "started_at": "2026-11-26T08:00:00Z",
    "finished_at": None,
    "error": None,
    "links": {
        "self": "/v1/jobs/0b7c3f9e-5d7a-4a52-9a1e-2f1c7d8e9a10",
        "result": "/v1/jobs/0b7c3f9e-5d7a-4a52-9a1e-2f1c7d8e9a10/result",
    },
}

VROOM_PROBLEM_EXAMPLES: dict[str, dict[str, Any]] = {
    "matrix": {
        "summary": "VROOM's example 2: a custom duration matrix",
        "value": {
            "vehicles": [{"id": 0, "start_index": 0, "end_index": 3}],
            "jobs": [{"id": 1414, "location_index": 1}, {"id": 1515, "location_index": 2}],
            "matrices": {
                "car": {
                    "durations": [
                        [0, 2104, 197, 1299],
                        [2103, 0, 2255, 3152],
                        [197, 2256, 0, 1102],
                        [1299, 3153, 1102, 0],
                    ]
                }
            },
        },
    },
    "coordinates": {
        "summary": "[lon, lat] locations (haversine travel times), capacities and skills",
        "value": {
            "vehicles": [
                {
                    "id": 1,
                    "start": [2.35044, 48.71764],
                    "end": [2.35044, 48.71764],
                    "capacity": [4],
                    "skills": [1, 14],
                    "time_window": [28800, 43200],
                }
            ],
            "jobs": [
                {"id": 1, "service": 300, "delivery": [1], "location": [1.98935, 48.701]},
                {"id": 2, "service": 300, "pickup": [1], "location": [2.03655, 48.61128]},
                {
                    "id": 5,
                    "service": 300,
                    "delivery": [1],
                    "location": [2.28325, 48.5958],
                    "skills": [14],
                },
            ],
            "options": {"l": 1},
        },
    },
}

VROOM_SOLUTION: dict[str, Any] = {
    "code": 0,
    "summary": {
        "cost": 5461,
        "routes": 1,
        "unassigned": 0,
        "setup": 0,
        "service": 0,
        "duration": 5461,
        "waiting_time": 0,
        "priority": 0,
        "violations": [],
        "computing_times": {"loading": 0, "solving": 1000, "routing": 0},
    },
    "unassigned": [],
    "routes": [
        {
            "vehicle": 0,
            "cost": 5461,
            "setup": 0,
            "service": 0,
            "duration": 5461,
            "waiting_time": 0,
            "priority": 0,
            "steps": [
                {"type": "start", "location_index": 0, "arrival": 0, "duration": 0},
                {"type": "job", "id": 1414, "location_index": 1, "arrival": 2104, "duration": 2104},
                {"type": "job", "id": 1515, "location_index": 2, "arrival": 4359, "duration": 4359},
                {"type": "end", "location_index": 3, "arrival": 5461, "duration": 5461},
            ],
            "violations": [],
        }
    ],
    "evaluation": {"feasible": True, "violations": [], "cost": 5461.0},
    "status": "complete",
}

HEALTH: dict[str, Any] = {
    "status": "ok",
    "version": "0.1.0",
    "database": "ok",
    "jobs": {"queued": 0, "running": 1, "succeeded": 12, "failed": 0, "cancelled": 1},
}


def json_example(example: Any) -> dict[str, Any]:
    """A ``responses=`` content entry with one JSON example."""
    return {"content": {"application/json": {"example": example}}}


_HERE = Path(__file__).parent
#: A small day: a Porto warehouse with a van, a Lisbon warehouse, three orders.
PLAN_REQUEST: dict[str, Any] = json.loads((_HERE / "example_plan_request.json").read_text())
#: Its plan, as the engine answered it (van deliveries with ETAs, one by carrier).
PLAN_RESULT: dict[str, Any] = json.loads((_HERE / "example_plan_result.json").read_text())
PLAN_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "porto_day": {
        "summary": "Two warehouses, one van, three orders (one far away, by carrier)",
        "value": PLAN_REQUEST,
    }
}
JOB_SUBMISSION_EXAMPLES["plan"] = {
    "summary": "Plan a whole day in the background",
    "value": {"kind": "plan", "request": PLAN_REQUEST},
}


def _without_evaluation(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "evaluation"}


def _broken_result() -> dict[str, Any]:
    """ROUTES_RESULT with order-3 taken out of its route and listed nowhere."""
    result = json.loads(json.dumps(_without_evaluation(ROUTES_RESULT)))
    route = result["routes"][0]
    route["steps"] = [s for s in route["steps"] if s.get("id") != "order-3"]
    return result


CHECK_BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    "feasible": {
        "summary": "A plan that holds (answers feasible: true)",
        "value": {"request": ROUTES_REQUEST, "result": _without_evaluation(ROUTES_RESULT)},
    },
    "missing_stop": {
        "summary": "A plan with a stop left out and not listed as unassigned",
        "value": {"request": ROUTES_REQUEST, "result": _broken_result()},
    },
}
#: The verdict on the feasible example.
CHECK_VERDICT: dict[str, Any] = ROUTES_RESULT["evaluation"]
