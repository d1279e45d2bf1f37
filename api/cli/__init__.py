"""The ``routeplan`` command line. Each command lives in its own module and registers on ``app``."""

from __future__ import annotations

from api.cli import (  # each module registers its commands on ``app``
    allocate,  # noqa: F401
    bench_allocation,  # noqa: F401
    bench_vrp,  # noqa: F401
    matrix,  # noqa: F401
    route,  # noqa: F401
    serve,  # noqa: F401
)
from api.cli.app import app


def main() -> None:
    """Entry point of the ``routeplan`` console script."""
    app()
