"""tests/solvers/packing."""
