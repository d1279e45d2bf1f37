"""Closed-form providers: great-circle (haversine) and planar Euclidean distances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.matrices.base import MatrixError, TravelMatrices

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres between ``[lon, lat]`` rows (vectorised)."""
    lon = np.radians(points[:, 0])
    lat = np.radians(points[:, 1])
    dlat = lat[None, :] - lat[:, None]
    dlon = lon[None, :] - lon[:, None]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def euclidean_m(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Straight-line distances between ``[x, y]`` rows."""
    delta = points[:, None, :] - points[None, :, :]
    return np.sqrt(np.sum(delta * delta, axis=-1))


def _check_points(points: npt.NDArray[np.float64], geographic: bool) -> None:
    if points.ndim != 2 or points.shape[1] != 2:
        raise MatrixError(f"points must have shape (n, 2), got {points.shape}")
    bad = ~np.all(np.isfinite(points), axis=1)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise MatrixError(f"location {i} has non-finite coordinates {points[i].tolist()}")
    if geographic:
        lon_bad = np.abs(points[:, 0]) > 180
        lat_bad = np.abs(points[:, 1]) > 90
        if np.any(lon_bad | lat_bad):
            i = int(np.argmax(lon_bad | lat_bad))
            raise MatrixError(
                f"location {i} = {points[i].tolist()} is not [lon, lat]: "
                "lon must be within ±180 and lat within ±90"
            )


@dataclass(frozen=True)
class HaversineProvider:
    """Great-circle distance times a detour factor, driven at ``speed_kmh``."""

    speed_kmh: float = 40.0
    detour_factor: float = 1.0

    def matrices(self, points: npt.NDArray[np.float64]) -> TravelMatrices:
        """Distances and durations between ``[lon, lat]`` points."""
        _check_points(points, geographic=True)
        distances = haversine_m(points) * self.detour_factor
        return TravelMatrices(distances, distances / (self.speed_kmh / 3.6))


@dataclass(frozen=True)
class EuclideanProvider:
    """Planar distance between points in metres, at ``speed_mps``."""

    speed_mps: float = 1.0

    def matrices(self, points: npt.NDArray[np.float64]) -> TravelMatrices:
        """Distances and durations between ``[x, y]`` points."""
        _check_points(points, geographic=False)
        distances = euclidean_m(points)
        return TravelMatrices(distances, distances / self.speed_mps)
