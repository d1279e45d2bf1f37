"""routeplan: benchmarks."""
