"""Allocation pipeline: validate orders, compile to arrays, solve, decode, check, explain."""

from engine.allocation.allocate import allocate
from engine.allocation.evaluate import check_allocation

__all__ = ["allocate", "check_allocation"]
