"""``GET /v1/plans``: stored plans newest first with their state and KPIs, filtered by status,
a page at a time; bad filters are 422; a read key may list; the store's summaries on
PostgreSQL too."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from api.http.book_examples import PLAN_PAGE
from api.http.examples import PLAN_REQUEST, PLAN_RESULT
from engine.book import tables as t
from engine.book.store import BookStore
from models.book import PlanPage
from models.plan import PlanResult
from tests.api.conftest import MakeClient
from tests.api.payloads import assert_error_shape

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _result(cost: float) -> PlanResult:
    """The example plan with its total cost set to ``cost`` (to tell the plans apart)."""
    body: dict[str, Any] = copy.deepcopy(PLAN_RESULT)
    body["kpis"]["cost"] = cost
    return PlanResult.model_validate(body)


def _store_plans(store: BookStore, costs: list[float]) -> list[str]:
    """Store one plan per cost, made one minute apart in that order; their ids."""
    ids = []
    for k, cost in enumerate(costs):
        plan_id = store.save_plan("request", PLAN_REQUEST, _result(cost)).id
        with store.engine.begin() as conn:
            conn.execute(
                update(t.plans)
                .where(t.plans.c.id == plan_id)
                .values(created_at=T0 + timedelta(minutes=k))
            )
        ids.append(plan_id)
    return ids


def _set_status(store: BookStore, plan_id: str, status: str) -> None:
    """Give a stored plan another state (as a commit or a re-plan would)."""
    with store.engine.begin() as conn:
        conn.execute(update(t.plans).where(t.plans.c.id == plan_id).values(status=status))


def test_plans_are_listed_newest_first_with_their_kpis(client: TestClient) -> None:
    ids = _store_plans(client.app.state.book, [1.0, 2.0, 3.0])  # type: ignore[attr-defined]
    response = client.get("/v1/plans")
    assert response.status_code == 200, response.text
    page = response.json()
    assert [p["id"] for p in page["plans"]] == ids[::-1]
    assert [p["kpis"]["cost"] for p in page["plans"]] == [3.0, 2.0, 1.0]
    assert page["next_cursor"] is None
    first = page["plans"][0]
    assert first["status"] == "draft" and first["source"] == "request"
    assert first["plan_date"] == PLAN_REQUEST["plan_date"]
    assert first["created_at"].startswith("2026-11-27T08:02:00")
    assert first["committed_at"] is None
    expected = {k: v for k, v in PLAN_RESULT["kpis"].items() if k != "cost"}
    assert {k: v for k, v in first["kpis"].items() if k != "cost"} == expected


def test_status_filters_the_plans(client: TestClient) -> None:
    store: BookStore = client.app.state.book  # type: ignore[attr-defined]
    ids = _store_plans(store, [1.0, 2.0, 3.0])
    _set_status(store, ids[1], "superseded")
    superseded = client.get("/v1/plans", params={"status": "superseded"}).json()["plans"]
    assert [p["id"] for p in superseded] == [ids[1]]
    assert superseded[0]["status"] == "superseded"
    drafts = client.get("/v1/plans", params={"status": "draft"}).json()["plans"]
    assert [p["id"] for p in drafts] == [ids[2], ids[0]]
    assert client.get("/v1/plans", params={"status": "committed"}).json()["plans"] == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(client: TestClient) -> None:
    ids = _store_plans(client.app.state.book, [1.0, 2.0, 3.0, 4.0, 5.0])  # type: ignore[attr-defined]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/v1/plans", params=params).json()
        assert len(page["plans"]) <= 2
        seen.extend(p["id"] for p in page["plans"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == ids[::-1]


def test_bad_filters_are_422_naming_the_field(client: TestClient) -> None:
    for params, field in [
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ]:
        response = client.get("/v1/plans", params=params)
        assert response.status_code == 422, (params, response.text)
        body = response.json()
        assert_error_shape(body)
        assert any(field in d["field"] for d in body["details"]), body


def test_a_read_key_lists_plans_and_no_key_is_401(make_client: MakeClient) -> None:
    client = make_client(api_keys="viewer:read:viewer-secret-0123456789")
    assert client.get("/v1/plans").status_code == 401
    answer = client.get("/v1/plans", headers={"Authorization": "Bearer viewer-secret-0123456789"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"plans": [], "next_cursor": None}


def test_the_openapi_example_is_a_plan_page() -> None:
    page = PlanPage.model_validate(PLAN_PAGE)
    assert page.plans[0].kpis.vehicles_used == 1


def test_summaries_on_postgresql(fresh_pg_url: str) -> None:
    store = BookStore(fresh_pg_url)
    try:
        ids = _store_plans(store, [7.0, 8.0])
        _set_status(store, ids[0], "committed")
        rows, next_cursor = store.plan_summaries(None, None, 1)
        assert [r["id"] for r in rows] == [ids[1]] and next_cursor == "1"
        rows, next_cursor = store.plan_summaries(None, next_cursor, 1)
        assert [r["id"] for r in rows] == [ids[0]] and next_cursor is None
        assert rows[0]["kpis"]["cost"] == 7.0 and rows[0]["status"] == "committed"
        assert rows[0]["created_at"] == T0
        committed, _ = store.plan_summaries("committed", None, 10)
        assert [r["id"] for r in committed] == [ids[0]]
    finally:
        store.close()
