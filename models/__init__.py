"""routeplan: models."""
