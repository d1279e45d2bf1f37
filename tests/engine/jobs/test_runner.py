"""The job runner: any registered kind runs in its own process; cancel stops it; stop hands
running jobs back to the queue; crashes and errors become failed jobs with a reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.jobs import JobRunner, JobStore
from engine.jobs.kinds import KINDS as DEFAULT_KINDS
from engine.jobs.kinds import JobContext, load, register
from models.jobs import JobStatus

KINDS = {
    "sleepy": "tests.engine.jobs.job_kinds:sleepy",
    "crash": "tests.engine.jobs.job_kinds:crash",
    "boom": "tests.engine.jobs.job_kinds:boom",
    "context": "tests.engine.jobs.job_kinds:context",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    opened = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield opened
    opened.close()


@pytest.fixture
def runner(store: JobStore) -> Iterator[JobRunner]:
    started = JobRunner(store, kinds=KINDS, lease_s=3, poll_s=0.05)
    started.start()
    yield started
    started.stop()


def _wait(store: JobStore, job_id: str, statuses: set[JobStatus], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while store.get(job_id).status not in statuses:
        assert time.monotonic() < deadline, store.get(job_id)
        time.sleep(0.05)


def test_any_registered_kind_runs_with_progress(store: JobStore, runner: JobRunner) -> None:
    job = store.submit("sleepy", {"seconds": 1.5})
    runner.wake()
    _wait(store, job.id, {JobStatus.RUNNING})
    deadline = time.monotonic() + 10
    while not (store.get(job.id).progress or 0) > 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _wait(store, job.id, {JobStatus.SUCCEEDED})
    done = store.get(job.id)
    assert done.result["slept_s"] == 1.5 and done.progress == 1.0
    assert 0 < done.best_cost < 100


def test_cancelling_stops_the_job_process(store: JobStore, runner: JobRunner) -> None:
    long = store.submit("sleepy", {"seconds": 60})
    runner.wake()
    _wait(store, long.id, {JobStatus.RUNNING})
    store.cancel(long.id)
    short = store.submit("sleepy", {"seconds": 0.1})
    runner.wake()
    # the only worker is free again: had the 60 s job's process lived on, this would time out
    _wait(store, short.id, {JobStatus.SUCCEEDED}, timeout_s=10)
    cancelled = store.get(long.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.result is None  # stopped, never finished


@pytest.mark.parametrize(
    ("kind", "code", "text"),
    [("crash", "worker_died", "exit code 7"), ("boom", "job_failed", "flux capacitor")],
)
def test_crashes_and_errors_fail_the_job_with_a_reason(
    store: JobStore, runner: JobRunner, kind: str, code: str, text: str
) -> None:
    job = store.submit(kind, {})
    runner.wake()
    _wait(store, job.id, {JobStatus.FAILED})
    error = store.get(job.id).error
    assert error["code"] == code and text in error["message"]


def test_an_unknown_kind_fails(store: JobStore, runner: JobRunner) -> None:
    job = store.submit("teleport", {})
    runner.wake()
    _wait(store, job.id, {JobStatus.FAILED})
    assert store.get(job.id).error["code"] == "unknown_kind"


def test_stopping_the_runner_hands_running_jobs_back(store: JobStore) -> None:
    runner = JobRunner(store, kinds=KINDS, lease_s=3, poll_s=0.05)
    runner.start()
    job = store.submit("sleepy", {"seconds": 60})
    runner.wake()
    _wait(store, job.id, {JobStatus.RUNNING})
    runner.stop()
    back = store.get(job.id)
    assert back.status is JobStatus.QUEUED and back.attempts == 0


def test_handlers_get_the_runners_job_context(store: JobStore, tmp_path: Path) -> None:
    context = JobContext(matrix_cache_dir=tmp_path / "graphs")
    runner = JobRunner(store, kinds=KINDS, lease_s=3, poll_s=0.05, job_context=context)
    runner.start()
    try:
        job = store.submit("context", {})
        runner.wake()
        _wait(store, job.id, {JobStatus.SUCCEEDED})
    finally:
        runner.stop()
    assert store.get(job.id).result == {"matrix_cache_dir": str(tmp_path / "graphs")}


def test_register_adds_a_kind_by_module_and_function() -> None:
    with pytest.raises(ValueError, match="module:function"):
        register("bad", "no_colon")
    register("sleepy-test", KINDS["sleepy"])
    try:
        assert DEFAULT_KINDS["sleepy-test"] == "tests.engine.jobs.job_kinds:sleepy"
        assert load(DEFAULT_KINDS["sleepy-test"]).__name__ == "sleepy"
    finally:
        del DEFAULT_KINDS["sleepy-test"]
