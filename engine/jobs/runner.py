"""The job runner: worker threads that take queued jobs and run each in its own process.

Each worker thread claims the oldest queued job, starts a process for it (from a
``forkserver``, so the server's threads are never forked), relays the process's progress to
the store with a heartbeat, and stores the outcome. Cancelling a job (its status turns
``cancelled`` in the store) stops its process at the next heartbeat. Stopping the runner
stops the processes and puts their jobs back in the queue; jobs of a server that died are
found by their stale heartbeat and queued again by any runner.

An outage of the store stops no job: a worker keeps its job's process running while the
store cannot be reached, stores the outcome once it can, and its own recovery never takes
back the jobs it is still running (their heartbeats were held up, not lost).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.process import BaseProcess

from engine.jobs import child
from engine.jobs.kinds import KINDS, JobContext
from engine.jobs.store import JobRecord, JobStore
from models.errors import ErrorCode, StoreUnavailableError

_log = logging.getLogger(__name__)

#: Modules the forkserver imports once, so that each job process starts warm.
PRELOAD = ["engine.jobs.child", "engine.routing.solve", "engine.allocation"]


def _kill(process: BaseProcess) -> None:
    """Stop a job process and every process it started (its process group)."""
    if process.pid is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()  # not yet the leader of its own group
    process.join(5)


class JobRunner:
    """Runs queued jobs from ``store`` with ``workers`` threads, one process per job.

    ``job_context`` is handed to every job's handler: what the server's settings say the engine
    needs (e.g. the road-graph cache folder); by default the engine's own defaults.
    """

    def __init__(
        self,
        store: JobStore,
        *,
        workers: int = 1,
        lease_s: float = 30.0,
        max_attempts: int = 3,
        poll_s: float = 0.5,
        kinds: dict[str, str] | None = None,
        job_context: JobContext | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.store = store
        self.workers = workers
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.kinds = KINDS if kinds is None else kinds
        self.job_context = JobContext() if job_context is None else job_context
        #: Heartbeats (and progress writes) are this far apart, well inside the lease.
        self.beat_s = min(1.0, lease_s / 3)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_recovery = 0.0
        self._active: set[str] = set()  # ids of the jobs this runner's workers run now

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        """Recover jobs of dead servers, warm the forkserver, then start the worker threads
        (a store that cannot be reached yet is retried by the workers)."""
        try:
            self.recover()
        except StoreUnavailableError:
            self._last_recovery = 0.0
        threading.Thread(target=forkserver.ensure_running, daemon=True).start()
        for n in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"routeplan-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Tell idle workers that a job was queued."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the workers; running jobs are stopped and queued again for the next server."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def recover(self) -> int:
        """Queue again the jobs whose server stopped beating (see :meth:`JobStore.recover`)."""
        self._last_recovery = time.monotonic()
        try:
            return self.store.recover(self.lease_s, self.max_attempts, keep=set(self._active))
        except StoreUnavailableError:
            self._last_recovery = 0.0  # try again at the next turn
            raise

    # ------------------------------------------------------------------ workers

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if time.monotonic() - self._last_recovery >= self.lease_s / 2:
                    self.recover()
                job = self.store.claim(self.owner)
            except Exception:  # database unreachable: try again after a pause
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._active.add(job.id)
            try:
                self._run(job)
            except Exception:  # the store failed mid-job: the lease brings the job back
                _log.exception("job %s: the runner lost track of it", job.id)
            finally:
                self._active.discard(job.id)

    def _beat(self, job: JobRecord, progress: float | None, best_cost: float | None) -> bool:
        """Refresh the job's heartbeat; False when the job is no longer ours (cancelled, or
        taken over). A store that cannot be reached says nothing: the job goes on."""
        try:
            return self.store.heartbeat(job.id, self.owner, progress, best_cost)
        except StoreUnavailableError:
            return True

    def _store(self, job: JobRecord, write: Callable[[], bool]) -> None:
        """Write the job's outcome, waiting for the store while it cannot be reached (until
        the runner stops: the job's lease then brings it back to the queue)."""
        while True:
            try:
                write()
                return
            except StoreUnavailableError:
                _log.warning("job %s: the store is unreachable; its outcome waits", job.id)
                if self._stopping.wait(self.beat_s):
                    return

    def _run(self, job: JobRecord) -> None:
        target = self.kinds.get(job.kind)
        if target is None:
            unknown = {
                "code": ErrorCode.UNKNOWN_KIND.value,
                "message": f"no job kind {job.kind!r}",
                "details": [],
            }
            self._store(job, lambda: self.store.fail(job.id, self.owner, unknown))
            return
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=child.main,
            args=(target, job.request, sender, os.getpid(), self.job_context),
            name=f"routeplan-job-{job.id}",
        )
        process.start()
        sender.close()
        progress: float | None = None
        best_cost: float | None = None
        outcome: tuple | None = None
        last_beat = time.monotonic()
        try:
            while outcome is None:
                if receiver.poll(0.1):
                    try:
                        message = receiver.recv()
                    except EOFError:
                        break
                    if message[0] == "progress":
                        progress = message[1] if message[1] is not None else progress
                        best_cost = message[2] if message[2] is not None else best_cost
                    else:
                        outcome = message
                        break
                elif not process.is_alive() and not receiver.poll():
                    break
                if self._stopping.is_set():
                    _kill(process)
                    with contextlib.suppress(StoreUnavailableError):  # else the lease does it
                        self.store.release(job.id, self.owner)
                    return
                if time.monotonic() - last_beat >= self.beat_s:
                    last_beat = time.monotonic()
                    if not self._beat(job, progress, best_cost):
                        _kill(process)  # cancelled, or taken over after a lost lease
                        return
        finally:
            receiver.close()
            if outcome is None and process.is_alive() and not self._stopping.is_set():
                _kill(process)  # an error above: never leave a search running unwatched
        process.join(5)
        if process.is_alive():
            _kill(process)
        if outcome is None:
            died = {
                "code": ErrorCode.WORKER_DIED.value,
                "message": f"the job's process ended (exit code {process.exitcode}) "
                "before it answered",
                "details": [],
            }
            self._store(job, lambda: self.store.fail(job.id, self.owner, died))
        elif outcome[0] == "result":
            result = outcome[1]
            self._store(job, lambda: self.store.finish(job.id, self.owner, result, best_cost))
        else:
            error = outcome[1]
            self._store(job, lambda: self.store.fail(job.id, self.owner, error))
