"""The order book under concurrent calls to a real server (uvicorn on 127.0.0.1, a free
port), on a SQLite file and on a fresh PostgreSQL database: no unit reserved twice, no
order captured twice, and the ledger balances afterwards."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.load import LoadServer
from engine.book.store import BookStore

#: Concurrent clients, and the units of stock they compete for.
CLIENTS = 50
UNITS = 20
SKU = "kettle"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for the server: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'book.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LoadServer]:
    """A started server on ``database_url``, with no API keys, stopped at the end."""
    work = tmp_path / "server"
    work.mkdir()
    started = LoadServer(database_url, work, env={"ROUTEPLAN_API_KEYS": ""})
    started.start()
    try:
        yield started
    finally:
        started.stop()


def _all_at_once(
    count: int, call: Callable[[int, httpx.Client], httpx.Response], url: str
) -> list[Any]:
    """Run ``call(i, client)`` in ``count`` threads, each with its own client, released together
    by a barrier; each thread's (status, body)."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait(timeout=60)
            try:
                response = call(i, client)
                answers[i] = (response.status_code, response.json())
            except Exception as error:  # a broken connection is an answer too
                answers[i] = (None, repr(error))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client did not finish"
    return answers


def _order(order_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": [-8.61, 41.15],
        "lines": [{"id": "1", "sku": SKU, "quantity": 1}],
        "payment_status": "authorised",
    }
    if order_id is not None:
        body["id"] = order_id
    return body


def _all_orders(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/v1/orders", params={"limit": 500})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    orders: list[dict[str, Any]] = page["orders"]
    return orders


def _stock(client: httpx.Client) -> dict[str, int]:
    response = client.get("/v1/stock", params={"site_id": "wh-1", "sku": SKU})
    assert response.status_code == 200, response.text
    (level,) = response.json()["levels"]
    return {k: level[k] for k in ("on_hand", "reserved", "safety_stock", "available")}


def test_concurrent_reservations_never_oversell(server: LoadServer, database_url: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.put("/v1/sites/wh-1", json={"location": [-8.63, 41.18]}).status_code == 201
        receipt = {"site_id": "wh-1", "sku": SKU, "quantity": UNITS, "kind": "receipt"}
        assert client.post("/v1/stock/movements", json=receipt).status_code == 201
        for i in range(CLIENTS):
            captured = client.post("/v1/orders", json=_order(f"o-{i}"))
            assert captured.status_code == 201, captured.text
            assert captured.json()["status"] == "ready", captured.json()

    def reserve(i: int, client: httpx.Client) -> httpx.Response:
        want = {
            "order_id": f"o-{i}",
            "line_id": "1",
            "site_id": "wh-1",
            "sku": SKU,
            "quantity": 1,
        }
        return client.post("/v1/reservations", json=want)

    answers = _all_at_once(CLIENTS, reserve, server.url)
    statuses = Counter(status for status, _ in answers)
    assert not [a for a in answers if a[0] is None or a[0] >= 500], answers
    assert statuses[201] == UNITS, statuses

    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert _stock(client) == {
            "on_hand": UNITS,
            "reserved": UNITS,
            "safety_stock": 0,
            "available": 0,
        }
        reserved = [o["id"] for o in _all_orders(client) if o["lines"][0]["reserved"] == 1]
        winners = [f"o-{i}" for i, (status, _) in enumerate(answers) if status == 201]
        assert sorted(reserved) == sorted(winners)
    book = BookStore(database_url)
    try:
        assert book.ledger_mismatches() == []
    finally:
        book.close()

    refused = [body for status, body in answers if status != 201]
    assert statuses[409] == CLIENTS - UNITS, (statuses, refused[:3])
    assert {body["code"] for body in refused} == {"insufficient_stock"}


def test_concurrent_captures_store_each_order_once(server: LoadServer, database_url: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.put("/v1/sites/wh-1", json={"location": [-8.63, 41.18]}).status_code == 201
        receipt = {"site_id": "wh-1", "sku": SKU, "quantity": UNITS, "kind": "receipt"}
        assert client.post("/v1/stock/movements", json=receipt).status_code == 201

    def capture(i: int, client: httpx.Client) -> httpx.Response:
        if i % 2 == 0:  # 20 distinct keys, each its own order
            return client.post(
                "/v1/orders", json=_order(None), headers={"Idempotency-Key": f"k-{i}"}
            )
        return client.post("/v1/orders", json=_order(None), headers={"Idempotency-Key": "shared"})

    answers = _all_at_once(40, capture, server.url)
    assert not [a for a in answers if a[0] is None or a[0] >= 500], answers
    distinct = [answers[i] for i in range(0, 40, 2)]
    replays = [answers[i] for i in range(1, 40, 2)]
    assert [status for status, _ in distinct] == [201] * 20
    assert sorted(status for status, _ in replays) == [200] * 19 + [201]
    assert len({body["id"] for _, body in replays}) == 1

    with httpx.Client(base_url=server.url, timeout=30) as client:
        stored = _all_orders(client)
    assert len(stored) == 21
    ids = {o["id"] for o in stored}
    assert ids == {body["id"] for _, body in answers}
    book = BookStore(database_url)
    try:
        assert book.ledger_mismatches() == []
    finally:
        book.close()
