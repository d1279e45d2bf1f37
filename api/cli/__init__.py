"""The ``routeplan`` command line. Each command lives in its own module and registers on ``app``."""

from __future__ import annotations

from api.cli import (
    allocate,  # noqa: F401
    bench_allocation,  # noqa: F401
    bench_balance,  # noqa: F401
    bench_book,  # noqa: F401
    bench_day,  # noqa: F401
    bench_load,  # noqa: F401
    bench_vrp,  # noqa: F401
    book,  # noqa: F401
    check,  # noqa: F401
    db,  # noqa: F401
    demo,  # noqa: F401
    keys,  # noqa: F401
    matrix,  # noqa: F401
    pack,  # noqa: F401
    plan,  # noqa: F401
    route,  # noqa: F401  (registers commands)
    serve,  # noqa: F401
)
from api.cli.app import app


def main() -> None:
    """Entry point of the ``routeplan`` console script."""
    app()
