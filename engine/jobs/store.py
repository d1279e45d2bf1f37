"""The job store: one SQL table of jobs, their requests, progress and results.

SQLite (a file) by default, PostgreSQL through a ``postgresql+psycopg://`` URL; SQLAlchemy 2
Core, so the same statements run on both. Every change of status is a conditional
``UPDATE`` (compare-and-set on status and owner), so that two workers, two servers or a
cancel racing a finish never both win. Claiming also locks the candidate row with
``FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL).

A running job carries its ``owner`` (one per server process) and a ``heartbeat_at`` that the
owner refreshes; a running job whose heartbeat is older than the lease belongs to a dead
server and is queued again (or failed, after too many attempts).

Every wait on the database is bounded (:mod:`engine.db.connect`), and every failure to
reach it is a :class:`StoreUnavailableError`. After one, calls fail at once for
``retry_s`` (a circuit breaker: a hung database cannot hold every thread of the server),
then one call at a time tries again. The table (:data:`engine.db.schema.JOBS`) is made by
the migrations, which the first call that reaches the database applies (once per process:
:func:`engine.db.migrate.ensure_schema`), so a store can be opened while its database is away.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, select, update
from sqlalchemy.engine import Connection

from engine.db import Breaker, Entry, aware, ensure_schema, make_engine, report_unreachable, stamp
from engine.db.schema import JOBS
from engine.events.outbox import emit
from models.errors import ErrorCode, QueueFullError
from models.jobs import JobStatus
from models.status import EventType

#: The events of a job's last moves.
_FINISHED = {
    JobStatus.SUCCEEDED.value: EventType.JOB_SUCCEEDED,
    JobStatus.FAILED.value: EventType.JOB_FAILED,
}


@dataclass(frozen=True)
class JobRecord:
    """One row of the store."""

    id: str
    kind: str
    status: JobStatus
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    progress: float | None
    best_cost: float | None
    attempts: int
    owner: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    #: The name of the API key that submitted the job (None: no keys, or an older row).
    created_by: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _make_engine(
    url: str, connect_timeout_s: float = 3.0, statement_timeout_s: float = 5.0
) -> Engine:
    """The store's engine (every wait bounded), whose failures to reach the database are
    :class:`StoreUnavailableError`."""
    engine = make_engine(
        url, connect_timeout_s=connect_timeout_s, statement_timeout_s=statement_timeout_s
    )
    return report_unreachable(engine)


class JobStore:
    """Jobs in a SQL table: submit, claim, heartbeat, finish, cancel, recover.

    ``connect_timeout_s`` bounds connecting and waiting for a pooled connection,
    ``statement_timeout_s`` each statement (and SQLite's wait for a lock); ``retry_s`` is how
    long calls fail at once after the database was unreachable. ``lazy`` opens the store
    without reaching the database (the migrations are applied by the first call that does);
    otherwise an unreachable database raises :class:`StoreUnavailableError` here.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 3.0,
        statement_timeout_s: float = 5.0,
        retry_s: float = 1.0,
        lazy: bool = False,
    ) -> None:
        self.url = url
        self.engine = _make_engine(url, connect_timeout_s, statement_timeout_s)
        self.table: Table = JOBS
        self._timeouts_s = {
            "connect_timeout_s": connect_timeout_s,
            "statement_timeout_s": statement_timeout_s,
        }
        self._breaker = Breaker(retry_s, "the job store")
        self._available = Entry(
            self._breaker, self._prepare, "the job store is unreachable; retry later"
        )
        if not lazy:
            with self._connect() as conn:
                conn.execute(select(1))

    # ------------------------------------------------------------------ availability

    def _prepare(self) -> None:
        """Apply the migrations (once per process and database; :mod:`engine.db.migrate`)."""
        ensure_schema(self.engine, **self._timeouts_s)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection, through :meth:`_available`."""
        with self._available(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A connection in a transaction (committed at the end), through :meth:`_available`."""
        with self._available(), self.engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------------ reading

    def _record(self, row: Any) -> JobRecord:
        m = row._mapping
        return JobRecord(
            id=m["id"],
            kind=m["kind"],
            status=JobStatus(m["status"]),
            request=m["request"],
            result=m["result"],
            error=m["error"],
            progress=m["progress"],
            best_cost=m["best_cost"],
            attempts=m["attempts"],
            owner=m["owner"],
            created_at=stamp(m["created_at"]),
            updated_at=stamp(m["updated_at"]),
            started_at=aware(m["started_at"]),
            finished_at=aware(m["finished_at"]),
            heartbeat_at=aware(m["heartbeat_at"]),
            created_by=m["created_by"],
        )

    def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        with self._connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id == job_id)).first()
        return None if row is None else self._record(row)

    def status(self, job_id: str) -> JobStatus | None:
        """Only the job's status (cheap), or None if there is no such job."""
        with self._connect() as conn:
            value = conn.execute(
                select(self.table.c.status).where(self.table.c.id == job_id)
            ).scalar()
        return None if value is None else JobStatus(value)

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        t = self.table
        with self._connect() as conn:
            rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        out = {status.value: 0 for status in JobStatus}
        out.update({status: int(n) for status, n in rows})
        return out

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self._connect() as conn:
                conn.execute(select(1))
        except Exception:
            return False
        return True

    # ------------------------------------------------------------------ changes

    def _update(self, job_id: str, where: list[Any], **values: Any) -> bool:
        """A conditional update of one job; True when it applied. A move to ``succeeded`` or
        ``failed`` emits its event (``job.succeeded``, ``job.failed``) in the same transaction."""
        t = self.table
        values.setdefault("updated_at", _now())
        with self._begin() as conn:
            done = conn.execute(update(t).where(t.c.id == job_id, *where).values(**values))
            kind = _FINISHED.get(values.get("status", ""))
            if done.rowcount == 1 and kind is not None:
                data = {"job_id": job_id, "status": values["status"], "error": values.get("error")}
                emit(conn, kind, data, values["updated_at"])
        return done.rowcount == 1

    def submit(
        self,
        kind: str,
        request: dict[str, Any],
        max_queued: int | None = None,
        *,
        created_by: str | None = None,
    ) -> JobRecord:
        """Queue a new job; :class:`QueueFullError` when ``max_queued`` jobs already wait.

        ``created_by`` names who submitted it (the API key's name), kept with the job."""
        t = self.table
        now = _now()
        job_id = str(uuid.uuid4())
        with self._begin() as conn:
            if max_queued is not None:
                queued = conn.execute(
                    select(func.count()).select_from(t).where(t.c.status == JobStatus.QUEUED)
                ).scalar_one()
                if queued >= max_queued:
                    raise QueueFullError(max_queued)
            conn.execute(
                t.insert().values(
                    id=job_id,
                    kind=kind,
                    status=JobStatus.QUEUED.value,
                    request=request,
                    attempts=0,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
            )
        record = self.get(job_id)
        assert record is not None
        return record

    def claim(self, owner: str) -> JobRecord | None:
        """Take the oldest queued job for ``owner`` (status running, one more attempt)."""
        t = self.table
        for _ in range(5):  # another worker may win the race for a candidate: try the next
            with self._begin() as conn:
                job_id = conn.execute(
                    select(t.c.id)
                    .where(t.c.status == JobStatus.QUEUED.value)
                    .order_by(t.c.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if job_id is None:
                    return None
                now = _now()
                done = conn.execute(
                    update(t)
                    .where(t.c.id == job_id, t.c.status == JobStatus.QUEUED.value)
                    .values(
                        status=JobStatus.RUNNING.value,
                        owner=owner,
                        attempts=t.c.attempts + 1,
                        started_at=now,
                        heartbeat_at=now,
                        updated_at=now,
                        progress=0.0,
                        best_cost=None,
                    )
                )
            if done.rowcount == 1:
                return self.get(job_id)
        return None

    def _owned(self, owner: str) -> list[Any]:
        t = self.table
        return [t.c.status == JobStatus.RUNNING.value, t.c.owner == owner]

    def heartbeat(
        self, job_id: str, owner: str, progress: float | None, best_cost: float | None
    ) -> bool:
        """Refresh a running job's heartbeat and progress; False if it is no longer ours."""
        now = _now()
        return self._update(
            job_id,
            self._owned(owner),
            heartbeat_at=now,
            updated_at=now,
            progress=progress,
            best_cost=best_cost,
        )

    def finish(
        self, job_id: str, owner: str, result: dict[str, Any], best_cost: float | None
    ) -> bool:
        """Store the result of a running job; False if it was cancelled or taken meanwhile."""
        now = _now()
        return self._update(
            job_id,
            self._owned(owner),
            status=JobStatus.SUCCEEDED.value,
            result=result,
            progress=1.0,
            best_cost=best_cost,
            finished_at=now,
            owner=None,
        )

    def fail(self, job_id: str, owner: str, error: dict[str, Any]) -> bool:
        """Mark a running job failed with an error ``{code, message, details}``."""
        return self._update(
            job_id,
            self._owned(owner),
            status=JobStatus.FAILED.value,
            error=error,
            finished_at=_now(),
            owner=None,
        )

    def release(self, job_id: str, owner: str) -> bool:
        """Put a running job back in the queue (its server is stopping)."""
        return self._update(
            job_id,
            self._owned(owner),
            status=JobStatus.QUEUED.value,
            owner=None,
            progress=None,
            best_cost=None,
            attempts=self.table.c.attempts - 1,  # a graceful stop is not the job's fault
        )

    def cancel(self, job_id: str) -> JobRecord | None:
        """Cancel a queued or running job; the job as it now is (None if there is none)."""
        t = self.table
        now = _now()
        self._update(
            job_id,
            [t.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])],
            status=JobStatus.CANCELLED.value,
            finished_at=now,
            owner=None,
        )
        return self.get(job_id)

    def recover(self, lease_s: float, max_attempts: int, keep: Collection[str] = ()) -> int:
        """Queue again the running jobs whose owner stopped beating; fail those tried too often.

        ``keep``: ids of jobs known to be still running (the caller's own, whose heartbeats
        an outage of the database held up). Returns how many jobs were recovered.
        """
        t = self.table
        cutoff = _now() - timedelta(seconds=lease_s)
        stale = [t.c.status == JobStatus.RUNNING.value, t.c.heartbeat_at < cutoff]
        if keep:
            stale.append(t.c.id.not_in(list(keep)))
        with self._begin() as conn:
            given_up = conn.execute(
                update(t)
                .where(*stale, t.c.attempts >= max_attempts)
                .values(
                    status=JobStatus.FAILED.value,
                    owner=None,
                    finished_at=_now(),
                    updated_at=_now(),
                    error={
                        "code": ErrorCode.JOB_ABANDONED.value,
                        "message": f"the job was started {max_attempts} times and its server "
                        "stopped each time; it is not tried again",
                        "details": [],
                    },
                )
            ).rowcount
            requeued = conn.execute(
                update(t)
                .where(*stale)
                .values(
                    status=JobStatus.QUEUED.value,
                    owner=None,
                    progress=None,
                    best_cost=None,
                    updated_at=_now(),
                )
            ).rowcount
        return int(given_up) + int(requeued)

    def close(self) -> None:
        """Close the connections."""
        self.engine.dispose()
