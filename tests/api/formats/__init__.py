"""tests/api/formats."""
