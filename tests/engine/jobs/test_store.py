"""The job store on SQLite (always) and on the PostgreSQL server (when one answers)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.jobs import JobStore
from models.errors import QueueFullError, StoreUnavailableError
from models.jobs import JobStatus
from tests.postgres import fresh_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """A store on a fresh database of its own (a SQLite file, or a PostgreSQL database
    dropped afterwards)."""
    with ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'jobs.db'}"
            if request.param == "sqlite"
            else stack.enter_context(fresh_postgres_url())
        )
        opened = JobStore(url)
        stack.callback(opened.close)
        yield opened


def _age_heartbeat(store: JobStore, job_id: str, seconds: float) -> None:
    t = store.table
    with store.engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == job_id)
            .values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


def test_submitted_jobs_are_claimed_oldest_first_and_once(store: JobStore) -> None:
    first = store.submit("routes", {"n": 1})
    second = store.submit("routes", {"n": 2, "nested": {"x": [1, 2]}})
    assert store.get(first.id).status is JobStatus.QUEUED
    claimed = store.claim("a")
    assert claimed is not None and claimed.id == first.id
    assert claimed.status is JobStatus.RUNNING and claimed.attempts == 1 and claimed.owner == "a"
    again = store.claim("b")
    assert again is not None and again.id == second.id
    assert again.request == {"n": 2, "nested": {"x": [1, 2]}}
    assert store.claim("c") is None


def test_concurrent_claims_never_take_the_same_job(store: JobStore) -> None:
    ids = {store.submit("routes", {"n": n}).id for n in range(6)}
    taken: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (job := store.claim(name)) is not None:
            with lock:
                taken.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(ids)


def test_only_the_owner_can_beat_and_finish(store: JobStore) -> None:
    job = store.submit("routes", {})
    store.claim("owner")
    assert not store.heartbeat(job.id, "intruder", 0.5, 10.0)
    assert store.heartbeat(job.id, "owner", 0.5, 10.0)
    assert (store.get(job.id).progress, store.get(job.id).best_cost) == (0.5, 10.0)
    assert not store.finish(job.id, "intruder", {"x": 1}, 9.0)
    assert store.finish(job.id, "owner", {"x": 1}, 9.0)
    done = store.get(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.result == {"x": 1}
    assert done.finished_at is not None and done.best_cost == 9.0


def test_a_cancelled_job_keeps_its_status_when_its_worker_finishes(store: JobStore) -> None:
    job = store.submit("routes", {})
    store.claim("owner")
    assert store.cancel(job.id).status is JobStatus.CANCELLED
    assert not store.heartbeat(job.id, "owner", 0.9, 1.0)
    assert not store.finish(job.id, "owner", {"late": True}, 1.0)
    assert store.get(job.id).status is JobStatus.CANCELLED
    assert store.get(job.id).result is None
    assert store.cancel(str(uuid.uuid4())) is None


def test_a_failed_job_keeps_its_error(store: JobStore) -> None:
    job = store.submit("routes", {})
    store.claim("owner")
    error = {"code": "invalid_input", "message": "bad", "details": [{"field": "x"}]}
    assert store.fail(job.id, "owner", error)
    assert store.get(job.id).status is JobStatus.FAILED
    assert store.get(job.id).error == error


def test_the_queue_has_a_cap(store: JobStore) -> None:
    store.submit("routes", {}, max_queued=2)
    store.submit("routes", {}, max_queued=2)
    with pytest.raises(QueueFullError):
        store.submit("routes", {}, max_queued=2)
    store.claim("owner")  # a running job no longer counts as waiting
    store.submit("routes", {}, max_queued=2)
    assert store.counts()["queued"] == 2 and store.counts()["running"] == 1


def test_jobs_of_a_dead_server_are_queued_again_then_given_up(store: JobStore) -> None:
    job = store.submit("routes", {})
    store.claim("dead-server")
    assert store.recover(lease_s=30, max_attempts=2) == 0  # heartbeat is fresh
    _age_heartbeat(store, job.id, 60)
    assert store.recover(lease_s=30, max_attempts=2) == 1
    assert store.get(job.id).status is JobStatus.QUEUED
    store.claim("dead-again")
    _age_heartbeat(store, job.id, 60)
    store.recover(lease_s=30, max_attempts=2)
    given_up = store.get(job.id)
    assert given_up.status is JobStatus.FAILED and given_up.error["code"] == "job_abandoned"


def test_a_released_job_does_not_use_up_an_attempt(store: JobStore) -> None:
    job = store.submit("routes", {})
    store.claim("stopping-server")
    assert store.release(job.id, "stopping-server")
    released = store.get(job.id)
    assert released.status is JobStatus.QUEUED and released.attempts == 0
    assert store.claim("next").attempts == 1


def test_timestamps_are_timezone_aware(store: JobStore) -> None:
    job = store.submit("routes", {})
    assert job.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - job.created_at).total_seconds()) < 60
    assert store.ping()


def test_an_unreachable_database_is_a_store_unavailable_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        JobStore("postgresql+psycopg://nobody:secret@127.0.0.1:1/jobs")
    assert "secret" not in str(caught.value)
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        store.engine.dispose()
        (tmp_path / "jobs.db").unlink()
        (tmp_path / "jobs.db").mkdir()  # a folder where the database file was
        with pytest.raises(StoreUnavailableError):
            store.get(str(uuid.uuid4()))
        assert not store.ping()
    finally:
        store.close()
