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

from pydantic import ValidationError

from engine.allocation.validate import AllocationInputError
from engine.jobs.kinds import load
from models.errors import InvalidRequestError, describe

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
    """A job error ``{code, message, details}`` for an exception raised by a handler."""
    if isinstance(error, ValidationError):
        return {
            "code": "invalid_input",
            "message": f"the request is invalid ({error.error_count()} problem(s))",
            "details": describe(error),
        }
    if isinstance(error, AllocationInputError):
        return {
            "code": "invalid_input",
            "message": str(error),
            "details": [{"field": error.field, "value": repr(error.value), "message": error.why}],
        }
    if isinstance(error, InvalidRequestError):
        return {
            "code": "invalid_input",
            "message": str(error),
            "details": list(getattr(error, "details", [])),
        }
    return {"code": "job_failed", "message": f"{type(error).__name__}: {error}", "details": []}


def main(target: str, request: dict[str, Any], conn: Connection, server_pid: int) -> None:
    """Run the handler ``target`` on ``request`` and send progress and the outcome."""
    os.setpgrp()
    threading.Thread(target=_watch, args=(server_pid,), daemon=True).start()

    sending = threading.Lock()

    def progress(fraction: float | None, best_cost: float | None) -> None:
        with sending:  # handlers may report from several threads
            conn.send(("progress", fraction, best_cost))

    try:
        outcome: tuple[str, Any] = ("result", load(target)(request, progress))
    except Exception as error:
        outcome = ("error", error_record(error))
    with sending:
        conn.send(outcome)
    conn.close()
