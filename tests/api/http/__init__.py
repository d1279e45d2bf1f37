"""tests/api/http."""
