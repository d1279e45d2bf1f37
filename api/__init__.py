"""routeplan: api."""
