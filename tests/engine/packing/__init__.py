"""tests/engine/packing."""
