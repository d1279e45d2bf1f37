"""Returns (RMA) on the order book: their tables, lifecycle, store and pickups in plans."""
