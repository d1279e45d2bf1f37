"""tests/solvers/routing."""
