"""Where every stop and vehicle is, as rows of the travel matrices, and those matrices."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.matrices import TravelMatrices, explicit_matrices, provider_for
from engine.matrices.geometric import EARTH_RADIUS_M
from engine.units import to_distance_ticks, to_time_ticks, travel_time_ticks
from models.errors import InvalidInputError, detail
from models.matrices import ExplicitMatrix
from models.routing import RoutingRequest, Task

#: Row index meaning "no fixed place" (an open route's missing start or end).
NO_LOCATION = -1


@dataclass(frozen=True)
class LocationTable:
    """Matrix rows of each task (stop or shipment end) and each vehicle's start and end
    (``NO_LOCATION`` if open)."""

    stop_location: npt.NDArray[np.int64]
    vehicle_start: npt.NDArray[np.int64]
    vehicle_end: npt.NDArray[np.int64]
    points: npt.NDArray[np.float64] | None
    #: Rows of each vehicle's reload places (empty arrays: none).
    vehicle_reloads: tuple[npt.NDArray[np.int64], ...] = ()

    def reload_rows(self, vehicle: int) -> npt.NDArray[np.int64]:
        """The rows of one vehicle's reload places."""
        if not self.vehicle_reloads:
            return np.zeros(0, dtype=np.int64)
        return self.vehicle_reloads[vehicle]

    @classmethod
    def from_request(cls, request: RoutingRequest) -> LocationTable:
        """Rows for a request: its own indices with explicit matrices, else unique coordinates."""
        if isinstance(request.matrix, ExplicitMatrix):
            stops = [s.location_index for s in request.tasks()]
            starts = [
                NO_LOCATION if v.start_index is None else v.start_index for v in request.vehicles
            ]
            ends = [NO_LOCATION if v.end_index is None else v.end_index for v in request.vehicles]
            reloads = tuple(_ints(v.reload_indices) for v in request.vehicles)
            return cls(_ints(stops), _ints(starts), _ints(ends), None, reloads)
        rows: dict[tuple[float, float], int] = {}

        def row(point: tuple[float, float] | None) -> int:
            if point is None:
                return NO_LOCATION
            return rows.setdefault((float(point[0]), float(point[1])), len(rows))

        stops = [row(s.location) for s in request.tasks()]
        starts = [row(v.start) for v in request.vehicles]
        ends = [row(v.end) for v in request.vehicles]
        reloads = tuple(_ints([row(p) for p in v.reload_locations]) for v in request.vehicles)
        points = np.asarray(list(rows), dtype=np.float64).reshape(-1, 2)
        return cls(_ints(stops), _ints(starts), _ints(ends), points, reloads)


def _ints(values: Sequence[int | None]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)


def build_matrices(
    request: RoutingRequest, table: LocationTable, *, cache_dir: Path | None = None
) -> TravelMatrices:
    """The travel matrices over the table's rows, from the request's matrix spec.

    ``cache_dir``: where road graphs are cached (see :func:`engine.matrices.provider_for`).
    """
    if isinstance(request.matrix, ExplicitMatrix):
        return explicit_matrices(request.matrix)
    assert table.points is not None
    if len(table.points) == 0:
        empty = np.zeros((0, 0))
        return TravelMatrices(empty, empty.copy())
    return provider_for(request.matrix, cache_dir=cache_dir).matrices(table.points)


@dataclass(frozen=True)
class TickMatrices:
    """Travel matrices rounded to solver ticks, with one time matrix per speed factor.

    Both the solve and the evaluation read these, so they see identical numbers.
    """

    distance: npt.NDArray[np.int64]
    base_time: npt.NDArray[np.int64]
    by_speed: dict[float, npt.NDArray[np.int64]]

    @classmethod
    def from_matrices(cls, matrices: TravelMatrices, speed_factors: list[float]) -> TickMatrices:
        """Round once to ticks, then derive each speed factor's travel times."""
        distance = to_distance_ticks(matrices.distances_m)
        base = to_time_ticks(matrices.durations_s)
        by_speed = {f: travel_time_ticks(base, f) for f in sorted(set(speed_factors))}
        return cls(distance, base, by_speed)

    def time(self, speed_factor: float) -> npt.NDArray[np.int64]:
        """Travel-time ticks for a vehicle with this speed factor."""
        if speed_factor not in self.by_speed:
            self.by_speed[speed_factor] = travel_time_ticks(self.base_time, speed_factor)
        return self.by_speed[speed_factor]


