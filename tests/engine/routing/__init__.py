"""tests/engine/routing."""
