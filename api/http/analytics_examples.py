"""OpenAPI examples of the analytics endpoints: each JSON one parses as its model and each
CSV one is the same table (tests/api/http/test_analytics.py checks both)."""

from __future__ import annotations

from typing import Any

_PLAN = "c2a7e0d4-91b3-4c5e-a6f8-0d2e4b6a8c10"
_ROUTE = "7c1e9a34-2b5d-4f60-8e1a-3d9b2c4f5a61"

ORDERS_REPORT: dict[str, Any] = {
    "from_date": "2026-12-01",
    "to_date": "2026-12-02",
    "site_id": None,
    "channel": None,
    "total": 5,
    "rows": [
        {"date": "2026-12-01", "site_id": "wh-1", "channel": "web", "orders": 3},
        {"date": "2026-12-02", "site_id": "unplanned", "channel": "web", "orders": 2},
    ],
    "per_day": [{"date": "2026-12-01", "orders": 3}, {"date": "2026-12-02", "orders": 2}],
}
ORDERS_CSV = "date,site_id,channel,orders\n2026-12-01,wh-1,web,3\n2026-12-02,unplanned,web,2\n"

PLANS_REPORT: dict[str, Any] = {
    "from_date": None,
    "to_date": None,
    "plans": [
        {
            "plan_id": _PLAN,
            "status": "committed",
            "source": "book",
            "plan_date": "2026-12-02",
            "committed_at": "2026-12-01T17:00:00Z",
            "orders": 3,
            "shipments": 3,
            "cost": 42.5,
            "cost_per_order": 14.166666666666666,
            "routing_cost": 30.0,
            "van_stops": 2,
            "routing_cost_per_stop": 15.0,
            "on_time_share": 1.0,
            "vehicles_used": 1,
            "distance_m": 18250.0,
        }
    ],
    "committed_orders": 3,
    "committed_cost": 42.5,
    "cost_per_order": 14.166666666666666,
}
PLANS_CSV = (
    "plan_id,status,source,plan_date,committed_at,orders,shipments,cost,cost_per_order,"
    "routing_cost,van_stops,routing_cost_per_stop,on_time_share,vehicles_used,distance_m\n"
    f"{_PLAN},committed,book,2026-12-02,2026-12-01T17:00:00Z,3,3,42.5,14.166666666666666,"
    "30.0,2,15.0,1.0,1,18250.0\n"
)

_STOP: dict[str, Any] = {
    "route_id": _ROUTE,
    "plan_id": _PLAN,
    "site_id": "wh-1",
    "vehicle_id": "van-1",
    "day": "2026-12-02",
    "position": 1,
    "stop_id": "o-1@wh-1",
    "status": "delivered",
    "window_start_s": 32400.0,
    "window_end_s": 39600.0,
    "planned_start_s": 32400.0,
    "actual_s": 33000.0,
    "actual_at": "2026-12-02T09:10:00Z",
    "lateness_s": 600.0,
    "on_time": True,
}
_LATENESS: dict[str, Any] = {
    "stops_done": 1,
    "delivered": 1,
    "failed": 0,
    "mean_lateness_s": 600.0,
    "p90_lateness_s": 600.0,
    "on_time_share": 1.0,
}
ROUTES_REPORT: dict[str, Any] = {
    "from_date": "2026-12-02",
    "to_date": "2026-12-02",
    "overall": _LATENESS,
    "routes": [
        {
            "route_id": _ROUTE,
            "plan_id": _PLAN,
            "site_id": "wh-1",
            "vehicle_id": "van-1",
            "status": "completed",
            "day": "2026-12-02",
            "stops_planned": 1,
            **_LATENESS,
        }
    ],
    "stops": [_STOP],
}
ROUTES_CSV = (
    "route_id,plan_id,site_id,vehicle_id,status,day,stops_planned,stops_done,delivered,failed,"
    "mean_lateness_s,p90_lateness_s,on_time_share\n"
    f"{_ROUTE},{_PLAN},wh-1,van-1,completed,2026-12-02,1,1,1,0,600.0,600.0,1.0\n"
)

_DAYS = ["2026-12-03", "2026-12-04"]
FORECAST_REPORT: dict[str, Any] = {
    "history_from": "2026-11-05",
    "history_to": "2026-12-02",
    "horizon_days": 2,
    "season_days": 7,
    "interval_level": 0.8,
    "total": None,
    "sites": [
        {
            "site_id": "wh-1",
            "model": "ets_weekly",
            "fallback_reason": None,
            "history": [{"date": "2026-12-02", "orders": 12}],
            "forecast": [
                {"date": _DAYS[0], "orders": 11.6, "lower": 9.2, "upper": 14.0},
                {"date": _DAYS[1], "orders": 18.9, "lower": 16.4, "upper": 21.4},
            ],
            "backtest": {
                "mae": 1.5,
                "smape": 0.1,
                "baseline_mae": 2.0,
                "baseline_smape": 0.14,
                "origins": [
                    {
                        "cutoff": "2026-11-25",
                        "model": "ets_weekly",
                        "mae": 1.5,
                        "smape": 0.1,
                        "baseline_mae": 2.0,
                        "baseline_smape": 0.14,
                        "days": [
                            {"date": "2026-11-26", "actual": 12, "forecast": 11.0, "baseline": 10},
                            {"date": "2026-11-27", "actual": 18, "forecast": 20.0, "baseline": 21},
                        ],
                    }
                ],
            },
        }
    ],
}
FORECAST_CSV = (
    "site_id,date,orders,lower,upper,model\n"
    f"wh-1,{_DAYS[0]},11.6,9.2,14.0,ets_weekly\nwh-1,{_DAYS[1]},18.9,16.4,21.4,ets_weekly\n"
)


def content(example: dict[str, Any], csv_example: str) -> dict[str, Any]:
    """A 200 ``responses=`` entry: the JSON example, and the CSV of ``format=csv``."""
    return {
        "description": "the report; with format=csv one of its tables as CSV",
        "content": {
            "application/json": {"example": example},
            "text/csv": {"schema": {"type": "string"}, "example": csv_example},
        },
    }
