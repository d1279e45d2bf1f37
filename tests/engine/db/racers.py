"""What a child process runs in the tests of concurrent upgrades (importable under spawn)."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any


def upgrade_at_once(url: str, barrier: Barrier, answers: Queue[Any]) -> None:
    """Wait for the other racer, upgrade ``url``, and answer ``("ok", revision)`` or
    ``("error", what)``."""
    from engine.db import upgrade  # imported before the barrier: the race is the upgrade

    barrier.wait(timeout=60)
    try:
        answers.put(("ok", upgrade(url)))
    except Exception as error:  # the test shows what went wrong
        answers.put(("error", f"{type(error).__name__}: {error}"))
