"""One error shape for every error the API answers: ``{code, message, details[]}``.

``code`` is a stable, machine-readable string; ``message`` says what went wrong in a
sentence; each of ``details`` names a ``field`` (``stops[3].time_windows[0]``), the
``value`` given (shortened) and why it is wrong.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.allocation.validate import AllocationInputError
from engine.matrices import MatrixError
from models.errors import InvalidRequestError, SolverError, field_path
from models.jobs import JOB_KINDS

#: Where a request value came from, as FastAPI names it; dropped from field paths.
_SOURCES = {"body", "query", "path", "header", "cookie"}


class ErrorDetail(BaseModel):
    """One problem with the request."""

    field: str = Field(description="where: a path such as stops[3].time_windows[0]")
    value: str | None = Field(None, description="the value given, shortened")
    message: str = Field(description="why it is wrong")


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


class ApiError(Exception):
    """An error answered as ``ErrorResponse`` with ``status_code``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


_DESCRIPTIONS = {
    401: "Missing or wrong API key",
    404: "No such resource",
    409: "The job is not in a state that allows this",
    413: "The request body is too large",
    422: "Invalid input: details name each field",
    429: "The job queue is full; retry later",
    503: "The job store is unreachable",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries that document the error shape for these status codes."""
    return {
        code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in status_codes
    }


def error_json(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error response in the one shape."""
    body = ErrorResponse(code=code, message=message, details=details or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


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


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_json(error.status_code, error.code, error.message, error.details, error.headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    tags = JOB_KINDS if request.url.path.rstrip("/").endswith("/jobs") else frozenset()
    details = request_error_details(error, tags)
    if len(details) == 1 and details[0]["field"] == "(body)":
        message = "the request body is not valid JSON"
    else:
        message = f"the request is invalid ({len(details)} problem{'s' * (len(details) != 1)})"
    return error_json(422, "invalid_input", message, details)


async def _allocation_input(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AllocationInputError)
    detail = {"field": error.field, "value": _short(error.value), "message": error.why}
    return error_json(422, "invalid_input", str(error), [detail])


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    details = list(getattr(error, "details", []))
    if not details and isinstance(error, MatrixError):
        details = [{"field": "matrix", "value": None, "message": str(error)}]
    return error_json(422, "invalid_input", str(error), details)


async def _solver_error(_request: Request, error: Exception) -> JSONResponse:
    return error_json(500, "solver_failure", str(error))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    message = str(error.detail)
    if error.status_code == 413:
        message = "the request body is larger than this server accepts (ROUTEPLAN_MAX_BODY_BYTES)"
    elif error.status_code == 404:
        message = "no such endpoint; the API is under /v1 (see /docs)"
    return error_json(error.status_code, code, message, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidRequestError, _invalid_request)
    app.add_exception_handler(AllocationInputError, _allocation_input)
    app.add_exception_handler(SolverError, _solver_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
