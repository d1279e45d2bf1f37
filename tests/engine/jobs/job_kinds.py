"""Job kinds for the runner's tests (imported by name in the job processes)."""

from __future__ import annotations

import os
import time
from typing import Any

from engine.jobs.kinds import JobContext, JobProgress


def sleepy(request: dict[str, Any], progress: JobProgress, _context: JobContext) -> dict[str, Any]:
    """Sleep ``request["seconds"]``, reporting progress every 0.05 s."""
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < request["seconds"]:
        progress(elapsed / request["seconds"], 100.0 - elapsed)
        time.sleep(0.05)
    return {"slept_s": request["seconds"], "pid": os.getpid()}


def crash(_request: dict[str, Any], _progress: JobProgress, _context: JobContext) -> dict[str, Any]:
    """Die without answering."""
    os._exit(7)


def boom(_request: dict[str, Any], _progress: JobProgress, _context: JobContext) -> dict[str, Any]:
    """Fail with an ordinary exception."""
    raise RuntimeError("the flux capacitor broke")


def context(_request: dict[str, Any], _progress: JobProgress, job: JobContext) -> dict[str, Any]:
    """Answer with the context the runner handed over."""
    return {"matrix_cache_dir": str(job.matrix_cache_dir)}
