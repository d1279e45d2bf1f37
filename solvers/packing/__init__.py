"""solvers/packing: cartonisation of a shipment's units (CP-SAT bin packing, ``pack_bins``)."""