@dataclass(frozen=True)
class ResolvedRequest:
    """A request with its location rows and tick matrices: what compile and evaluate share."""

    request: RoutingRequest
    table: LocationTable
    ticks: TickMatrices
    matrix_s: float
    tasks: list[Task]


def resolve(
    request: RoutingRequest,
    matrices: TravelMatrices | None = None,
    *,
    cache_dir: Path | None = None,
) -> ResolvedRequest:
    """Locate everything and build (or take) the travel matrices, rounded to ticks.

    ``cache_dir``: where road graphs are cached when the matrices are built from an OSM
    extract (None: :data:`engine.matrices.DEFAULT_GRAPH_CACHE_DIR`). A stop far from every
    other place is invalid input (:func:`check_isolated_stops`), once the matrix provider
    has accepted every location (so coordinates out of range are named as such first).
    """
    began = time.perf_counter()
    table = LocationTable.from_request(request)
    if matrices is None:
        matrices = build_matrices(request, table, cache_dir=cache_dir)
        check_isolated_stops(request)
    ticks = TickMatrices.from_matrices(matrices, [v.speed_factor for v in request.vehicles])
    return ResolvedRequest(request, table, ticks, time.perf_counter() - began, request.tasks())


#: A stop farther than this from every other place of its request is reported as isolated.
MAX_ISOLATION_M = 500_000.0
#: Isolated stops named in one error (the count covers the rest).
_ISOLATED_SHOWN = 20


def check_isolated_stops(request: RoutingRequest, max_distance_m: float = MAX_ISOLATION_M) -> None:
    """Refuse stops far from every other place of a geographic request: invalid input.

    A stop (or shipment end) whose nearest other location, any vehicle start or end or any
    other stop, is more than ``max_distance_m`` away is almost always a mistake, most often
    latitude and longitude swapped; the solver would only leave it out later as
    ``time_window_unreachable``. Checked for coordinates (haversine, OSM and OSRM matrices;
    not euclidean or explicit ones) and only when the request has two locations or more.
    Each detail names ``stops[i].location`` (or ``shipments[i].pickup``/``.delivery``), the
    coordinates, the distance and the hint "lat/lon swapped?".
    """
    from scipy.spatial import cKDTree  # a spatial index: nearest neighbours in O(n log n)

    matrix = request.matrix
    if matrix is not None and matrix.provider in ("euclidean", "explicit"):
        return
    places: list[tuple[str, str, tuple[float, float]]] = []  # field, id, (lon, lat)
    for i, stop in enumerate(request.stops):
        if stop.location is not None:
            places.append((f"stops[{i}].location", str(stop.id), stop.location))
    for i, shipment in enumerate(request.shipments):
        for end, step in (("pickup", shipment.pickup), ("delivery", shipment.delivery)):
            if step.location is not None:
                places.append((f"shipments[{i}].{end}.location", str(step.id), step.location))
    visits = len(places)
    for vehicle in request.vehicles:
        places += [("", "", p) for p in (vehicle.start, vehicle.end) if p is not None]
    points = np.radians(np.asarray([p[2] for p in places], dtype=np.float64).reshape(-1, 2))
    unique, counts = np.unique(points, axis=0, return_counts=True)
    if len(unique) < 2 or visits == 0:
        return
    lon, lat = unique[:, 0], unique[:, 1]
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    chord, _ = cKDTree(xyz).query(xyz, k=2)
    nearest_m = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord[:, 1] / 2, 0.0, 1.0))
    isolated = {
        (float(p[0]), float(p[1])): float(d)
        for p, d, n in zip(unique, nearest_m, counts, strict=True)
        if d > max_distance_m and n == 1
    }
    problems = []
    for field, ident, point in places[:visits]:
        key = (float(np.radians(point[0])), float(np.radians(point[1])))
        if key in isolated:
            why = (
                f"stop {ident!r} at lon {point[0]}, lat {point[1]} is "
                f"{isolated[key] / 1000:,.0f} km from every other stop and vehicle "
                f"(more than {max_distance_m / 1000:,.0f} km): lat/lon swapped?"
            )
            problems.append(detail(field, list(point), why))
    if len(problems) == 1:
        raise InvalidInputError(f"{problems[0]['field']}: {problems[0]['message']}", problems)
    if problems:
        more = len(problems) - _ISOLATED_SHOWN
        message = f"{len(problems)} stops are far from all others (lat/lon swapped?)"
        if more > 0:
            problems = [*problems[:_ISOLATED_SHOWN], detail("stops", None, f"and {more} more")]
        raise InvalidInputError(message, problems)
