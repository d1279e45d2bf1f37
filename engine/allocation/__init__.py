"""Allocation pipeline: validate orders, compile to arrays, solve, decode, check, explain."""

from engine.allocation.allocate import allocate
from engine.allocation.evaluate import evaluate_allocation

__all__ = ["allocate", "evaluate_allocation"]
