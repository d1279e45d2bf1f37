"""Errors the engine raises for input it cannot use."""

from __future__ import annotations


class InvalidRequestError(ValueError):
    """A request the engine cannot solve as given (invalid input, not a failure)."""


class SolverError(RuntimeError):
    """A solver broke down (finding no plan is not one: that is a result with reasons)."""
