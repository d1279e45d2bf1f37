"""Road-network matrices from an OSRM server's table service (``/table/v1``).

Large matrices are requested in blocks: OSRM refuses a table whose sources × destinations
exceed ``max_table_size``² (its ``--max-table-size``, 100 by default), so blocks are at most
``max_table_size`` sources by ``max_table_size`` destinations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
import numpy as np
import numpy.typing as npt

from engine.matrices.base import MatrixError, TravelMatrices
from engine.matrices.geometric import _check_points

FloatArray = npt.NDArray[np.float64]


class OsrmError(MatrixError):
    """The OSRM server could not be reached, refused the request, or found no route."""


@dataclass(frozen=True)
class OsrmProvider:
    """Durations and distances from an OSRM server at ``url`` (e.g. ``http://127.0.0.1:5000``).

    ``max_snap_m``: a location farther than this from the road OSRM snapped it to is an error
    (None to accept any snap).
    """

    url: str
    profile: str = "driving"
    max_table_size: int = 100
    timeout_s: float = 30.0
    max_snap_m: float | None = 500.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise MatrixError(f"url {self.url!r}: must start with http:// or https://")
        if self.max_table_size < 1:
            raise MatrixError(f"max_table_size = {self.max_table_size}: must be at least 1")

    def matrices(self, points: FloatArray) -> TravelMatrices:
        """Driving durations and distances between every ordered pair of ``[lon, lat]`` rows."""
        points = np.asarray(points, dtype=np.float64)
        _check_points(points, geographic=True)
        n = points.shape[0]
        durations = np.zeros((n, n))
        distances = np.zeros((n, n))
        block = self.max_table_size
        with httpx.Client(timeout=self.timeout_s) as client:
            for row in range(0, n, block):
                sources = np.arange(row, min(row + block, n))
                for col in range(0, n, block):
                    targets = np.arange(col, min(col + block, n))
                    self._block(client, points, sources, targets, durations, distances)
        np.fill_diagonal(durations, 0.0)
        np.fill_diagonal(distances, 0.0)
        return TravelMatrices(distances_m=distances, durations_s=durations)

    def _block(
        self,
        client: httpx.Client,
        points: FloatArray,
        sources: npt.NDArray[np.int64],
        targets: npt.NDArray[np.int64],
        durations: FloatArray,
        distances: FloatArray,
    ) -> None:
        """Fill ``durations[sources][:, targets]`` (and distances) from one table request."""
        locations = np.unique(np.concatenate([sources, targets]))
        local = {int(index): k for k, index in enumerate(locations)}
        coordinates = ";".join(f"{points[i, 0]:.6f},{points[i, 1]:.6f}" for i in locations)
        url = f"{self.url.rstrip('/')}/table/v1/{self.profile}/{coordinates}"
        params = {
            "sources": ";".join(str(local[int(i)]) for i in sources),
            "destinations": ";".join(str(local[int(i)]) for i in targets),
            "annotations": "duration,distance",
        }
        try:
            response = client.get(url, params=params)
        except httpx.TimeoutException as error:
            raise OsrmError(
                f"OSRM server at {self.url} did not answer within timeout_s = {self.timeout_s} s"
            ) from error
        except httpx.HTTPError as error:
            raise OsrmError(f"OSRM server at {self.url} is unreachable: {error}") from error
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("code") if isinstance(body, dict) else None
        if response.status_code != 200 or code != "Ok":
            message = body.get("message", response.text[:200]) if isinstance(body, dict) else ""
            hint = (
                f"; the server's --max-table-size is below max_table_size = {self.max_table_size}"
                if code == "TooBig"
                else ""
            )
            raise OsrmError(
                f"OSRM server at {self.url} refused the table request "
                f"(HTTP {response.status_code}, code {code!r}: {message}){hint}"
            )
        self._check_snaps(points, sources, body.get("sources", []))
        self._check_snaps(points, targets, body.get("destinations", []))
        for name, out in (("durations", durations), ("distances", distances)):
            values = body.get(name)
            if values is None:
                raise OsrmError(f"OSRM server at {self.url} returned no {name}")
            cells = np.array([[math.nan if v is None else float(v) for v in row] for row in values])
            if cells.shape != (sources.shape[0], targets.shape[0]):
                raise OsrmError(
                    f"OSRM server at {self.url} returned {name} of shape {cells.shape}, "
                    f"expected {(sources.shape[0], targets.shape[0])}"
                )
            if np.isnan(cells).any():
                i, j = np.argwhere(np.isnan(cells))[0]
                a, b = int(sources[i]), int(targets[j])
                raise OsrmError(
                    f"OSRM found no route from location {a} {points[a].tolist()} to location "
                    f"{b} {points[b].tolist()} ({name} cell is null)"
                )
            out[np.ix_(sources, targets)] = cells

    def _check_snaps(
        self, points: FloatArray, indices: npt.NDArray[np.int64], waypoints: list[dict]
    ) -> None:
        """A location that OSRM snapped farther than ``max_snap_m`` is an error."""
        if self.max_snap_m is None:
            return
        for index, waypoint in zip(indices, waypoints, strict=False):
            distance = waypoint.get("distance")
            if distance is not None and distance > self.max_snap_m:
                i = int(index)
                raise OsrmError(
                    f"location {i} = {points[i].tolist()} is {distance:.0f} m from the nearest "
                    f"road known to the OSRM server, more than max_snap_m = {self.max_snap_m:g} m"
                )
