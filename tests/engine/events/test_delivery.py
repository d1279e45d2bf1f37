"""The delivery worker: the retry schedule, giving up after the last try, exclusive claims
by two workers, and a lapsed claim coming back. Receivers here are httpx mock transports
(the HTTP tests in tests/api/http/test_webhooks.py use a real local server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading

import httpx
import pytest
from sqlalchemy import create_engine

from engine.events.delivery import DeliverySettings, DeliveryWorker, backoff_s
from engine.events.outbox import emit_many
from engine.events.store import EventStore
from models.events import WebhookIn
from models.status import EventType

SECRET = "whsec-0123456789abcdef"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _hook(store: EventStore, url: str = "http://receiver.test/h") -> str:
    hook = WebhookIn.model_validate({"url": url, "events": ["*"], "secret": SECRET})
    return store.create_webhook(hook).id


def _emit(url: str, count: int, at: dt.datetime = T0) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            items = [(EventType.ORDER_CREATED, {"order_id": f"o-{i}"}) for i in range(count)]
            return emit_many(conn, items, at)
    finally:
        engine.dispose()


def test_the_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [backoff_s(n, 1.0, 300.0) for n in range(1, 11)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0,
    ]  # fmt: skip
    assert backoff_s(3, 0.5, 1.5) == 1.5


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="poll_s"):
        DeliverySettings(poll_s=0)
    with pytest.raises(ValueError, match="max_attempts"):
        DeliverySettings(max_attempts=0)


def test_a_failing_receiver_is_tried_on_schedule_then_given_up(url: str, store: EventStore) -> None:
    hook = _hook(store)
    [event_id] = _emit(url, 1)
    settings = DeliverySettings(max_attempts=3, backoff_base_s=10.0, backoff_max_s=15.0)
    failures = [0]

    def answer(request: httpx.Request) -> httpx.Response:
        failures[0] += 1
        return httpx.Response(503)

    now = T0
    for attempt, wait_s in [(1, 10.0), (2, 15.0)]:
        [claim] = store.claim(now, 10, settings.lease_s)
        assert (claim.event_id, claim.attempt) == (event_id, attempt)
        status = store.settle(
            claim,
            http_status=503,
            error="HTTP 503",
            duration_ms=3,
            now=now,
            max_attempts=settings.max_attempts,
            backoff_s=lambda n: backoff_s(n, settings.backoff_base_s, settings.backoff_max_s),
        )
        assert status == "failed"
        assert store.claim(now + dt.timedelta(seconds=wait_s - 0.5), 10, 30.0) == []
        now += dt.timedelta(seconds=wait_s)
    worker = DeliveryWorker(store, settings, transport=httpx.MockTransport(answer))
    try:
        assert worker.run_once(now) == 1  # the third and last try
        assert worker.run_once(now + dt.timedelta(days=1)) == 0  # dead: never again
    finally:
        worker.stop()
    [delivery] = store.deliveries(hook).deliveries
    assert delivery.status == "dead" and delivery.attempt == 3
    assert [a.http_status for a in delivery.attempts] == [503, 503, 503]
    assert [a.attempt for a in delivery.attempts] == [1, 2, 3]
    assert failures == [1]


def test_a_delivery_is_signed_and_its_id_is_kept_across_tries(url: str, store: EventStore) -> None:
    hook = _hook(store)
    [event_id] = _emit(url, 1)
    seen: list[tuple[str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        header = request.headers["Routeplan-Signature"]
        stamp, mac = (part.split("=", 1)[1] for part in header.split(","))
        signed = f"{stamp}.".encode() + request.content
        assert hmac.compare_digest(
            mac, hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        )
        seen.append((request.headers["Routeplan-Event-Id"], request.content))
        return httpx.Response(500 if len(seen) == 1 else 204)

    settings = DeliverySettings(backoff_base_s=1.0)
    worker = DeliveryWorker(store, settings, transport=httpx.MockTransport(answer))
    try:
        assert worker.run_once() == 1
        assert worker.run_once(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)) == 1
    finally:
        worker.stop()
    assert [ident for ident, _ in seen] == [event_id, event_id]
    assert seen[0][1] == seen[1][1]  # the same body
    assert b'"id":"' + event_id.encode() + b'"' in seen[0][1]
    [delivery] = store.deliveries(hook).deliveries
    assert delivery.status == "delivered" and delivery.http_status == 204
    assert [a.http_status for a in delivery.attempts] == [500, 204]


def test_a_connection_error_is_a_failed_try(url: str, store: EventStore) -> None:
    hook = _hook(store)
    _emit(url, 1)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    worker = DeliveryWorker(store, transport=httpx.MockTransport(refuse))
    try:
        worker.run_once()
    finally:
        worker.stop()
    [delivery] = store.deliveries(hook).deliveries
    assert delivery.status == "failed" and delivery.http_status is None
    assert delivery.error is not None and "ConnectError" in delivery.error


def test_two_workers_never_claim_the_same_delivery(url: str, store: EventStore) -> None:
    _hook(store)
    _hook(store, "http://other.test/h")
    _emit(url, 30)  # 60 deliveries
    other = EventStore(url)
    claimed: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def work(which: int, worker_store: EventStore) -> None:
        barrier.wait()
        while batch := worker_store.claim(T0, 4, 60.0):
            claimed[which].extend(claim.delivery_id for claim in batch)

    threads = [
        threading.Thread(target=work, args=(0, store)),
        threading.Thread(target=work, args=(1, other)),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        other.close()
    everything = claimed[0] + claimed[1]
    assert len(everything) == 60 and len(set(everything)) == 60


def test_a_lapsed_claim_comes_back_to_another_worker(url: str, store: EventStore) -> None:
    """A worker that died mid-try leaves its delivery; it is claimed again after the lease,
    as the next try, and the first worker's late answer does not overwrite it."""
    hook = _hook(store)
    _emit(url, 1)
    [first] = store.claim(T0, 10, 30.0)
    assert store.claim(T0 + dt.timedelta(seconds=29), 10, 30.0) == []
    [again] = store.claim(T0 + dt.timedelta(seconds=31), 10, 30.0)
    assert (first.delivery_id, first.attempt, again.attempt) == (again.delivery_id, 1, 2)
    late = store.settle(
        first, http_status=500, error="late", duration_ms=1, now=T0, max_attempts=8,
        backoff_s=lambda n: 1.0,
    )  # fmt: skip
    assert late == "pending"  # the row is the second claim's now
    assert store.settle(
        again, http_status=200, error=None, duration_ms=1, now=T0, max_attempts=8,
        backoff_s=lambda n: 1.0,
    ) == "delivered"  # fmt: skip
    [delivery] = store.deliveries(hook).deliveries
    assert delivery.status == "delivered" and delivery.attempt == 2


def test_a_disabled_webhook_gets_nothing_more(url: str, store: EventStore) -> None:
    hook = _hook(store)
    _emit(url, 2)
    store.disable_webhook(hook)
    assert store.claim(T0, 10, 30.0) == []
    assert {d.status for d in store.deliveries(hook).deliveries} == {"dead"}
    _emit(url, 1)
    assert len(store.deliveries(hook).deliveries) == 2
