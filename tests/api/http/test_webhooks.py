"""Webhooks over HTTP, delivered to a real receiver on 127.0.0.1 that checks every signature
with its own HMAC code: every event of a capture-pay-plan-commit day arrives exactly once;
a receiver that fails twice still gets each event, with the same id, and the tries are
logged; pending deliveries survive a restart; the outbox is read as pages and as a stream
of server-sent events from a real server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.http import event_examples as ex
from api.http.app import create_app
from api.settings import Settings
from models.events import DeliveryList, EventPage, Webhook, WebhookIn, WebhookList
from tests.api.conftest import MakeClient
from tests.api.http.test_book_plans import book_plan, capture_and_pay, stock_up

SECRET = "receiver-secret-0123456789"
#: Quick retries, so that a test sees several tries in a second or two.
FAST = {
    "webhook_poll_s": 0.05,
    "webhook_backoff_base_s": 0.05,
    "webhook_backoff_max_s": 0.2,
    "webhook_timeout_s": 2.0,
}
#: Longest wait for deliveries to arrive (a deadline for waiting, never a timed assertion).
WAIT_S = 30.0


class Receiver:
    """A webhook receiver: checks each signature with its own HMAC, records what it got, and
    answers 500 to the first ``fail_first`` tries of each event."""

    def __init__(self, fail_first: int = 0, port: int = 0, listen: bool = True) -> None:
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.tries: Counter[str] = Counter()  # event id -> tries seen
        self.accepted: list[dict[str, Any]] = []  # bodies answered 200, in order
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.receive(self.headers.get("Routeplan-Signature", ""), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.handler = Handler
        self.server: ThreadingHTTPServer | None = None
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hooks"
        if listen:
            self.listen()

    def listen(self) -> None:
        """Start answering (on ``port``, or a free one when it is 0)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def receive(self, header: str, body: bytes) -> int:
        """Check the signature, count the try, and say what to answer."""
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        stamp = parts.get("t", "")
        mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        if not stamp.isdigit() or not hmac.compare_digest(mac.hexdigest(), parts.get("v1", "")):
            with self.lock:
                self.bad_signatures += 1
            return 401
        event = json.loads(body)
        with self.lock:
            self.tries[event["id"]] += 1
            if self.tries[event["id"]] <= self.fail_first:
                return 500
            self.accepted.append(event)
        return 200

    def accepted_ids(self) -> list[str]:
        with self.lock:
            return [event["id"] for event in self.accepted]

    def wait_for(self, ids: set[str]) -> None:
        """Wait until every event of ``ids`` was accepted (at most :data:`WAIT_S`)."""
        deadline = time.monotonic() + WAIT_S
        while not ids <= set(self.accepted_ids()) and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.close()


@pytest.fixture
def flaky_receiver() -> Iterator[Receiver]:
    got = Receiver(fail_first=2)
    yield got
    got.close()


def subscribe(client: TestClient, url: str, events: list[str] | None = None) -> str:
    body = {"url": url, "events": events or ["*"], "secret": SECRET}
    made = client.post("/v1/webhooks", json=body)
    assert made.status_code == 201, made.text
    assert "secret" not in made.json()
    return str(made.json()["id"])


