"""One error shape for every error the API answers: ``{code, message, details[]}``.

``code`` is a stable, machine-readable string (:class:`models.errors.ErrorCode`); ``message``
says what went wrong in a sentence; each of ``details`` names a ``field``
(``stops[3].time_windows[0]``), the ``value`` given (shortened) and why it is wrong.
:data:`STATUS` gives the HTTP status of each code; any other exception is a 500
``internal_error`` with a request id, its traceback logged, never sent.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.errors import ErrorCode, RouteplanError, error_body, field_path
from models.jobs import JOB_KINDS
from models.matrices import MatrixSpec

logger = logging.getLogger(__name__)

#: Seconds a client waits before it retries a call that found the database away.
STORE_RETRY_AFTER_S = 5

#: The HTTP status of each error code.
STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.LIMIT_EXCEEDED: 422,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.QUEUE_FULL: 429,
    ErrorCode.BUSY: 429,
    ErrorCode.JOB_NOT_FINISHED: 409,
    ErrorCode.JOB_FINISHED: 409,
    ErrorCode.JOB_CANCELLED: 409,
    ErrorCode.JOB_FAILED: 409,
    ErrorCode.SOLVER_FAILURE: 500,
    ErrorCode.STORE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.ORDER_EXISTS: 409,
    ErrorCode.AMBIGUOUS_ORDER: 409,
    ErrorCode.INVALID_TRANSITION: 409,
    ErrorCode.INSUFFICIENT_STOCK: 409,
    ErrorCode.STALE_PLAN: 409,
    # Codes of a failed job's own error; answered directly they are server failures.
    ErrorCode.UNKNOWN_KIND: 500,
    ErrorCode.WORKER_DIED: 500,
    ErrorCode.JOB_ABANDONED: 500,
}

#: The code of each status that Starlette answers itself (unknown paths, methods, ...).
_HTTP_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}

#: FastAPI's 400 for a body it cannot decode (not UTF-8, nested too deeply): answered as 422.
_BODY_NOT_PARSED = "There was an error parsing the body"

#: The tags of the matrix providers: pydantic puts them in paths after ``matrix``.
_MATRIX_TAGS = frozenset(
    m.model_fields["provider"].default for m in get_args(get_args(MatrixSpec)[0])
)

#: Where a request value came from, as FastAPI names it; dropped from field paths.
_SOURCES = {"body", "query", "path", "header", "cookie"}


class ErrorDetail(BaseModel):
    """One problem with the request; some errors add facts of their own (``available``,
    ``needed``, ``site_id``, ``sku`` for stock)."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="where: a path such as stops[3].time_windows[0]")
    value: str | None = Field(None, description="the value given, shortened")
    message: str = Field(description="why it is wrong")

    @field_validator("value", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else _short(value)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    code: str = Field(description="stable machine-readable code, e.g. invalid_input")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "invalid_input",
                    "message": "the request is invalid (1 problem)",
                    "details": [
                        {
                            "field": "stops[0].time_windows[0]",
                            "value": "[3600, 0]",
                            "message": "time window starts after it ends: "
                            "start_s=3600.0 > end_s=0.0",
                        }
                    ],
                }
            ]
        }
    }


class ApiError(RouteplanError):
    """An error of the HTTP layer, answered as ``ErrorResponse`` with ``status_code`` (the
    status of ``code`` in :data:`STATUS`) and ``headers``."""

    def __init__(
        self,
        status_code: int,
        code: ErrorCode | str,
        message: str,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, details)
        self.status_code = status_code
        self.code = ErrorCode(code)
        self.headers = headers


