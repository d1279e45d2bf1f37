"""An invalid-input error that names each field it concerns."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from engine.errors import InvalidRequestError
from models.errors import describe


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
