"""The process that runs one job: it imports the kind's handler, runs it, sends the outcome.

Messages on the pipe: ``("progress", fraction, best_cost)`` any number of times, then one
``("result", data)`` or ``("error", {code, message, details})``. The process leads its own
process group, so that stopping the job also stops any search processes it started, and it
ends itself if the server that started it dies.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from engine.jobs.kinds import JobContext, load
from models.errors import ErrorCode, error_body

#: How often the process checks that its server is still alive, in seconds.
WATCH_INTERVAL_S = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(server_pid: int) -> None:
    while _alive(server_pid):
        time.sleep(WATCH_INTERVAL_S)
    os.killpg(os.getpgrp(), signal.SIGKILL)  # the server is gone: nobody wants the result


def error_record(error: BaseException) -> dict[str, Any]:
    """A job error ``{code, message, details}`` for an exception raised by a handler
    (``job_failed`` for an exception that is not a routeplan error)."""
    return error_body(error, unexpected=ErrorCode.JOB_FAILED)


def main(
    target: str,
    request: dict[str, Any],
    conn: Connection,
    server_pid: int,
    context: JobContext | None = None,
) -> None:
    """Run the handler ``target`` on ``request`` (with the server's ``context``) and send
    progress and the outcome."""
    os.setpgrp()
    threading.Thread(target=_watch, args=(server_pid,), daemon=True).start()

    sending = threading.Lock()

    def progress(fraction: float | None, best_cost: float | None) -> None:
        with sending:  # handlers may report from several threads
            conn.send(("progress", fraction, best_cost))

    try:
        handler = load(target)
        outcome: tuple[str, Any] = ("result", handler(request, progress, context or JobContext()))
    except Exception as error:
        outcome = ("error", error_record(error))
    with sending:
        conn.send(outcome)
    conn.close()
