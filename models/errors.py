"""The errors routeplan raises, and messages that name the field, the value and why."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


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
    return [
        f"{d['field']}: {d['message']}"
        if d["field"] == "(request)"
        else f"{d['field']} = {d['value']}: {d['message']}"
        for d in describe(error)
    ]


class InvalidRequestError(ValueError):
    """A request the engine cannot solve as given (invalid input, not a failure)."""


class SolverError(RuntimeError):
    """A solver broke down (finding no plan is not one: that is a result with reasons)."""


class InvalidFieldsError(InvalidRequestError):
    """Well-formed input that cannot be used as given.

    ``details`` has one record per problem, ``{field, value, message}``, as
    :func:`models.errors.describe` gives for validation errors.
    """

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    @classmethod
    def from_validation(cls, error: ValidationError, message: str) -> InvalidFieldsError:
        """Wrap a pydantic validation error, keeping one record per invalid field."""
        return cls(message, describe(error))
