"""routeplan: engine."""
