"""The matrix-provider interface: points in, distance and duration matrices out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from models.errors import InvalidInputError, detail

#: Where the ``osm`` provider caches built road graphs when its caller names no folder (the
#: API's ``cache_dir`` setting passes its own; ``~`` is expanded when the folder is used).
DEFAULT_GRAPH_CACHE_DIR = Path("~/.cache/routeplan/osm-graphs")


class MatrixError(InvalidInputError):
    """A matrix could not be built from the given points or data (invalid input).

    Without ``details`` the one problem is the field ``matrix``.
    """

    def __init__(self, message: str, details: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(message, details or [detail("matrix", None, message)])


@dataclass(frozen=True)
class TravelMatrices:
    """Square travel matrices over the same locations: ``[i, j]`` is from i to j."""

    distances_m: npt.NDArray[np.float64]
    durations_s: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        for name in ("distances_m", "durations_s"):
            matrix = getattr(self, name)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise MatrixError(f"{name} must be square, got shape {matrix.shape}")
            if not np.all(np.isfinite(matrix)):
                i, j = np.argwhere(~np.isfinite(matrix))[0]
                raise MatrixError(f"{name}[{i}][{j}] = {matrix[i, j]} is not finite")
            if np.any(matrix < 0):
                i, j = np.argwhere(matrix < 0)[0]
                raise MatrixError(f"{name}[{i}][{j}] = {matrix[i, j]} is negative")
        if self.distances_m.shape != self.durations_s.shape:
            raise MatrixError(
                f"distances_m {self.distances_m.shape} and durations_s "
                f"{self.durations_s.shape} differ in size"
            )

    @property
    def size(self) -> int:
        """Number of locations covered."""
        return int(self.durations_s.shape[0])


class MatrixProvider(Protocol):
    """Builds travel matrices between points (``[lon, lat]`` or ``[x, y]`` rows)."""

    def matrices(self, points: npt.NDArray[np.float64]) -> TravelMatrices:
        """Distances and durations between every ordered pair of ``points``."""
        ...
