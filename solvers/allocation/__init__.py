"""solvers/allocation."""
