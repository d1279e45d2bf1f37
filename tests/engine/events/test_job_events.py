"""A job's last move emits its event in the same transaction: ``job.succeeded`` and
``job.failed``, and none for a move that did not apply."""

from __future__ import annotations

from engine.events.store import EventStore
from engine.jobs.store import JobStore
from models.status import EventType


def test_finished_and_failed_jobs_emit_their_events(url: str, store: EventStore) -> None:
    jobs = JobStore(url)
    try:
        done = jobs.submit("routes", {"n": 1})
        broken = jobs.submit("routes", {"n": 2})
        assert jobs.claim("w1") is not None and jobs.claim("w1") is not None
        assert not jobs.finish(done.id, "someone-else", {"ok": True}, None)  # not theirs
        assert store.events().events == []
        assert jobs.finish(done.id, "w1", {"ok": True}, 3.0)
        error = {"code": "solver_failure", "message": "no", "details": []}
        assert jobs.fail(broken.id, "w1", error)
    finally:
        jobs.close()
    events = store.events().events
    assert [(e.type, e.data["job_id"], e.data["status"]) for e in events] == [
        (EventType.JOB_SUCCEEDED, done.id, "succeeded"),
        (EventType.JOB_FAILED, broken.id, "failed"),
    ]
    assert events[1].data["error"] == error
