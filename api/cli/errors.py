"""How the command line answers an error: one line per problem on stderr and an exit code.

Commands just raise. :class:`RouteplanGroup` (the class of the ``routeplan`` app) catches
what a command raises and maps it, here and nowhere else, to an exit code: 2 invalid input
(each line names the field, the value and why), 3 solver failure, 4 job store unavailable, 6
a conflict with the present state (an HTTP 409: an order already in the book, a stale plan,
a move the order lifecycle refuses, too little stock), 1 anything else. A plan whose search
was cut short on its time or solution limit with mandatory stops left out
(``stats.time_limit_reached``) is written as usual, then the command exits 5
(:func:`exit_if_cut_short`). An unexpected exception prints one line, ``internal error:
Type: message``; its traceback goes to a log file in the cache folder, never to the
terminal. Usage errors (unknown options, missing arguments) stay Typer's: exit 2 with the
usage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from models.errors import ErrorCode, RouteplanError, detail_line, error_body
from models.routing import RoutingResult
from models.status import UnassignedReason

logger = logging.getLogger(__name__)
error_console = Console(stderr=True)

#: Exit code for anything that is not one of the errors below.
EXIT_FAILURE = 1
#: Exit code for invalid input (a field, its value and why are printed).
EXIT_INVALID_INPUT = 2
#: Exit code for a solver failure.
EXIT_SOLVER_FAILURE = 3
#: Exit code when the job store cannot be reached.
EXIT_STORE_UNAVAILABLE = 4

#: Exit code of a plan whose search was cut short with mandatory stops left out.
EXIT_CUT_SHORT = 5
#: Exit code of a conflict with the present state (what HTTP answers 409).
EXIT_CONFLICT = 6

#: The exit code of each error code; any other code exits 1.
EXIT_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: EXIT_INVALID_INPUT,
    ErrorCode.LIMIT_EXCEEDED: EXIT_INVALID_INPUT,
    ErrorCode.SOLVER_FAILURE: EXIT_SOLVER_FAILURE,
    ErrorCode.STORE_UNAVAILABLE: EXIT_STORE_UNAVAILABLE,
    ErrorCode.ORDER_EXISTS: EXIT_CONFLICT,
    ErrorCode.IDEMPOTENCY_CONFLICT: EXIT_CONFLICT,
    ErrorCode.AMBIGUOUS_ORDER: EXIT_CONFLICT,
    ErrorCode.INVALID_TRANSITION: EXIT_CONFLICT,
    ErrorCode.INSUFFICIENT_STOCK: EXIT_CONFLICT,
    ErrorCode.STALE_PLAN: EXIT_CONFLICT,
}

#: What the first line says, per error code.
_LABELS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_INPUT: "invalid input",
    ErrorCode.LIMIT_EXCEEDED: "invalid input",
    ErrorCode.SOLVER_FAILURE: "solver failure",
    ErrorCode.STORE_UNAVAILABLE: "job store unavailable",
}


def log_file() -> Path:
    """Where the CLI logs the tracebacks of unexpected errors (``cli.log`` in the cache)."""
    from api.settings import get_settings

    return get_settings().cache_dir.expanduser() / "cli.log"


def problem_lines(body: Mapping[str, Any]) -> list[str]:
    """One line per problem of an error body: ``field = value: why``, or the message.

    A one-field error's message already names the field, the value and why; an error
    without details is its message.
    """
    details = list(body.get("details") or [])
    if not details or (len(details) == 1 and body["message"].startswith(details[0]["field"])):
        return [body["message"]]
    return [detail_line(d) for d in details]


def _log_unexpected(error: BaseException) -> Path | None:
    """Log ``error`` with its traceback to :func:`log_file`; the file, or None if unwritable."""
    path: Path | None
    handler: logging.Handler
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except Exception:  # no log file: the line on the terminal is all there is
        path, handler = None, logging.NullHandler()  # and nothing falls back to stderr
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        logger.exception("routeplan failed: %s: %s", type(error).__name__, error, exc_info=error)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


def report(error: BaseException) -> int:
    """Print ``error`` to stderr, one line per problem, and return its exit code."""
    body = error_body(error)
    code = ErrorCode(body["code"])
    known = isinstance(error, RouteplanError) or code is ErrorCode.INVALID_INPUT
    if not known:
        path = _log_unexpected(error)
        where = f" (traceback in {path})" if path is not None else ""
        _print("internal error", f"{type(error).__name__}: {error}{where}")
        return EXIT_FAILURE
    label = _LABELS.get(code, code.value.replace("_", " "))
    lines = problem_lines(body)
    if len(lines) == 1:
        _print(label, lines[0])
    else:
        _print(label, f"{len(lines)} problems")
        for line in lines:
            error_console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_CODES.get(code, EXIT_FAILURE)


def _print(label: str, line: str) -> None:
    error_console.print(
        Text.assemble((label, "bold red"), ": ", line), highlight=False, soft_wrap=True
    )


class RouteplanGroup(TyperGroup):
    """The ``routeplan`` command group: errors a command raises become a report and an exit
    code (:func:`report`); Typer's own exits and usage errors pass through."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; answer what it raises."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as error:
            raise typer.Exit(report(error)) from None


def left_out_by_time(result: RoutingResult) -> bool:
    """The search was cut short and mandatory stops are still left out for it."""
    return result.stats.time_limit_reached and any(
        u.reason == UnassignedReason.SEARCH_TIME_EXHAUSTED for u in result.unassigned
    )


def exit_if_cut_short(sites_cut_short: list[str]) -> None:
    """Exit 5, saying where, when a search was cut short with mandatory stops left out."""
    if not sites_cut_short:
        return
    where = ", ".join(sites_cut_short)
    error_console.print(
        f"[yellow]the search was cut short ({where}): mandatory stops are left out as "
        "search_time_exhausted; a longer --time-limit may place them[/]"
    )
    raise typer.Exit(EXIT_CUT_SHORT)
