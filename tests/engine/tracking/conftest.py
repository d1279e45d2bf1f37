"""Tracking's fixtures: dispatch's store on each backend (an empty book of its own)."""

from __future__ import annotations

from tests.engine.dispatch.conftest import store

__all__ = ["store"]
