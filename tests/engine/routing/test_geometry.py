"""Routes' geometry (``options.geometry``): only when asked; on the roads with the ``osm``
provider (from the depot along the roads back to it), straight lines otherwise; encoded as
Google's polyline algorithm specifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.matrices.osm import OsmProvider
from engine.matrices.osm_graph import haversine_pairs_m
from engine.routing.geometry import decode_polyline, encode_polyline
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest

# Monaco, [lon, lat]: the depot near the station, then the Casino, Larvotto, the port, the palace.
DEPOT = [7.41950, 43.73860]
STOPS = [[7.42780, 43.73940], [7.43480, 43.74570], [7.42330, 43.73580], [7.42040, 43.73150]]


def _request(matrix: dict[str, Any] | None, geometry: bool | None) -> RoutingRequest:
    options: dict[str, Any] = {"time_limit_s": 1.0, "solution_limit": 50}
    if geometry is not None:
        options["geometry"] = geometry
    body: dict[str, Any] = {
        "stops": [{"id": f"s{k}", "location": p} for k, p in enumerate(STOPS)],
        "vehicles": [{"id": "van", "start": DEPOT, "end": DEPOT}],
        "options": options,
    }
    if matrix is not None:
        body["matrix"] = matrix
    return RoutingRequest.model_validate(body)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two ``(lon, lat)`` points."""
    lon_a, lat_a, lon_b, lat_b = (np.array([x]) for x in (*a, *b))
    return float(haversine_pairs_m(lon_a, lat_a, lon_b, lat_b)[0])


def _length_m(points: list[tuple[float, float]]) -> float:
    return sum(haversine_m(points[k], points[k + 1]) for k in range(len(points) - 1))


def test_the_polyline_encoding_is_googles() -> None:
    """The example of Google's polyline documentation: lat/lon pairs, precision 5."""
    points = [(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)]
    assert encode_polyline(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@") == points
    with pytest.raises(ValueError):
        decode_polyline("_p~iF~ps|U_")


@pytest.mark.parametrize("geometry", [None, False])
def test_no_geometry_unless_asked(geometry: bool | None) -> None:
    result = solve_routes(_request(None, geometry))
    assert result.routes and all(route.geometry is None for route in result.routes)


def test_straight_legs_without_a_road_provider() -> None:
    result = solve_routes(_request(None, True))
    (route,) = result.routes
    assert route.geometry is not None
    points = decode_polyline(route.geometry)
    located = [tuple(s.location) for s in route.steps if s.location is not None]
    assert len(points) == len(located)
    for got, want in zip(points, located, strict=True):
        assert got == pytest.approx(want, abs=1e-5)


def test_road_geometry_with_the_osm_provider(monaco_file: Path, tmp_path: Path) -> None:
    osm_file = monaco_file
    matrix = {"provider": "osm", "osm_file": str(osm_file)}
    plain = solve_routes(_request(matrix, False), matrix_cache_dir=tmp_path)
    assert all(route.geometry is None for route in plain.routes)
    result = solve_routes(_request(matrix, True), matrix_cache_dir=tmp_path)
    (route,) = result.routes
    assert route.geometry is not None
    points = decode_polyline(route.geometry)
    # from the depot (its snapped point on the road) along the roads back to it
    assert haversine_m(points[0], tuple(DEPOT)) < 60
    assert haversine_m(points[-1], tuple(DEPOT)) < 60
    assert len(points) > 4 * len(route.steps), "road-shaped, not straight legs"
    assert _length_m(points) == pytest.approx(route.summary.distance_m, rel=0.02)
    # the path passes through every stop's snapped point
    snap = OsmProvider(osm_file, cache_dir=tmp_path).snap(
        np.array([s.location for s in route.steps])
    )
    for k, step in enumerate(route.steps):
        assert step.location is not None
        gaps = [haversine_m(p, (snap.lon[k], snap.lat[k])) for p in points]
        assert float(np.min(gaps)) < 1.5, step.id


def test_no_geometry_with_explicit_matrices() -> None:
    request = RoutingRequest.model_validate(
        {
            "stops": [{"id": "a", "location_index": 1}],
            "vehicles": [{"id": "van", "start_index": 0, "end_index": 0}],
            "matrix": {"provider": "explicit", "durations_s": [[0, 60], [60, 0]]},
            "options": {"time_limit_s": 1.0, "geometry": True},
        }
    )
    result = solve_routes(request)
    assert result.routes and result.routes[0].geometry is None
