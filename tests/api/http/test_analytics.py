"""The analytics endpoints over HTTP: JSON and CSV tables (parsed back), 422s naming the
field, 404 for an unknown site, and the OpenAPI examples against their models."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http import analytics_examples as ex
from models.analytics import (
    ForecastReport,
    OrdersReport,
    PlanAnalytics,
    PlansReport,
    RouteOutcome,
    RoutesReport,
    StopOutcome,
)
from tests.engine.analytics.conftest import FIRST, LAST, PATTERN, place_weeks


def _csv(response: Any) -> list[dict[str, str]]:
    """The rows of a CSV answer, checked to be one."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _capture(client: TestClient, order_id: str, channel: str, placed_at: str) -> None:
    """Capture a one-line order placed at ``placed_at``."""
    response = client.post(
        "/v1/orders",
        json={
            "id": order_id,
            "channel": channel,
            "location": [4.91, 52.36],
            "lines": [{"id": "1", "sku": "kettle", "quantity": 1}],
            "placed_at": placed_at,
        },
    )
    assert response.status_code == 201, response.text


def test_orders_per_day_as_json_and_as_csv(client: TestClient) -> None:
    _capture(client, "a", "web", "2026-12-01T09:00:00Z")
    _capture(client, "b", "web", "2026-12-02T00:30:00Z")
    _capture(client, "c", "phone", "2026-12-03T23:59:00Z")
    query = "/v1/analytics/orders?from=2026-12-01&to=2026-12-03"
    body = client.get(query).json()
    assert [(d["date"], d["orders"]) for d in body["per_day"]] == [
        ("2026-12-01", 1),
        ("2026-12-02", 1),
        ("2026-12-03", 1),
    ]
    rows = _csv(client.get(query + "&format=csv"))
    assert rows == [
        {"date": "2026-12-01", "site_id": "unplanned", "channel": "web", "orders": "1"},
        {"date": "2026-12-02", "site_id": "unplanned", "channel": "web", "orders": "1"},
        {"date": "2026-12-03", "site_id": "unplanned", "channel": "phone", "orders": "1"},
    ]
    per_day = _csv(client.get(query + "&format=csv&table=per_day&channel=web"))
    assert [(r["date"], r["orders"]) for r in per_day] == [
        ("2026-12-01", "1"),
        ("2026-12-02", "1"),
        ("2026-12-03", "0"),
    ]
    assert client.get(query + "&site_id=unplanned").json()["total"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("orders?from=2026-12-03&to=2026-12-01", "from"),
        ("orders?from=2026-13-01", "from"),
        ("orders?to=0001-01-01", "to"),
        ("orders?to=0", "to"),  # a number is no day
        ("orders?from=2020-01-01&to=2026-01-01", "to"),
        ("orders?format=xml", "format"),
        ("plans?from=2026-12-03&to=2026-12-01", "from"),
        ("routes?to=yesterday", "to"),
        ("forecast?horizon_days=0", "horizon_days"),
        ("forecast?horizon_days=29", "horizon_days"),
        ("forecast?history_days=13", "history_days"),
        ("forecast?to=9999-12-31", "to"),
        ("forecast", "history"),  # an empty book
    ],
)
def test_bad_input_is_a_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/v1/analytics/{query}")
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == field


def test_an_unknown_site_is_a_404(client: TestClient) -> None:
    for path in ("orders", "forecast"):
        response = client.get(f"/v1/analytics/{path}?site_id=nowhere")
        assert response.status_code == 404, response.text
        assert response.json()["details"][0]["field"] == "site_id"


def test_an_empty_book_has_empty_plan_and_route_tables(client: TestClient) -> None:
    assert client.get("/v1/analytics/plans").json()["plans"] == []
    assert client.get("/v1/analytics/routes").json()["overall"]["stops_done"] == 0
    header = client.get("/v1/analytics/plans?format=csv").text.splitlines()
    assert header == [",".join(PlanAnalytics.model_fields)]
    stops = client.get("/v1/analytics/routes?format=csv&table=stops").text.splitlines()
    assert stops == [",".join(StopOutcome.model_fields)]


def test_the_forecast_of_eight_weeks(client: TestClient) -> None:
    place_weeks(client.app.state.book)  # type: ignore[attr-defined]
    query = f"/v1/analytics/forecast?to={LAST}&history_days=56"
    body = client.get(query).json()
    report = ForecastReport.model_validate(body)
    assert report.history_from == FIRST and report.history_to == LAST
    assert report.total is not None and [s.site_id for s in report.sites] == ["unplanned"]
    assert [d.orders for d in report.total.history] == [PATTERN[k % 7] for k in range(56)]
    assert len(report.total.forecast) == 7 and len(report.total.backtest.origins) == 4
    rows = _csv(client.get(query + "&format=csv"))
    assert len(rows) == 14 and {r["site_id"] for r in rows} == {"", "unplanned"}
    first = rows[0]
    assert float(first["lower"]) <= float(first["orders"]) <= float(first["upper"])
    backtest = _csv(client.get(query + "&format=csv&table=backtest&site_id=unplanned"))
    assert len(backtest) == 28
    days = {(r["date"], r["actual"]) for r in backtest}
    by_day = {d.date.isoformat(): d.orders for d in report.total.history}
    assert all(by_day[day] == int(actual) for day, actual in days)


def test_the_examples_are_their_models_and_tables() -> None:
    OrdersReport.model_validate(ex.ORDERS_REPORT)
    PlansReport.model_validate(ex.PLANS_REPORT)
    RoutesReport.model_validate(ex.ROUTES_REPORT)
    ForecastReport.model_validate(ex.FORECAST_REPORT)
    assert ex.PLANS_CSV.splitlines()[0].split(",") == list(PlanAnalytics.model_fields)
    assert set(ex.ROUTES_CSV.splitlines()[0].split(",")) == set(RouteOutcome.model_fields)


def test_the_csv_examples_have_the_headers_answered(client: TestClient) -> None:
    for path, example in (
        ("plans?format=csv", ex.PLANS_CSV),
        ("routes?format=csv", ex.ROUTES_CSV),
        ("orders?format=csv", ex.ORDERS_CSV),
    ):
        answered = client.get(f"/v1/analytics/{path}").text.splitlines()
        assert answered == example.splitlines()[:1], path


def test_the_spec_documents_csv_and_the_error_shape(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for name in ("orders", "plans", "routes", "forecast"):
        op = paths[f"/v1/analytics/{name}"]["get"]
        assert "text/csv" in op["responses"]["200"]["content"]
        assert "422" in op["responses"] and "404" in op["responses"]
