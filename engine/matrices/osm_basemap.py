"""A light base map from a road graph: the roads in a box as GeoJSON lines, simplified.

The lines are runs of a chain's segments of one road class inside the box. They are
simplified to the box's scale: vertices are snapped to a grid of ``tolerance`` (the box's
larger side / :data:`GRID_CELLS`) and repeats in a row dropped, and pieces shorter than a grid
cell go. Big boxes show only the bigger roads, and when the answer would still be larger than
:data:`MAX_BYTES` the smallest class shown is dropped until it fits.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.matrices.osm_graph import EARTH_RADIUS_M, ROAD_CLASSES, RoadGraph, cached_graph

#: The largest box side, in degrees (a bigger box is refused: too much to draw).
MAX_BBOX_DEG = 0.5
#: The most bytes of JSON one answer may hold, as estimated from its vertices and lines.
MAX_BYTES = 1_000_000
#: Estimated JSON bytes per vertex and per line (a feature's own keys).
VERTEX_BYTES, LINE_BYTES = 22, 90
#: Grid cells along the box's larger side: the simplification's scale (about a screen pixel).
GRID_CELLS = 1000
#: Box sides in km above which minor classes are left out: beyond the first, only the
#: classes up to residential; beyond the second, up to tertiary.
MINOR_KM = (6.0, 20.0)

IntArray = npt.NDArray[np.int64]
BBox = tuple[float, float, float, float]


class BasemapError(ValueError):
    """A box that cannot be drawn; the message says why (and names the limit)."""


def check_bbox(bbox: BBox) -> None:
    """A :class:`BasemapError` when ``(min_lon, min_lat, max_lon, max_lat)`` is not a box."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if not all(math.isfinite(x) for x in bbox):
        raise BasemapError("every number must be finite")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise BasemapError("longitudes must be within [-180, 180]")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise BasemapError("latitudes must be within [-90, 90]")
    if not (min_lon < max_lon and min_lat < max_lat):
        raise BasemapError("min_lon must be below max_lon and min_lat below max_lat")
    if max_lon - min_lon > MAX_BBOX_DEG or max_lat - min_lat > MAX_BBOX_DEG:
        raise BasemapError(
            f"the box is {max_lon - min_lon:g} x {max_lat - min_lat:g} degrees: at most "
            f"{MAX_BBOX_DEG:g} degrees a side"
        )


def _side_km(bbox: BBox) -> float:
    """The box's larger side in km."""
    min_lon, min_lat, max_lon, max_lat = bbox
    mid = math.radians((min_lat + max_lat) / 2)
    km_per_deg = EARTH_RADIUS_M * math.pi / 180 / 1000
    return max((max_lon - min_lon) * math.cos(mid), max_lat - min_lat) * km_per_deg


def _runs(graph: RoadGraph, selected: IntArray) -> IntArray:
    """Start offsets (into ``selected``) of runs of consecutive segments of one chain and class."""
    if selected.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    cut = np.ones(selected.shape[0], dtype=bool)
    cut[1:] = (
        (np.diff(selected) != 1)
        | (graph.seg_chain[selected[1:]] != graph.seg_chain[selected[:-1]])
        | (graph.seg_class[selected[1:]] != graph.seg_class[selected[:-1]])
    )
    return np.flatnonzero(cut)


def _lines(
    graph: RoadGraph, selected: IntArray, tolerance: float
) -> tuple[list[npt.NDArray[np.float64]], list[int]]:
    """The simplified lines of the selected segments and each line's class code."""
    starts = _runs(graph, selected)
    if starts.shape[0] == 0:
        return [], []
    ends = np.append(starts[1:], selected.shape[0])  # one past each run's last segment
    last = selected[ends - 1]
    # a run's vertices: its segments' starts, then its last segment's end
    lon = np.insert(graph.seg_lon[selected, 0], ends, graph.seg_lon[last, 1])
    lat = np.insert(graph.seg_lat[selected, 0], ends, graph.seg_lat[last, 1])
    run_of = np.insert(
        np.repeat(np.arange(starts.shape[0]), ends - starts), ends, np.arange(starts.shape[0])
    )
    first = np.ones(lon.shape[0], dtype=bool)
    first[1:] = run_of[1:] != run_of[:-1]
    is_last = np.append(first[1:], True)
    cell = np.stack([np.round(lon / tolerance), np.round(lat / tolerance)], axis=1)
    keep = first | is_last
    keep[1:] |= np.any(cell[1:] != cell[:-1], axis=1)
    lon, lat, run_of, cell = lon[keep], lat[keep], run_of[keep], cell[keep]
    counts = np.bincount(run_of, minlength=starts.shape[0])
    bounds = np.cumsum(counts)
    head, tail = bounds - counts, bounds - 1
    # shorter than a grid cell: invisible at this scale
    tiny = (counts <= 2) & np.all(cell[head] == cell[tail], axis=1)
    points = np.stack([np.round(lon, 5), np.round(lat, 5)], axis=1)
    lines = np.split(points, bounds[:-1])
    codes = graph.seg_class[selected[starts]].tolist()
    kept = np.flatnonzero(~tiny).tolist()
    return [lines[k] for k in kept], [int(codes[k]) for k in kept]


def basemap(graph: RoadGraph, bbox: BBox) -> dict[str, Any]:
    """The roads of ``graph`` in ``bbox`` as a GeoJSON FeatureCollection of LineStrings, each
    with ``properties.class`` (a name of :data:`ROAD_CLASSES`)."""
    check_bbox(bbox)
    min_lon, min_lat, max_lon, max_lat = bbox
    lon, lat = graph.seg_lon, graph.seg_lat
    inside = (
        (lon.min(axis=1) <= max_lon)
        & (lon.max(axis=1) >= min_lon)
        & (lat.min(axis=1) <= max_lat)
        & (lat.max(axis=1) >= min_lat)
    )
    side_km = _side_km(bbox)
    top = len(ROAD_CLASSES) - 1
    if side_km > MINOR_KM[1]:
        top = ROAD_CLASSES.index("tertiary")
    elif side_km > MINOR_KM[0]:
        top = ROAD_CLASSES.index("residential")
    tolerance = max(max_lon - min_lon, max_lat - min_lat) / GRID_CELLS
    while True:
        selected = np.flatnonzero(inside & (graph.seg_class <= top)).astype(np.int64)
        lines, classes = _lines(graph, selected, tolerance)
        vertices = sum(line.shape[0] for line in lines)
        if vertices * VERTEX_BYTES + len(lines) * LINE_BYTES <= MAX_BYTES or top == 0:
            break
        top -= 1
    features = [
        {
            "type": "Feature",
            "properties": {"class": ROAD_CLASSES[code]},
            "geometry": {"type": "LineString", "coordinates": line.tolist()},
        }
        for line, code in zip(lines, classes, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "bbox": list(bbox),
        "classes": list(ROAD_CLASSES[: top + 1]),
        "tolerance_deg": tolerance,
        "features": features,
    }


_GRAPHS: dict[tuple[str, int, int], RoadGraph] = {}
_LOCK = threading.Lock()


def basemap_graph(osm_file: Path, cache_dir: Path) -> RoadGraph:
    """The road graph of ``osm_file`` (from the on-disk graph cache), kept in memory per file
    version so that later boxes cost no load."""
    stat = osm_file.stat()
    key = (str(osm_file.resolve()), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        graph = _GRAPHS.get(key)
        if graph is None:
            graph, _, _ = cached_graph(osm_file, cache_dir)
            _GRAPHS.clear()  # one extract per server
            _GRAPHS[key] = graph
    return graph
