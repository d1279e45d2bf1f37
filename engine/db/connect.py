"""The database engine of the stores, with every wait bounded.

A database that refuses connections fails fast; one that accepts them and never answers
must not hang a caller forever. So:

- **connecting** is bounded by psycopg's ``connect_timeout`` (libpq's floor is 2 s) and
  waiting for a pooled connection by the pool's ``pool_timeout``;
- **each statement** is bounded on the server by ``statement_timeout``;
- **a server that stops answering** is caught on the client: every checked-out PostgreSQL
  connection is watched, and one held longer than the statement timeout plus a grace second
  has its socket shut down by :class:`Watchdog`, which makes the waiting call fail with a
  disconnect at once (the pool then drops the connection). The ping that replaces the
  pool's pre-ping runs inside that watch too, so a hung pooled connection cannot hang a
  checkout either. TCP keepalives catch a peer that vanished without a word.

SQLite waits at most the statement timeout for a lock (its busy timeout), and is put in WAL
mode (readers never wait for the writer).
"""

from __future__ import annotations

import contextlib
import heapq
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from models.errors import StoreUnavailableError

#: Seconds a connection may stay checked out beyond the statement timeout before it is cut.
GRACE_S = 1.0


def _shut(fd: int) -> None:
    """Shut the socket behind ``fd`` down (both ways), leaving the descriptor to its owner."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


class Watchdog:
    """Shuts down the sockets of connections held past their deadline, from one thread."""

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, int]] = {}  # key -> (deadline, fd)
        self._heap: list[tuple[float, int]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, key: int, fd: int, seconds: float) -> None:
        """Cut ``fd`` in ``seconds`` unless :meth:`disarm` is called for ``key`` first."""
        deadline = time.monotonic() + seconds
        with self._wake:
            self._armed[key] = (deadline, fd)
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="routeplan-db-watchdog", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def disarm(self, key: int) -> None:
        """The connection ``key`` was given back (or closed) in time."""
        with self._wake:
            self._armed.pop(key, None)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    deadline, key = heapq.heappop(self._heap)
                    armed = self._armed.get(key)
                    if armed is not None and armed[0] == deadline:
                        del self._armed[key]
                        _shut(armed[1])  # under the lock: the fd cannot be closed meanwhile
                if not self._armed:
                    self._heap.clear()
                    if not self._wake.wait(60):
                        self._thread = None
                        return
                    continue
                self._wake.wait(self._heap[0][0] - now if self._heap else None)


def _sqlite_engine(url: str, busy_timeout_s: float) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        try:
            _write_ahead_log(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return engine


def _write_ahead_log(cursor: Any, busy_timeout_s: float) -> None:
    """Put the database in WAL mode, unless it is already. Two connections switching a new
    file at once make SQLite answer "locked" at once to one of them (it would deadlock, so
    the busy timeout does not apply): that one tries again until the busy timeout."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _server_engine(url: str, connect_timeout_s: float, statement_timeout_s: float) -> Engine:
    connect_args: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(2, math.ceil(connect_timeout_s)),
            "options": f"-c statement_timeout={round(statement_timeout_s * 1000)}",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        }
    engine = create_engine(url, connect_args=connect_args, pool_timeout=connect_timeout_s)
    watchdog = Watchdog()
    hold_s = statement_timeout_s + GRACE_S

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def _watch_and_ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        try:
            fd = dbapi_connection.fileno()
        except Exception as error:  # closed already: the pool connects anew
            raise DisconnectionError() from error
        watchdog.arm(id(record), fd, hold_s)
        if record.info.pop("fresh", False):
            return  # just connected: no need to ask
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool drops it and connects anew
            watchdog.disarm(id(record))
            raise DisconnectionError() from error

    def _release(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        watchdog.disarm(id(record))

    for name in ("checkin", "invalidate", "soft_invalidate", "close", "detach"):
        event.listen(engine, name, _release)
    return engine


def make_engine(url: str, *, connect_timeout_s: float, statement_timeout_s: float) -> Engine:
    """A SQLAlchemy engine for the job store at ``url`` whose every wait is bounded."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, statement_timeout_s)
    return _server_engine(url, connect_timeout_s, statement_timeout_s)


def aware(value: datetime | None) -> datetime | None:
    """A time read back from the database, in UTC (SQLite hands back naive datetimes: they
    were stored in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def report_unreachable(engine: Engine, message: str | None = None) -> Engine:
    """Make ``engine`` raise :class:`StoreUnavailableError` (with ``message``) for a database
    that cannot be reached (cannot connect, connection lost, locked): the store is
    unavailable, not broken. Pre-pings are left alone: the pool reconnects on its own."""

    def unavailable(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return
        if isinstance(context.sqlalchemy_exception, OperationalError | InterfaceError):
            error = StoreUnavailableError(message) if message else StoreUnavailableError()
            raise error from context.original_exception

    event.listen(engine, "handle_error", unavailable)
    return engine


class Breaker:
    """Fails calls at once for ``retry_s`` after the database was unreachable, then lets one
    call at a time try again until one gets through."""

    def __init__(self, retry_s: float, what: str = "the database") -> None:
        self.retry_s = retry_s
        self.what = what
        self._down_until: float | None = None  # None: the database answered last time
        self._probe = threading.Lock()

    def enter(self) -> bool:
        """Whether this call holds the probe (release it with :meth:`leave`); raises
        :class:`StoreUnavailableError` while the database is known to be down."""
        down_until = self._down_until
        if down_until is None:
            return False
        if time.monotonic() >= down_until and self._probe.acquire(blocking=False):
            return True
        raise StoreUnavailableError(f"{self.what} could not be reached a moment ago; retry later")

    def leave(self, probe: bool, reached: bool) -> None:
        """Record whether the call reached the database."""
        if reached:
            self._down_until = None
        else:
            self._down_until = time.monotonic() + self.retry_s
        if probe:
            self._probe.release()


class Entry:
    """How one store's calls enter its database: fail at once while the :class:`Breaker`
    says it is down, run ``prepare`` (the migrations, on first contact), and turn every
    failure to reach it into :class:`StoreUnavailableError` with ``unavailable``. A call
    made inside another call of the same store (same thread) passes straight through."""

    def __init__(self, breaker: Breaker, prepare: Callable[[], None], unavailable: str) -> None:
        self.breaker = breaker
        self.prepare = prepare
        self.unavailable = unavailable
        self._local = threading.local()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        """Hold the way in for one call."""
        if getattr(self._local, "inside", False):
            yield
            return
        probe = self.breaker.enter()
        self._local.inside = True
        reached = False
        try:
            self.prepare()
            yield
            reached = True
        except StoreUnavailableError:
            raise
        except (PoolTimeoutError, DisconnectionError) as error:
            raise StoreUnavailableError(self.unavailable) from error
        except Exception:
            reached = True  # the database answered; the call itself failed
            raise
        finally:
            self._local.inside = False
            self.breaker.leave(probe, reached)


def stamp(value: datetime) -> datetime:
    """A timestamp column that is never null, read back in UTC."""
    stamped = aware(value)
    assert stamped is not None
    return stamped


def immediate_writes(engine: Engine) -> Engine:
    """On SQLite, make every transaction of ``engine`` take the write lock when it begins
    (``BEGIN IMMEDIATE``), so that two writers never both read and then both write; other
    databases are left as they are."""
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _no_implicit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def store_engines(
    url: str, *, connect_timeout_s: float, statement_timeout_s: float, unavailable: str
) -> tuple[Engine, Engine]:
    """A store's engines ``(reads, writes)``, each reporting an unreachable database as
    :class:`StoreUnavailableError` with ``unavailable``. On SQLite the writes have an engine
    of their own whose transactions take the write lock when they begin
    (:func:`immediate_writes`), so that readers never take it; elsewhere both are one."""
    timeouts = {"connect_timeout_s": connect_timeout_s, "statement_timeout_s": statement_timeout_s}
    reads = report_unreachable(make_engine(url, **timeouts), unavailable)
    if reads.dialect.name != "sqlite":
        return reads, reads
    writes = report_unreachable(immediate_writes(make_engine(url, **timeouts)), unavailable)
    return reads, writes
