"""Call a module-level function in a child Python process and collect its return value.

The child is ``python -m engine.processes JOB``: it unpickles ``(function, args)``
from the job file, calls it, and writes the pickled outcome on stdout. Started this way, a
child never re-imports the caller's ``__main__``, so any script, thread or server may use
it (unlike ``multiprocessing``'s spawn, and without fork's hazards in threaded programs).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ChildCall:
    """A function call running in a child process."""

    process: subprocess.Popen[bytes]

    def collect(self, until: float) -> Any | None:
        """The return value, or None if the call failed or is not done by ``until``.

        ``until`` is a ``time.monotonic()`` instant; an overrunning child is killed.
        """
        try:
            out, _ = self.process.communicate(timeout=max(until - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return None
        if self.process.returncode != 0 or not out:
            return None
        try:
            return pickle.loads(out)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def kill(self) -> None:
        """Stop the child now."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def start_call(function: Callable[..., Any], *args: Any) -> ChildCall | None:
    """Start ``function(*args)`` in a child process; None if it cannot be started."""
    try:
        with tempfile.NamedTemporaryFile(prefix="routeplan-call-", delete=False) as job:
            pickle.dump((function, args), job, protocol=pickle.HIGHEST_PROTOCOL)
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.processes", job.name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, pickle.PicklingError):
        return None
    return ChildCall(process)


def main() -> None:
    """Child side: run the pickled call named on the command line."""
    job = Path(sys.argv[1])
    with job.open("rb") as handle:
        function, args = pickle.load(handle)
    job.unlink(missing_ok=True)
    value = function(*args)
    pickle.dump(value, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
