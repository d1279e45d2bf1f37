"""tests/engine/plan."""
