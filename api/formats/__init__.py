"""api/formats."""
