"""Travel matrices: the provider interface and the providers, chosen from a request's spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.matrices.base import (
    DEFAULT_GRAPH_CACHE_DIR,
    MatrixError,
    MatrixProvider,
    TravelMatrices,
)
from engine.matrices.geometric import EuclideanProvider, HaversineProvider
from models.matrices import (
    EuclideanMatrix,
    ExplicitMatrix,
    HaversineMatrix,
    MatrixSpec,
    OsmMatrix,
    OsrmMatrix,
)

__all__ = [
    "DEFAULT_GRAPH_CACHE_DIR",
    "EuclideanProvider",
    "HaversineProvider",
    "MatrixError",
    "MatrixProvider",
    "TravelMatrices",
    "explicit_matrices",
    "provider_for",
]


def provider_for(spec: MatrixSpec | None, *, cache_dir: Path | None = None) -> MatrixProvider:
    """The provider that a (non-explicit) matrix spec asks for; haversine by default.

    ``cache_dir`` is where the ``osm`` provider keeps built road graphs (None:
    :data:`DEFAULT_GRAPH_CACHE_DIR`); the other providers ignore it.
    """
    if spec is None:
        return HaversineProvider()
    if isinstance(spec, HaversineMatrix):
        return HaversineProvider(speed_kmh=spec.speed_kmh, detour_factor=spec.detour_factor)
    if isinstance(spec, EuclideanMatrix):
        return EuclideanProvider(speed_mps=spec.speed_mps)
    if isinstance(spec, OsmMatrix):
        from engine.matrices.osm import OsmProvider  # late: pyosmium and the k-d tree

        return OsmProvider(
            osm_file=Path(spec.osm_file), max_snap_m=spec.max_snap_m, cache_dir=cache_dir
        )
    if isinstance(spec, OsrmMatrix):
        from engine.matrices.osrm import OsrmProvider

        return OsrmProvider(
            url=spec.url,
            profile=spec.profile,
            max_table_size=spec.max_table_size,
            timeout_s=spec.timeout_s,
            max_snap_m=spec.max_snap_m,
        )
    raise MatrixError(f"matrix.provider {spec.provider!r} does not build from coordinates")


def explicit_matrices(spec: ExplicitMatrix) -> TravelMatrices:
    """The caller's own matrices, validated; missing distances are zero."""
    durations = np.asarray(spec.durations_s, dtype=np.float64)
    if spec.distances_m is None:
        distances = np.zeros_like(durations)
    else:
        distances = np.asarray(spec.distances_m, dtype=np.float64)
    return TravelMatrices(distances_m=distances, durations_s=durations)
