"""The errors routeplan raises, each with a stable code, and the one body that answers them.

Every error the project answers is a :class:`RouteplanError`: a stable :class:`ErrorCode`, a
``message`` (one sentence) and ``details``, one record per problem, ``{field, value,
message}``: the field (``stops[3].time_windows[0]``), the value given (shortened) and why it
is wrong. :func:`error_body` turns any exception into that body ``{code, message,
details}``; the HTTP app, the job processes and the command line all answer with it.

No pydantic at import time: solvers raise :class:`SolverError` without loading it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self, TypeGuard

if TYPE_CHECKING:
    from pydantic import ValidationError


class ErrorCode(StrEnum):
    """The stable, machine-readable code of every error the project answers.

    Clients match on these values: a value is never renamed.
    """

    INVALID_INPUT = "invalid_input"  # input that cannot be used: details name each field
    LIMIT_EXCEEDED = "limit_exceeded"  # beyond a cap of this server (ROUTEPLAN_MAX_*)
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"  # the key's role does not grant this endpoint
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    QUEUE_FULL = "queue_full"  # too many jobs wait; retry later
    BUSY = "busy"  # every synchronous solve slot is taken; retry later
    JOB_NOT_FINISHED = "job_not_finished"  # no result yet
    JOB_FINISHED = "job_finished"  # too late to cancel
    JOB_CANCELLED = "job_cancelled"  # no result: the job was cancelled
    JOB_FAILED = "job_failed"  # no result: the job failed (also a failed job's own code)
    SOLVER_FAILURE = "solver_failure"  # a solver broke down
    STORE_UNAVAILABLE = "store_unavailable"  # the job store cannot be reached
    INTERNAL_ERROR = "internal_error"  # anything else: a bug
    # The order book:
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"  # a key replayed with a different body
    ORDER_EXISTS = "order_exists"  # the channel already has an order with this id
    AMBIGUOUS_ORDER = "ambiguous_order"  # the id names orders of several channels
    INVALID_TRANSITION = "invalid_transition"  # the lifecycle table does not allow it
    INSUFFICIENT_STOCK = "insufficient_stock"  # fewer units available than asked for
    STALE_PLAN = "stale_plan"  # stock or orders changed since the plan was made
    # Only in the ``error`` of a failed job:
    UNKNOWN_KIND = "unknown_kind"  # no handler for the job's kind
    WORKER_DIED = "worker_died"  # the job's process ended without an answer
    JOB_ABANDONED = "job_abandoned"  # its server stopped during every attempt


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as ``stops[3].time_windows[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(request)"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def detail(field: str, value: Any, message: str) -> dict[str, Any]:
    """One problem record: the field, the value given (shortened repr; None stays None), why."""
    return {"field": field, "value": None if value is None else _short(value), "message": message}


def detail_line(record: Mapping[str, Any]) -> str:
    """A problem record as one line of text: ``field = value: message``."""
    if record.get("value") is None or record["field"] == "(request)":
        return f"{record['field']}: {record['message']}"
    return f"{record['field']} = {record['value']}: {record['message']}"


def describe(error: ValidationError) -> list[dict[str, Any]]:
    """One record per problem: ``field``, ``value`` (shortened) and ``message``."""
    out = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        out.append(
            {
                "field": field_path(tuple(item["loc"])),
                "value": _short(item.get("input")),
                "message": message,
            }
        )
    return out


def describe_lines(error: ValidationError) -> list[str]:
    """The problems as lines of text, one each."""
    return [detail_line(d) for d in describe(error)]


def _restore(cls: type[RouteplanError], state: dict[str, Any]) -> RouteplanError:
    """Rebuild a pickled error whatever its constructor's signature."""
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class RouteplanError(Exception):
    """An error routeplan answers: a stable ``code``, a one-sentence ``message`` and
    ``details``, one ``{field, value, message}`` record per problem (maybe none)."""

    #: The code of every error of this class.
    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, details: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = [dict(d) for d in details or ()]

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self), dict(self.__dict__))

    def body(self) -> dict[str, Any]:
        """The error as ``{code, message, details}``."""
        return {
            "code": ErrorCode(self.code).value,
            "message": self.message,
            "details": [dict(d) for d in self.details],
        }


class InvalidInputError(RouteplanError, ValueError):
    """Input that cannot be used as given: invalid input, not a failure.

    ``details`` has one record per problem, ``{field, value, message}``, as
    :func:`describe` gives for validation errors.
    """

    code = ErrorCode.INVALID_INPUT

    @classmethod
    def for_field(cls, field: str, value: Any, why: str) -> Self:
        """One field's problem; the message reads ``field: value why``."""
        return cls(f"{field}: {value!r} {why}", [detail(field, value, why)])

    @classmethod
    def from_validation(cls, error: ValidationError, message: str | None = None) -> Self:
        """Wrap a pydantic validation error, keeping one record per invalid field."""
        n = error.error_count()
        return cls(
            message or f"the request is invalid ({n} problem{'s' * (n != 1)})", describe(error)
        )


class SolverError(RouteplanError, RuntimeError):
    """A solver broke down (finding no plan is not one: that is a result with reasons)."""

    code = ErrorCode.SOLVER_FAILURE


class StoreUnavailableError(RouteplanError):
    """The job store (its database) cannot be reached; retrying later may work."""

    code = ErrorCode.STORE_UNAVAILABLE

    def __init__(
        self,
        message: str = "the job store is unreachable; retry later",
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, details)


class QueueFullError(RouteplanError):
    """The job queue already holds as many jobs as allowed; retrying later may work."""

    code = ErrorCode.QUEUE_FULL

    def __init__(self, limit: int) -> None:
        super().__init__(f"the job queue is full ({limit} jobs waiting); retry later")
        self.limit = limit


class NotFoundError(RouteplanError, LookupError):
    """A thing named in the path (an order, a plan, a reservation) does not exist."""

    code = ErrorCode.NOT_FOUND


class ConflictError(RouteplanError):
    """The request cannot be done in the present state; ``code`` says why (a 409)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, details)
        self.code = code


class InvalidTransitionError(ConflictError):
    """The lifecycle table has no arrow from the order's state to the one asked for."""

    def __init__(self, order_id: str, current: str, requested: str, why: str = "") -> None:
        tail = f": {why}" if why else ""
        super().__init__(
            ErrorCode.INVALID_TRANSITION,
            f"order {order_id!r} is {current}; it cannot become {requested}{tail}",
            [{"field": "status", "value": current, "message": f"cannot become {requested}"}],
        )
        self.current = current
        self.requested = requested


def _is_validation_error(error: BaseException) -> TypeGuard[ValidationError]:
    """Whether ``error`` is pydantic's ``ValidationError`` (never one if pydantic is not
    loaded, so that asking does not import it)."""
    core = sys.modules.get("pydantic_core")
    return core is not None and isinstance(error, core.ValidationError)


def error_body(
    error: BaseException, *, unexpected: ErrorCode = ErrorCode.INTERNAL_ERROR
) -> dict[str, Any]:
    """The one error body ``{code, message, details}`` for any exception.

    A :class:`RouteplanError` gives its own code; a pydantic ``ValidationError`` is
    ``invalid_input`` with one detail per field; anything else is ``unexpected``
    (``internal_error``) with the message ``Type: text``.
    """
    if isinstance(error, RouteplanError):
        return error.body()
    if _is_validation_error(error):
        return InvalidInputError.from_validation(error).body()
    return {
        "code": ErrorCode(unexpected).value,
        "message": f"{type(error).__name__}: {error}",
        "details": [],
    }
