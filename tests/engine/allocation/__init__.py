"""tests/engine/allocation."""
