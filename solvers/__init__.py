"""routeplan: solvers."""
