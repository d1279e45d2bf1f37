"""The job store when its database fails: refused, hung, slow, locked, then back.

PostgreSQL is reached through :class:`tests.db_proxy.FaultProxy`, which forwards, refuses or
swallows the traffic (accepts and never answers). Every call must end, with
:class:`StoreUnavailableError`, within a bound a few times the store's timeouts; the store
comes back by itself; a runner keeps its jobs through an outage. Without PostgreSQL these
tests skip, and fail when ``CI=true``.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.db.schema import JOBS
from engine.jobs import JobRecord, JobRunner, JobStore
from models.errors import StoreUnavailableError
from models.jobs import JobStatus
from tests.db_proxy import FaultProxy, ends_within, postgres_or_fail
from tests.postgres import fresh_postgres_url

#: Short timeouts, so that a hang shows quickly (libpq connects for at least 2 s).
CONNECT_TIMEOUT_S, STATEMENT_TIMEOUT_S = 2.0, 1.0
#: A call that takes longer than this hangs: connect (2 s) + a cut statement (2 s), twice.
BOUND_S = 12.0

KINDS = {"sleepy": "tests.engine.jobs.job_kinds:sleepy"}


@pytest.fixture
def proxy() -> Iterator[tuple[FaultProxy, str, str]]:
    """A proxy in front of the test PostgreSQL, the URL of a fresh database (dropped
    afterwards) through the proxy, and the same URL without it."""
    postgres_or_fail()
    with fresh_postgres_url() as url:
        parsed = make_url(url)
        with FaultProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as opened:
            yield opened, opened.url(url), url


def _open(url: str, retry_s: float = 0.0, lazy: bool = False) -> JobStore:
    """A store with the short timeouts."""
    return JobStore(
        url,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        statement_timeout_s=STATEMENT_TIMEOUT_S,
        retry_s=retry_s,
        lazy=lazy,
    )


def _record(store: JobStore, job_id: str) -> JobRecord:
    record = store.get(job_id)
    assert record is not None
    return record


def _fails_unavailable(call: Callable[[], Any]) -> None:
    with pytest.raises(StoreUnavailableError):
        ends_within(BOUND_S, call)


def _calls(store: JobStore, job_id: str) -> dict[str, Callable[[], Any]]:
    """One call of each kind the server and the runner make."""
    return {
        "get": lambda: store.get(job_id),
        "status": lambda: store.status(job_id),
        "counts": store.counts,
        "submit": lambda: store.submit("routes", {"n": 2}, max_queued=10, created_by="k"),
        "claim": lambda: store.claim("w"),
        "heartbeat": lambda: store.heartbeat(job_id, "w", 0.5, 1.0),
        "finish": lambda: store.finish(job_id, "w", {"x": 1}, 1.0),
        "cancel": lambda: store.cancel(job_id),
        "recover": lambda: store.recover(30, 3),
    }


def test_a_refusing_database_fails_every_call_and_the_store_comes_back(
    proxy: tuple[FaultProxy, str, str],
) -> None:
    fault, url, _direct = proxy
    fault.mode = "refuse"
    _fails_unavailable(lambda: _open(url))
    store = _open(url, retry_s=0.0, lazy=True)
    try:
        for name, call in _calls(store, str(uuid.uuid4())).items():
            with pytest.raises(StoreUnavailableError):
                ends_within(BOUND_S, call)
            assert name  # every kind of call, one after the other
        assert ends_within(BOUND_S, store.ping) is False
        fault.mode = "forward"
        job = ends_within(BOUND_S, lambda: store.submit("routes", {"n": 1}))  # migrates
        assert _record(store, job.id).status is JobStatus.QUEUED
        fault.mode = "refuse"  # down again: the pooled connections are gone with it
        _fails_unavailable(lambda: store.get(job.id))
        fault.mode = "forward"
        assert ends_within(BOUND_S, lambda: _record(store, job.id)).id == job.id
    finally:
        store.close()


def test_a_hung_database_fails_every_call_within_its_timeout(
    proxy: tuple[FaultProxy, str, str],
) -> None:
    fault, url, _direct = proxy
    store = _open(url, retry_s=0.0)
    try:
        job = store.submit("routes", {"n": 1})
        fault.mode = "blackhole"  # the pooled connection stays open and goes silent
        for call in _calls(store, job.id).values():
            _fails_unavailable(call)
        assert ends_within(BOUND_S, store.ping) is False
        _fails_unavailable(lambda: _open(url))
        fault.mode = "forward"
        assert ends_within(BOUND_S, lambda: _record(store, job.id)).id == job.id
    finally:
        store.close()


def test_a_statement_slower_than_the_timeout_is_cancelled(
    proxy: tuple[FaultProxy, str, str],
) -> None:
    _fault, url, direct = proxy
    store = _open(url, retry_s=0.0)
    job = store.submit("routes", {"n": 1})
    blocker = create_engine(direct)
    try:
        with blocker.begin() as conn:  # holds the job's row lock past the statement timeout
            conn.execute(
                text(f"SELECT id FROM {JOBS.name} WHERE id = :id FOR UPDATE"), {"id": job.id}
            )
            _fails_unavailable(lambda: store.cancel(job.id))
        assert _record(store, job.id).status is JobStatus.QUEUED  # the cancel did not apply
    finally:
        blocker.dispose()
        store.close()


def test_after_a_failure_calls_fail_at_once_for_the_retry_time(
    proxy: tuple[FaultProxy, str, str],
) -> None:
    fault, url, _direct = proxy
    store = _open(url, retry_s=60.0)
    try:
        fault.mode = "refuse"
        _fails_unavailable(store.counts)
        tried = fault.accepted
        for _ in range(5):
            _fails_unavailable(store.counts)
        assert fault.accepted == tried  # the database was not asked again
    finally:
        store.close()


def test_a_locked_sqlite_database_fails_after_its_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    store = JobStore(f"sqlite:///{path}", statement_timeout_s=0.5, retry_s=0.0)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        _fails_unavailable(lambda: store.submit("routes", {"n": 1}))
        holder.execute("ROLLBACK")
        assert store.submit("routes", {"n": 1}).status is JobStatus.QUEUED
    finally:
        holder.close()
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_older_table_gains_created_by_and_submit_records_it(
    backend: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'jobs.db'}"
            if backend == "sqlite"
            else stack.enter_context(fresh_postgres_url())
        )
        legacy = create_engine(url)
        with legacy.begin() as conn:  # the old shape: every column but created_by
            columns = ", ".join(
                f"{column.name} {column.type.compile(legacy.dialect)}"
                for column in JOBS.columns
                if column.name != "created_by"
            )
            conn.execute(text(f"CREATE TABLE {JOBS.name} ({columns})"))
        legacy.dispose()
        first = _open(url)
        stack.callback(first.close)
        second = _open(url)  # a second server: the column is there
        stack.callback(second.close)
        anonymous = first.submit("routes", {"n": 1})
        owned = second.submit("routes", {"n": 2}, created_by="dashboard")
        assert _record(first, anonymous.id).created_by is None
        assert _record(first, owned.id).created_by == "dashboard"


def _wait_until_finished(store: JobStore, job_id: str, timeout_s: float = 60) -> None:
    """Poll the job until it ends (answers of a store still coming back are skipped)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = ends_within(BOUND_S, lambda: store.status(job_id))
        except StoreUnavailableError:
            status = None
        if status is not None and status.finished:
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {store.get(job_id)}")


def test_a_runner_keeps_its_job_through_an_outage(proxy: tuple[FaultProxy, str, str]) -> None:
    fault, url, _direct = proxy
    store = _open(url, retry_s=0.2)
    runner = JobRunner(store, kinds=KINDS, lease_s=2.0, poll_s=0.05)
    runner.start()
    try:
        running = store.submit("sleepy", {"seconds": 3})
        waiting = store.submit("sleepy", {"seconds": 0.1})
        runner.wake()
        deadline = time.monotonic() + 30
        while _record(store, running.id).status is not JobStatus.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        fault.mode = "refuse"
        time.sleep(4.0)  # longer than the lease: the heartbeats were held up, not lost
        fault.mode = "forward"
        for job_id in (running.id, waiting.id):
            _wait_until_finished(store, job_id)
        done = _record(store, running.id)
        assert done.status is JobStatus.SUCCEEDED and (done.result or {}).get("slept_s") == 3
        assert done.attempts == 1  # not started again by a recovery
        assert _record(store, waiting.id).status is JobStatus.SUCCEEDED
    finally:
        runner.stop()
        store.close()
