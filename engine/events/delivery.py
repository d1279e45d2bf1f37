"""The delivery worker: a thread that POSTs the outbox's events to their webhooks.

Every ``poll_s`` it claims the due deliveries (:meth:`EventStore.claim`: exclusive across
workers and servers), POSTs each event's body ``{id, type, created_at, data}`` with its
signature (:mod:`engine.events.signing`) and settles the try: a 2xx answer is
``delivered``; a timeout, a connection error or any other status is a failed try, tried
again after :func:`backoff_s` (``backoff_base_s`` doubling, at most ``backoff_max_s``),
until ``max_attempts`` tries, then ``dead``. The event's id is the same on every try.
Requests that cause events never wait for this: they only write rows
(:mod:`engine.events.outbox`); all state is in the database, so a restarted server carries
on where the last one stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from engine.events.signing import HEADER, sign
from engine.events.store import Claim, EventStore, now_utc

_log = logging.getLogger(__name__)
#: The longest error text kept for one try.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class DeliverySettings:
    """How the worker polls, waits and retries (the server's settings pass them in)."""

    poll_s: float = 0.5
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    timeout_s: float = 5.0
    batch: int = 20

    def __post_init__(self) -> None:
        for name in ("poll_s", "backoff_base_s", "backoff_max_s", "timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be above 0, not {getattr(self, name)!r}")
        if self.max_attempts < 1 or self.batch < 1:
            raise ValueError("max_attempts and batch must be at least 1")

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery stays with its worker (a dead worker's come back)."""
        return 2 * self.timeout_s + 5.0


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after failed try number ``attempt`` (1, 2, ...): ``base_s``, doubling
    with each try, at most ``max_s``."""
    return float(min(max_s, base_s * 2.0 ** (attempt - 1)))


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class DeliveryWorker:
    """Delivers the outbox's events to webhooks from one thread (:meth:`start`, :meth:`stop`),
    or one round at a time (:meth:`run_once`)."""

    def __init__(
        self,
        store: EventStore,
        settings: DeliverySettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or DeliverySettings()
        self._client = httpx.Client(
            timeout=self.settings.timeout_s, follow_redirects=False, transport=transport
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker's thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="routeplan-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a try in flight ends within the timeout) and close the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout_s + 5.0)
            self._thread = None
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:  # the database is away, say: try again next round
                _log.exception("webhook delivery round failed")
                busy = False
            if not busy:
                self._stop.wait(self.settings.poll_s)

    def run_once(self, now: datetime | None = None) -> int:
        """Claim the due deliveries and try each once; how many were tried."""
        s = self.settings
        claims = self.store.claim(now or now_utc(), s.batch, s.lease_s)
        for claim in claims:
            if self._stop.is_set():
                break  # the rest come back when their lease ends
            self.deliver(claim)
        return len(claims)

    def deliver(self, claim: Claim) -> str:
        """POST one claimed delivery and settle the try; the delivery's status afterwards."""
        s = self.settings
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "routeplan-webhooks",
            HEADER: sign(claim.secret, timestamp, claim.body),
            "Routeplan-Event-Id": claim.event_id,
            "Routeplan-Event-Type": claim.event_type,
            "Routeplan-Attempt": str(claim.attempt),
        }
        started = time.monotonic()
        http_status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(claim.url, content=claim.body, headers=headers)
            http_status = response.status_code
            if not 200 <= http_status < 300:
                error = f"the receiver answered HTTP {http_status}"
        except httpx.TimeoutException:
            error = f"no answer within {s.timeout_s:g} s"
        except Exception as failure:  # a refused connection, a bad address, TLS...
            error = _short(f"{type(failure).__name__}: {failure}")
        duration_ms = round((time.monotonic() - started) * 1000)
        return self.store.settle(
            claim,
            http_status=http_status,
            error=error,
            duration_ms=duration_ms,
            now=now_utc(),
            max_attempts=s.max_attempts,
            backoff_s=lambda attempt: backoff_s(attempt, s.backoff_base_s, s.backoff_max_s),
        )
