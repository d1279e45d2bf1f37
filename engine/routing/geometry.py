"""Routes' drawn paths (``options.geometry``): road paths with the ``osm`` provider, else the
straight lines between the steps' locations, as Google encoded polylines."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import polyline  # Google's encoded polyline format, as VROOM and OSRM give it

from models.matrices import ExplicitMatrix, OsmMatrix
from models.routing import Route, RoutingRequest, RoutingResult

#: Decimal digits of an encoded polyline (VROOM's and OSRM's default).
POLYLINE_PRECISION = 5


def encode_polyline(points: Iterable[Sequence[float]], precision: int = POLYLINE_PRECISION) -> str:
    """``[lon, lat]`` points as an encoded polyline (which stores lat, lon pairs)."""
    return str(polyline.encode([(p[0], p[1]) for p in points], precision, geojson=True))


def decode_polyline(text: str, precision: int = POLYLINE_PRECISION) -> list[tuple[float, float]]:
    """An encoded polyline's points as ``(lon, lat)``; ValueError when it is not one."""
    try:
        points = polyline.decode(text, precision, geojson=True)
    except (IndexError, ValueError, TypeError) as error:
        raise ValueError(f"not an encoded polyline ({type(error).__name__})") from None
    return [(float(lon), float(lat)) for lon, lat in points]


def _route_points(route: Route) -> list[tuple[float, float]]:
    """The route's step locations in order, repeats in a row dropped."""
    out: list[tuple[float, float]] = []
    for step in route.steps:
        if step.location is None:
            continue
        point = (float(step.location[0]), float(step.location[1]))
        if not out or out[-1] != point:
            out.append(point)
    return out


def add_geometry(
    request: RoutingRequest, result: RoutingResult, *, cache_dir: Path | None = None
) -> RoutingResult:
    """``result`` with each route's geometry, when ``request.options.geometry`` asks for it
    (in place; routes without located steps keep None)."""
    if not request.options.geometry or isinstance(request.matrix, ExplicitMatrix):
        return result
    lines = [_route_points(route) for route in result.routes]
    if isinstance(request.matrix, OsmMatrix):
        lines = _road_lines(request.matrix, lines, cache_dir)
    for route, line in zip(result.routes, lines, strict=True):
        if line:
            route.geometry = encode_polyline(line if len(line) > 1 else line * 2)
    return result


def _road_lines(
    spec: OsmMatrix, lines: list[list[tuple[float, float]]], cache_dir: Path | None
) -> list[list[tuple[float, float]]]:
    """Each line's legs replaced by their road paths (one Dijkstra per distinct source)."""
    rows: dict[tuple[float, float], int] = {}
    legs: list[tuple[int, int]] = []
    for line in lines:
        index = [rows.setdefault(point, len(rows)) for point in line]
        legs.extend(itertools.pairwise(index))
    if not legs:
        return lines
    from engine.matrices.osm import OsmProvider  # late: pyosmium and the k-d tree

    provider = OsmProvider(
        osm_file=Path(spec.osm_file), max_snap_m=spec.max_snap_m, cache_dir=cache_dir
    )
    paths = provider.leg_paths(np.asarray(list(rows), dtype=np.float64), np.asarray(legs))
    out: list[list[tuple[float, float]]] = []
    k = 0
    for line in lines:
        road: list[tuple[float, float]] = []
        for path in paths[k : k + max(len(line) - 1, 0)]:
            for lon, lat in path.tolist():
                if not road or road[-1] != (lon, lat):
                    road.append((lon, lat))
        k += max(len(line) - 1, 0)
        out.append(road if road else line)
    return out
