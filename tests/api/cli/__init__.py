"""tests/api/cli."""
