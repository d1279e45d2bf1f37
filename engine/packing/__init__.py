"""engine/packing: cartonisation of shipments (validate, compile, solve, decode, evaluate)."""

from __future__ import annotations

from engine.packing.evaluate import evaluate_packing
from engine.packing.pack import pack

__all__ = ["evaluate_packing", "pack"]
