"""A search in a child process: reads a pickled job file, writes the pickled solution.

Run as ``python -m engine.search_worker`` by :mod:`engine.parallel`; a child started this
way never re-imports the caller's main module, so any script may call the engine.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main() -> None:
    """Read ``(data, backend, deadline, seed, worker)``, search, write the ``VrpSolution``."""
    from engine.parallel import run_backend

    job = Path(sys.argv[1])
    with job.open("rb") as handle:
        data, backend, deadline, seed, worker = pickle.load(handle)
    job.unlink(missing_ok=True)
    solution = run_backend(data, backend, deadline, seed, worker)
    pickle.dump(solution, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
