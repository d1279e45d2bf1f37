"""tests/engine/db."""