def all_events(client: TestClient) -> list[dict[str, Any]]:
    """The whole outbox, a page of 2 at a time (so that paging is used)."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 2}).json()
        found.extend(page["events"])
        if not page["events"]:
            return found
        after = page["next_after"]


def test_every_event_of_a_day_arrives_exactly_once(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = make_client(**FAST)
    hook = subscribe(client, receiver.url)
    stock_up(client, {"kettle": 10, "toaster": 10})
    capture_and_pay(client, ["o-1", "o-2", "o-3"])
    plan = book_plan(client)
    committed = client.post(f"/v1/plans/{plan['id']}/commit")
    assert committed.status_code == 200, committed.text
    outbox = all_events(client)
    receiver.wait_for({event["id"] for event in outbox})
    assert receiver.bad_signatures == 0
    assert sorted(receiver.accepted_ids()) == sorted(event["id"] for event in outbox)
    assert set(receiver.tries.values()) == {1}  # exactly once each
    kinds = Counter(event["type"] for event in outbox)
    # Per order: received, on_hold, created, ready (payment), allocated (commit); one commit.
    assert kinds == {"order.status_changed": 12, "order.created": 3, "plan.committed": 1}
    [commit_event] = [event for event in receiver.accepted if event["type"] == "plan.committed"]
    assert commit_event["data"]["plan_id"] == plan["id"]
    assert commit_event["data"]["orders"] == 3
    assert commit_event["data"]["units"] == 2 + 1 + 1 + 2  # the units of ORDERS
    for event in receiver.accepted:
        assert set(event) == {"id", "type", "created_at", "data"}
    deliveries = DeliveryList.model_validate(client.get(f"/v1/webhooks/{hook}/deliveries").json())
    assert {d.status for d in deliveries.deliveries} == {"delivered"}


def test_a_receiver_failing_twice_still_gets_each_event_with_the_same_id(
    make_client: MakeClient, flaky_receiver: Receiver
) -> None:
    client = make_client(**FAST)
    hook = subscribe(client, flaky_receiver.url, ["order.created"])
    stock_up(client, {"kettle": 10})
    capture_and_pay(client, ["o-1"])
    outbox = all_events(client)
    [created] = [event for event in outbox if event["type"] == "order.created"]
    flaky_receiver.wait_for({created["id"]})
    assert flaky_receiver.accepted_ids() == [created["id"]]
    assert flaky_receiver.tries == {created["id"]: 3}
    assert flaky_receiver.accepted[0]["data"]["order_id"] == "o-1"
    body = client.get(f"/v1/webhooks/{hook}/deliveries")
    assert body.status_code == 200
    [delivery] = DeliveryList.model_validate(body.json()).deliveries
    assert delivery.event_id == created["id"] and delivery.status == "delivered"
    assert delivery.attempt == 3
    assert [(a.attempt, a.http_status) for a in delivery.attempts] == [
        (1, 500),
        (2, 500),
        (3, 200),
    ]


def test_a_webhook_url_must_be_http(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False)
    for url in ("ftp://127.0.0.1/hooks", "file:///etc/passwd", "http:///nohost"):
        answer = client.post("/v1/webhooks", json={"url": url, "events": ["*"], "secret": SECRET})
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["details"][0]["field"] == "url"
    short = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1/h", "events": ["*"], "secret": "short"}
    )
    assert short.status_code == 422 and short.json()["details"][0]["field"] == "secret"
    unknown = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1/h", "events": ["nope"], "secret": SECRET}
    )
    assert unknown.status_code == 422
    assert unknown.json()["details"][0]["field"].startswith("events")


def test_webhooks_are_listed_read_back_and_disabled(make_client: MakeClient) -> None:
    client = make_client(run_jobs=False)
    hook = subscribe(client, "https://shop.example.com/h", ["plan.committed"])
    listed = WebhookList.model_validate(client.get("/v1/webhooks").json())
    assert [w.id for w in listed.webhooks] == [hook]
    one = Webhook.model_validate(client.get(f"/v1/webhooks/{hook}").json())
    assert one.url == "https://shop.example.com/h" and one.events == ["plan.committed"]
    gone = client.delete(f"/v1/webhooks/{hook}")
    assert gone.status_code == 200 and gone.json()["disabled_at"] is not None
    assert client.get("/v1/webhooks/no-such-hook").status_code == 404
    assert client.delete("/v1/webhooks/no-such-hook").status_code == 404
    assert client.get("/v1/webhooks/no-such-hook/deliveries").status_code == 404


def test_webhooks_need_an_admin_and_events_a_reader(make_client: MakeClient) -> None:
    client = make_client(
        run_jobs=False,
        api_keys="boss:admin:admin-secret-0123456789,dash:read:read-secret-0123456789",
    )
    reader = {"X-API-Key": "read-secret-0123456789"}
    assert client.get("/v1/webhooks", headers=reader).status_code == 403
    assert client.get("/v1/events", headers=reader).status_code == 200
    admin = {"X-API-Key": "admin-secret-0123456789"}
    assert client.get("/v1/webhooks", headers=admin).status_code == 200


def _app(tmp_path: Path, run_jobs: bool) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}", api_keys="", **FAST)
    return TestClient(create_app(settings, run_jobs=run_jobs), raise_server_exceptions=False)


def test_pending_deliveries_survive_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    with _app(tmp_path, run_jobs=False) as first:  # accepts work, delivers nothing
        subscribe(first, receiver.url)
        stock_up(first, {"kettle": 10})
        capture_and_pay(first, ["o-1"])
        outbox = all_events(first)
    assert receiver.accepted_ids() == []
    with _app(tmp_path, run_jobs=True) as second:
        receiver.wait_for({event["id"] for event in outbox})
        assert sorted(receiver.accepted_ids()) == sorted(event["id"] for event in outbox)
        assert len(outbox) == 4  # received, on_hold, created, ready
        assert second.get("/v1/events", params={"after": 0}).json()["events"] == outbox


def test_the_examples_parse_as_their_models() -> None:
    WebhookIn.model_validate(ex.WEBHOOK_IN)
    for example in ex.WEBHOOK_IN_EXAMPLES.values():
        WebhookIn.model_validate(example["value"])
    Webhook.model_validate(ex.WEBHOOK)
    Webhook.model_validate(ex.DISABLED_WEBHOOK)
    WebhookList.model_validate(ex.WEBHOOK_LIST)
    DeliveryList.model_validate(ex.DELIVERY_LIST)
    EventPage.model_validate(ex.EVENT_PAGE)
    frame = dict(line.split(": ", 1) for line in ex.STREAM_EXAMPLE.strip().splitlines())
    assert json.loads(frame["data"]) == ex.EVENT and frame["id"] == ex.EVENT["id"]


# ---------------------------------------------------------------------- server-sent events


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}", api_keys="")
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, run_jobs=False), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(WAIT_S)


def _read_frames(lines: Iterator[str], count: int) -> list[dict[str, str]]:
    """The next ``count`` event frames of a stream (comment lines skipped)."""
    frames: list[dict[str, str]] = []
    frame: dict[str, str] = {}
    for line in lines:
        if line == "":
            if frame:
                frames.append(frame)
                frame = {}
            if len(frames) == count:
                break
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value
    return frames


def _order(index: int) -> dict[str, Any]:
    return {
        "id": f"sse-{index}",
        "channel": "web",
        "location": [-8.6, 41.1],
        "lines": [{"id": "1", "sku": "mug", "quantity": 1}],
    }


def test_the_stream_sends_new_events_and_resumes_after_the_last_seen(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=10.0) as http:
        with http.stream("GET", "/v1/events/stream", params={"timeout_s": 20}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines).startswith(":")  # the stream is open: now capture
            assert http.post("/v1/orders", json=_order(1)).status_code == 201
            frames = _read_frames(lines, 3)
        assert [f["event"] for f in frames] == [
            "order.status_changed",
            "order.status_changed",
            "order.created",
        ]
        events = [json.loads(f["data"]) for f in frames]
        assert [f["id"] for f in frames] == [event["id"] for event in events]
        assert events[2]["data"]["order_id"] == "sse-1"
        assert http.post("/v1/orders", json=_order(2)).status_code == 201
        resumed = http.get(
            "/v1/events/stream",
            params={"timeout_s": 1},
            headers={"Last-Event-ID": frames[1]["id"]},
        )
        assert resumed.status_code == 200
        again = _read_frames(iter(resumed.text.split("\n")), 4)
        assert again[0]["id"] == frames[2]["id"]
        assert [json.loads(f["data"])["data"]["order_id"] for f in again] == [
            "sse-1",
            "sse-2",
            "sse-2",
            "sse-2",
        ]
        unknown = http.get("/v1/events/stream", headers={"Last-Event-ID": "no-such-event"})
        assert unknown.status_code == 404
        assert unknown.json()["details"][0]["field"] == "Last-Event-ID"
