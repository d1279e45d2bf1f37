"""tests/engine/matrices."""