_DESCRIPTIONS = {
    400: "A malformed request",
    401: "Missing or wrong API key",
    403: "The API key's role does not allow this",
    404: "No such resource",
    409: "The resource's state does not allow this (the code says why: invalid_transition, "
    "insufficient_stock, stale_plan, idempotency_conflict, a job not finished...)",
    413: "The request body is too large",
    415: "The body's media type is not one this endpoint reads",
    422: "Invalid input: details name each field (a body that is not UTF-8 JSON included)",
    429: "The job queue is full; retry later",
    500: "A solver failed, or an unexpected error (with a request id)",
    503: "The database (jobs, the order book, database keys) is unreachable; see Retry-After",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries that document the error shape for these status codes, and
    for 500, which any endpoint may answer (``internal_error``, with a request id)."""
    return {
        code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]}
        for code in sorted({*status_codes, 500})
    }


def error_json(
    status_code: int,
    code: ErrorCode | str,
    message: str,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error response in the one shape."""
    body = ErrorResponse(code=str(code), message=message, details=list(details or []))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def error_response(error: BaseException) -> JSONResponse:
    """The response to a routeplan error or a pydantic ``ValidationError``: its body
    (:func:`models.errors.error_body`) with the status of its code."""
    body = error_body(error)
    status = getattr(error, "status_code", None) or STATUS[ErrorCode(body["code"])]
    headers = getattr(error, "headers", None)
    if body["code"] == ErrorCode.STORE_UNAVAILABLE and not headers:
        headers = {"Retry-After": str(STORE_RETRY_AFTER_S)}
    return error_json(status, body["code"], body["message"], body["details"], headers)


def internal_error_json(request_id: str) -> JSONResponse:
    """The 500 ``internal_error`` for an unexpected exception: the request id, no internals."""
    return error_json(
        500,
        ErrorCode.INTERNAL_ERROR,
        f"an unexpected error occurred (request id {request_id}); the server log has the details",
        headers={"X-Request-ID": request_id},
    )


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def request_error_details(
    error: RequestValidationError, tags: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """One detail per problem, with the field path as the client wrote it.

    ``tags`` are the tags of a discriminated union body (job kinds): pydantic puts the tag
    in the path (``routes.request.stops``), the client never wrote it.
    """
    details = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        if loc and loc[0] in _SOURCES:
            loc = loc[1:]
        if loc and loc[0] in tags:
            loc = loc[1:]
        loc = tuple(
            part
            for k, part in enumerate(loc)
            if not (k and loc[k - 1] == "matrix" and part in _MATRIX_TAGS)
        )
        if item.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, (item.get("ctx") or {}).get("discriminator", "kind").strip("'"))
        if item.get("type") == "json_invalid":
            position = loc[0] if loc else "?"
            reason = (item.get("ctx") or {}).get("error", "invalid JSON")
            details.append(
                {
                    "field": "(body)",
                    "value": None,
                    "message": f"malformed JSON at character {position}: {reason}",
                }
            )
            continue
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        details.append(
            {
                "field": field_path(loc),
                "value": None if "input" not in item else _short(item["input"]),
                "message": message,
            }
        )
    return details


async def _known_error(_request: Request, error: Exception) -> JSONResponse:
    return error_response(error)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    tags = JOB_KINDS if request.url.path.rstrip("/").endswith("/jobs") else frozenset()
    details = request_error_details(error, tags)
    if len(details) == 1 and details[0]["field"] == "(body)":
        message = "the request body is not valid JSON"
    else:
        message = f"the request is invalid ({len(details)} problem{'s' * (len(details) != 1)})"
    return error_json(422, ErrorCode.INVALID_INPUT, message, details)


def _unparsable_body(cause: BaseException | None) -> str:
    """Why a body that FastAPI could not parse (its 400) is not JSON, for the detail."""
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return f"the body is not valid UTF-8: byte 0x{byte} at position {cause.start}"
    if isinstance(cause, RecursionError):
        return "the JSON is nested too deeply to be read (at most about 1,000 levels)"
    return f"the body cannot be read as JSON ({type(cause).__name__ if cause else 'unknown'})"


def _allowed_methods(request: Request) -> str | None:
    """The methods the API documents at this path (Starlette names only those of the first
    route that matches it), for a 405's ``Allow`` header; a literal path (``/orders/import``)
    is its own resource, not an instance of ``/orders/{order_id}``."""
    path = request.url.path.rstrip("/") or "/"
    found: list[tuple[int, set[str]]] = []
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            found.append((template.count("{"), {method.upper() for method in operations}))
    if not found:
        return None
    fewest = min(params for params, _ in found)
    methods = set().union(*(ops for params, ops in found if params == fewest))
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and error.detail == _BODY_NOT_PARSED:
        why = _unparsable_body(error.__cause__)
        return error_json(
            422,
            ErrorCode.INVALID_INPUT,
            "the request body is not valid JSON",
            [{"field": "(body)", "value": None, "message": why}],
        )
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    message = str(error.detail)
    if error.status_code == 413:
        message = "the request body is larger than this server accepts (ROUTEPLAN_MAX_BODY_BYTES)"
    elif error.status_code == 404:
        message = "no such endpoint; the API is under /v1 (see /docs)"
    headers = error.headers
    if error.status_code == 405 and (allowed := _allowed_methods(request)):
        headers = {**(headers or {}), "Allow": allowed}
    return error_json(error.status_code, code, message, headers=headers)


class InternalErrorMiddleware:
    """500 ``internal_error`` for any exception no handler answers: the body and the
    ``X-Request-ID`` header carry a request id, and the traceback is logged with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            request_id = uuid.uuid4().hex
            logger.exception(
                "unexpected error answering %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
            )
            if started:  # too late for an error response: the server closes the connection
                raise
            await internal_error_json(request_id)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the one shape (the app adds :class:`InternalErrorMiddleware`
    for the exceptions none of these answers)."""
    app.add_exception_handler(RouteplanError, _known_error)
    app.add_exception_handler(ValidationError, _known_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
