"""Call a module-level function in a child Python process and collect its return value.

The child is ``python -m engine.processes JOB``: it unpickles ``(function, args)``
from the job file, calls it, and writes the pickled outcome on stdout; its stderr goes to a
temporary file, so when a call fails :attr:`ChildCall.error` says why, with the end of it.
Started this way, a child never re-imports the caller's ``__main__``, so any script, thread
or server may use it (unlike ``multiprocessing``'s spawn, and without fork's hazards in
threaded programs).
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

#: How much of a failed child's stderr its error keeps (the end, where the traceback is).
STDERR_TAIL_CHARS = 2000


@dataclass
class ChildCall:
    """A function call running in a child process; its stderr goes to ``stderr_path``."""

    process: subprocess.Popen[bytes]
    stderr_path: Path | None = None
    error: str | None = None

    def collect(self, until: float) -> Any | None:
        """The return value, or None if the call failed or is not done by ``until``.

        ``until`` is a ``time.monotonic()`` instant; an overrunning child is killed. When
        the call gives None for a failure, :attr:`error` says why (with the child's stderr).
        """
        try:
            out, _ = self.process.communicate(timeout=max(until - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            self._fail("did not finish in time and was killed")
            return None
        if self.process.returncode != 0:
            self._fail(f"exited with code {self.process.returncode}")
            return None
        if not out:
            self._fail("returned nothing")
            return None
        try:
            value = pickle.loads(out)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            self._fail(f"returned an unreadable value ({error})")
            return None
        self._drop_stderr()
        return value

    def kill(self) -> None:
        """Stop the child now."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self._drop_stderr()

    def _fail(self, why: str) -> None:
        """Record ``why`` the call failed, with the end of the child's stderr."""
        tail = ""
        if self.stderr_path is not None:
            try:
                tail = self.stderr_path.read_text(errors="replace").strip()[-STDERR_TAIL_CHARS:]
            except OSError:
                tail = ""
        self.error = f"child process {why}" + (f": {tail}" if tail else "")
        self._drop_stderr()

    def _drop_stderr(self) -> None:
        if self.stderr_path is not None:
            self.stderr_path.unlink(missing_ok=True)
            self.stderr_path = None


def start_call(function: Callable[..., Any], *args: Any) -> ChildCall | None:
    """Start ``function(*args)`` in a child process; None if it cannot be started."""
    try:
        with tempfile.NamedTemporaryFile(prefix="routeplan-call-", delete=False) as job:
            pickle.dump((function, args), job, protocol=pickle.HIGHEST_PROTOCOL)
        with tempfile.NamedTemporaryFile(
            prefix="routeplan-stderr-", suffix=".txt", delete=False
        ) as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "engine.processes", job.name],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
    except (OSError, pickle.PicklingError, AttributeError, TypeError):
        return None
    return ChildCall(process, Path(stderr.name))


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
