"""tests/solvers/allocation."""
