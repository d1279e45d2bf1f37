"""A TCP proxy for fault tests: forwards to a database, refuses, or accepts and never answers.

``FaultProxy(host, port)`` listens on 127.0.0.1 (a free port) in a thread. Its ``mode``:

- ``forward``: every byte goes both ways (the database is up);
- ``refuse``: every open connection is closed, and new ones are closed at once (down);
- ``blackhole``: open connections stay open but nothing gets through, and new connections
  are accepted and never answered (the database hangs).

Setting ``forward`` or ``refuse`` closes every open connection, so that a connection never
carries a half-dropped conversation into the next mode.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Callable
from typing import Any, Literal, Self, TypeVar

import pytest

from tests.postgres import postgres_url

Mode = Literal["forward", "refuse", "blackhole"]
T = TypeVar("T")


class FaultProxy:
    """A proxy in front of ``upstream_host:upstream_port`` whose ``mode`` tests switch."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._mode: Mode = "forward"
        self._generation = 0  # bumped when open connections must close
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        #: How many connections clients opened so far (in every mode).
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def mode(self) -> Mode:
        """What the proxy does now."""
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        with self._lock:
            if mode != "blackhole":
                self._generation += 1
            self._mode = mode

    def url(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by the proxy's."""
        head, _, tail = database_url.partition("@")
        _hostport, slash, database = tail.partition("/")
        return f"{head}@127.0.0.1:{self.port}{slash}{database}"

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self.mode = "refuse"
        self._stopped.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode, generation = self._mode, self._generation
                self.accepted += 1
            if mode == "refuse":
                client.close()
                continue
            upstream = None
            if mode == "forward":
                try:
                    upstream = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
            threading.Thread(
                target=self._pump, args=(client, upstream, generation), daemon=True
            ).start()

    def _pump(self, client: socket.socket, upstream: socket.socket | None, generation: int) -> None:
        """Carry bytes between the two sockets while the mode allows it."""
        sockets = [client] if upstream is None else [client, upstream]
        try:
            while not self._stopped.is_set() and self._generation == generation:
                readable, _, _ = select.select(sockets, [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    other = upstream if sock is client else client
                    if self._mode == "forward" and other is not None:
                        other.sendall(data)
                    # blackhole: the bytes are dropped, nothing answers
        except OSError:
            return
        finally:
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.close()


def postgres_or_fail() -> str:
    """The test PostgreSQL URL; skips without one, but fails when ``CI=true``."""
    try:
        return postgres_url()
    except pytest.skip.Exception as skipped:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true but no PostgreSQL server answers: {skipped}")
        raise


def ends_within(seconds: float, call: Callable[[], T]) -> T:
    """``call()`` in a thread; fails the test if it has not ended after ``seconds`` (a hang,
    not a speed check: the bound is several times the timeouts involved)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} still waits after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
