"""Admission to the synchronous solves: a few slots, and a bounded line of requests waiting.

Waiting for a slot never holds a worker thread. A request waits on an asyncio future in the
event loop; only once it holds a slot does its handler run in one of anyio's worker threads
(FastAPI runs sync handlers there). So the threads are only ever taken by the solves that
run (``max_sync_solves``) and by cheap calls such as ``/v1/health``, and anyio's default
limit of 40 threads is never reached by waiting requests (no need to raise it).

When ``max_waiting`` requests already wait, the next one is refused at once
(:class:`WaitingLineFullError`); one that waits longer than its timeout gives up
(``acquire_async`` returns False). Both become 429 ``busy`` in ``api/http/deps.py``.

The slots are thread-safe: ``acquire``/``release`` may also be called from a thread other
than the event loop's (tests hold a slot that way), and a freed slot is handed straight to
the first waiter, so a late arrival never overtakes the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from models.errors import ErrorCode


class WaitingLineFullError(Exception):
    """Every slot is taken and the waiting line is full: refuse at once."""


@dataclass(eq=False)
class _Waiter:
    """One request in the line; ``granted`` is only read or written under the lock."""

    event: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    granted: bool = field(default=False)

    def wake(self) -> None:
        """Tell the waiter it now holds a slot (from any thread)."""
        if self.event is not None:
            self.event.set()
        elif self.loop is not None and self.future is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class SolveSlots:
    """``capacity`` solves at once; at most ``max_waiting`` requests wait for one, in order,
    each for up to ``wait_s`` seconds."""

    def __init__(self, capacity: int, max_waiting: int, wait_s: float) -> None:
        self.capacity = max(capacity, 1)
        self.max_waiting = max(max_waiting, 0)
        self.wait_s = max(wait_s, 0.0)
        self._free = self.capacity
        self._waiters: deque[_Waiter] = deque()
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        """Slots taken now."""
        with self._lock:
            return self.capacity - self._free

    @property
    def waiting(self) -> int:
        """Requests in the waiting line now."""
        with self._lock:
            return len(self._waiters)

    def _enter(self, waiter: _Waiter) -> bool:
        """Take a free slot (True), or join the line (False); WaitingLineFullError when full."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            if len(self._waiters) >= self.max_waiting:
                raise WaitingLineFullError
            self._waiters.append(waiter)
            return False

    def _leave(self, waiter: _Waiter) -> bool:
        """After waiting: True when the slot was handed over, else leave the line."""
        with self._lock:
            if waiter.granted:
                return True
            self._waiters.remove(waiter)
            return False

    async def acquire_async(self, timeout_s: float | None = None) -> bool:
        """Wait in the event loop (no thread) for up to ``timeout_s`` (default ``wait_s``):
        True holding a slot, False after the timeout. WaitingLineFullError at once when full."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop=loop, future=loop.create_future())
        if self._enter(waiter):
            return True
        assert waiter.future is not None
        try:
            wait_s = self.wait_s if timeout_s is None else max(timeout_s, 0.0)
            await asyncio.wait_for(waiter.future, timeout=wait_s)
        except TimeoutError:
            return self._leave(waiter)
        except BaseException:  # cancelled (the client went away): give the slot back
            if self._leave(waiter):
                self.release()
            raise
        return self._leave(waiter)

    def acquire(self, timeout: float | None = None) -> bool:
        """Blocking acquire for a caller outside the event loop (``threading`` style)."""
        waiter = _Waiter(event=threading.Event())
        if self._enter(waiter):
            return True
        assert waiter.event is not None
        waiter.event.wait(timeout)
        return self._leave(waiter)

    def release(self) -> None:
        """Free a slot: hand it to the first waiter, or put it back."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True
            else:
                if self._free >= self.capacity:
                    raise ValueError("released more solve slots than were acquired")
                self._free += 1
                return
        waiter.wake()


#: The paths (under the API prefix) of the synchronous solves that take a slot.
SYNC_PATHS = frozenset({"/routes", "/routes/check", "/plans", "/allocations", "/vroom"})


class EarlyBusyMiddleware:
    """429 ``busy`` for a synchronous solve while every slot is taken and the line is full,
    before its body is read or parsed: a refusal then costs the server next to nothing."""

    def __init__(self, app: ASGIApp, slots: SolveSlots, prefix: str) -> None:
        self.app = app
        self.slots = slots
        self.paths = {prefix + p for p in SYNC_PATHS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") in self.paths
            and self.slots.running >= self.slots.capacity
            and self.slots.waiting >= self.slots.max_waiting
        ):
            from api.http.errors import error_json

            response = error_json(
                429,
                ErrorCode.BUSY,
                f"{self.slots.capacity} synchronous solves are running and "
                f"{self.slots.max_waiting} wait; retry, or submit a job (POST /v1/jobs)",
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
