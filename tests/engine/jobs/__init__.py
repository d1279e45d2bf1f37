"""tests/engine/jobs."""
