"""solvers/routing."""
