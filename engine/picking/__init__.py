"""Pick and pack: a committed plan's pick lists, cartons, labels and the marks that move its
orders from ``allocated`` through ``picking`` to ``packed``."""
