"""The ``osm`` matrix provider on the Monaco extract, and the car profile's tag rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.matrices import DEFAULT_GRAPH_CACHE_DIR, MatrixError, osm, provider_for
from engine.matrices.geometric import haversine_m
from engine.matrices.osm import OsmProvider
from engine.matrices.osm_graph import RoadGraph
from engine.matrices.osm_profile import node_rule, parse_maxspeed_kmh, way_speeds_kmh
from engine.routing.locations import resolve
from models.matrices import OsmMatrix
from models.routing import RoutingRequest

# Places in Monaco, [lon, lat]: Casino, Fontvieille, Larvotto, the port, the palace, Moneghetti.
MONACO = np.array(
    [
        [7.42780, 43.73940],
        [7.41900, 43.73140],
        [7.43480, 43.74570],
        [7.42330, 43.73580],
        [7.42040, 43.73150],
        [7.41570, 43.73590],
    ]
)


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("osm-graphs")


@pytest.fixture(scope="session")
def monaco(monaco_file: Path, graph_cache: Path) -> OsmProvider:
    """A provider whose graph is built once per session, in a temporary cache."""
    provider = OsmProvider(monaco_file, cache_dir=graph_cache, workers=1)
    provider.load()
    return provider


def _one_way_pair(graph: RoadGraph) -> tuple[np.ndarray, int]:
    """Two points 20% and 80% along a long segment of a one-way street, and the segment."""
    one_way = (graph.chain_fwd_ms >= 0) & (graph.chain_bwd_ms < 0)
    candidates = np.flatnonzero(one_way[graph.seg_chain] & (graph.seg_len_cm > 3000))
    seg = int(candidates[0])
    lon, lat = graph.seg_lon[seg], graph.seg_lat[seg]
    points = np.array(
        [
            [lon[0] + 0.2 * (lon[1] - lon[0]), lat[0] + 0.2 * (lat[1] - lat[0])],
            [lon[0] + 0.8 * (lon[1] - lon[0]), lat[0] + 0.8 * (lat[1] - lat[0])],
        ]
    )
    return points, seg


def test_road_distances_are_at_least_the_straight_line(monaco: OsmProvider) -> None:
    result = monaco.compute(MONACO)
    m = result.matrices
    snapped = np.stack([result.snap.lon, result.snap.lat], axis=1)
    straight = haversine_m(snapped)
    assert np.all(m.distances_m >= straight - 0.05)
    # and road trips are real: kilometres, minutes, at plausible city speeds
    off = ~np.eye(len(MONACO), dtype=bool)
    assert np.all(m.distances_m[off] > 100)
    speed_kmh = m.distances_m[off] / m.durations_s[off] * 3.6
    assert np.all((speed_kmh > 5) & (speed_kmh < 90))


def test_diagonal_is_zero_and_shape_matches(monaco: OsmProvider) -> None:
    m = monaco.matrices(MONACO)
    assert m.durations_s.shape == (6, 6)
    assert np.all(np.diag(m.durations_s) == 0)
    assert np.all(np.diag(m.distances_m) == 0)


def test_same_location_twice_gives_zero_cells(monaco: OsmProvider) -> None:
    points = np.vstack([MONACO[:2], MONACO[:1]])
    m = monaco.matrices(points)
    assert m.durations_s[0, 2] == 0 and m.durations_s[2, 0] == 0
    assert m.durations_s[2, 1] == m.durations_s[0, 1]


def test_one_way_street_gives_asymmetric_cells(monaco: OsmProvider) -> None:
    graph = monaco.load()
    points, seg = _one_way_pair(graph)
    m = monaco.matrices(points)
    # with the flow: straight along the street; against it: round the block
    assert m.distances_m[0, 1] == pytest.approx(0.6 * graph.seg_len_cm[seg] / 100, abs=0.05)
    assert m.distances_m[0, 1] < m.distances_m[1, 0]
    assert m.durations_s[0, 1] < m.durations_s[1, 0]


def test_snaps_to_the_segment_not_the_junction(monaco: OsmProvider) -> None:
    graph = monaco.load()
    points, _ = _one_way_pair(graph)
    snap = monaco.snap(points)
    assert np.all(snap.distance_m < 0.5)  # mid-segment points stay where they are
    assert snap.fraction[0] == pytest.approx(0.2, abs=1e-6)


def test_reported_snap_distance(monaco: OsmProvider) -> None:
    off_road = MONACO + np.array([0.0, 0.0003])  # ~33 m north: some land off the road
    result = monaco.compute(off_road)
    snapped = np.stack([result.snap.lon, result.snap.lat], axis=1)
    for i in range(len(off_road)):
        pair = haversine_m(np.vstack([off_road[i], snapped[i]]))[0, 1]
        assert result.snap.distance_m[i] == pytest.approx(pair, abs=0.01)
    assert np.all(result.snap.distance_m < 200)
    assert result.max_snap_m == pytest.approx(result.snap.distance_m.max())
    # the nearest road point is no farther than the original, unshifted snap target
    before = monaco.snap(MONACO)
    back = np.stack([before.lon, before.lat], axis=1)
    for i in range(len(off_road)):
        assert (
            result.snap.distance_m[i] <= haversine_m(np.vstack([off_road[i], back[i]]))[0, 1] + 1e-6
        )


def test_far_away_location_is_an_error_naming_it(monaco: OsmProvider) -> None:
    points = np.vstack([MONACO[:2], [[7.40, 43.60]]])  # 14 km out to sea
    with pytest.raises(MatrixError, match=r"location 2 = \[7\.4, 43\.6\] is \d+ m from the"):
        monaco.matrices(points)


def test_snap_limit_is_configurable(monaco_file: Path, graph_cache: Path) -> None:
    strict = OsmProvider(monaco_file, cache_dir=graph_cache, max_snap_m=5)
    with pytest.raises(MatrixError, match=r"location \d+ .* max_snap_m = 5 m"):
        strict.matrices(MONACO + np.array([0.0, 0.0005]))
    with pytest.raises(MatrixError, match="max_snap_m"):
        OsmProvider(monaco_file, max_snap_m=0)


def test_cache_is_reused(
    monaco: OsmProvider, monaco_file: Path, graph_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = list(graph_cache.glob("osm-car-*.npz"))
    assert len(cached) == 1

    def no_rebuild(osm_file: Path) -> None:
        raise AssertionError(f"{osm_file} was parsed again despite its cache")

    monkeypatch.setattr("engine.matrices.osm_graph.build_graph", no_rebuild)
    again = OsmProvider(monaco_file, cache_dir=graph_cache)
    again.load()
    result = again.compute(MONACO)
    assert result.graph_from_cache
    assert result.cache_path == str(cached[0])
    assert np.array_equal(result.matrices.durations_s, monaco.matrices(MONACO).durations_s)


def test_reduced_graph_gives_the_same_matrices(monaco: OsmProvider, monaco_file: Path) -> None:
    rng = np.random.default_rng(3)
    graph = monaco.load()
    segments = rng.choice(graph.seg_chain.shape[0], 120, replace=False)
    points = np.stack([graph.seg_lon[segments].mean(1), graph.seg_lat[segments].mean(1)], axis=1)
    reduced = monaco.matrices(points)
    plain = OsmProvider(monaco_file, cache_dir=monaco.cache_dir, reduce_graph=False, workers=1)
    full = plain.matrices(points)
    assert np.array_equal(reduced.durations_s, full.durations_s)
    assert np.array_equal(reduced.distances_m, full.distances_m)
    # two worker processes agree with one
    parallel = OsmProvider(monaco_file, cache_dir=monaco.cache_dir, workers=2)
    assert np.array_equal(parallel.matrices(points).durations_s, reduced.durations_s)
    # and somewhere in Monaco's one-way streets the matrix is not symmetric
    assert not np.allclose(reduced.durations_s, reduced.durations_s.T)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="does not exist"):
        OsmProvider(tmp_path / "nowhere.osm.pbf", cache_dir=tmp_path).matrices(MONACO)


def test_provider_for_osm_spec(monaco_file: Path) -> None:
    provider = provider_for(OsmMatrix(osm_file=str(monaco_file), max_snap_m=250))
    assert isinstance(provider, OsmProvider)
    assert provider.max_snap_m == 250


def _spy_on_cache_folders(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders that road graphs are looked up in, from now on."""
    folders: list[Path] = []
    real = osm.cached_graph

    def spy(osm_file: Path, cache_dir: Path) -> tuple[RoadGraph, bool, str]:
        folders.append(cache_dir)
        return real(osm_file, cache_dir)

    monkeypatch.setattr(osm, "cached_graph", spy)
    return folders


def test_routing_caches_road_graphs_in_the_folder_it_is_given(
    monaco_file: Path, graph_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = _spy_on_cache_folders(monkeypatch)
    request = RoutingRequest.model_validate(
        {
            "stops": [{"id": f"s{i}", "location": p} for i, p in enumerate(MONACO[1:].tolist())],
            "vehicles": [{"id": "van", "start": MONACO[0].tolist()}],
            "matrix": {"provider": "osm", "osm_file": str(monaco_file)},
        }
    )
    resolved = resolve(request, cache_dir=graph_cache)
    assert folders == [graph_cache]
    assert resolved.ticks.distance.shape == (len(MONACO), len(MONACO))


def test_without_a_folder_the_engine_default_is_used_not_the_settings(
    monaco_file: Path, graph_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = _spy_on_cache_folders(monkeypatch)
    monkeypatch.setattr(osm, "DEFAULT_GRAPH_CACHE_DIR", graph_cache)
    monkeypatch.setenv("ROUTEPLAN_CACHE_DIR", "/nonexistent/settings-cache")
    provider_for(OsmMatrix(osm_file=str(monaco_file))).matrices(MONACO[:2])
    assert folders == [graph_cache]
    assert Path("~/.cache/routeplan/osm-graphs") == DEFAULT_GRAPH_CACHE_DIR


# ---------------------------------------------------------------------------- profile rules


def test_highway_speeds_and_maxspeed() -> None:
    assert way_speeds_kmh({"highway": "residential"}) == (25, 25)
    assert way_speeds_kmh({"highway": "primary", "maxspeed": "50"}) == (40, 40)
    assert way_speeds_kmh({"highway": "primary", "maxspeed": "30 mph"}) == pytest.approx(
        (30 * 1.609344 * 0.8,) * 2
    )
    assert parse_maxspeed_kmh("PT:urban") == 50
    assert parse_maxspeed_kmh("signals") == 0
    assert way_speeds_kmh({"highway": "footway"}) is None
    assert way_speeds_kmh({"highway": "track", "motor_vehicle": "yes"}) == (10, 10)
    assert way_speeds_kmh({"highway": "residential", "surface": "cobblestone"}) == (25, 25)
    assert way_speeds_kmh({"highway": "primary", "surface": "cobblestone"}) == (30, 30)


def test_one_ways_and_roundabouts() -> None:
    assert way_speeds_kmh({"highway": "residential", "oneway": "yes"}) == (25, 0)
    assert way_speeds_kmh({"highway": "residential", "oneway": "-1"}) == (0, 25)
    assert way_speeds_kmh({"highway": "tertiary", "junction": "roundabout"}) == (40, 0)
    assert way_speeds_kmh({"highway": "motorway"}) == (90, 0)
    assert way_speeds_kmh({"highway": "motorway", "oneway": "no"}) == (90, 90)
    assert way_speeds_kmh({"highway": "residential", "oneway": "reversible"}) is None


def test_access_restrictions() -> None:
    assert way_speeds_kmh({"highway": "residential", "access": "no"}) is None
    assert way_speeds_kmh({"highway": "service", "access": "private"}) is None
    assert way_speeds_kmh({"highway": "residential", "motor_vehicle": "destination"}) == (25, 25)
    assert way_speeds_kmh({"highway": "residential", "access": "no", "motorcar": "yes"}) == (
        25,
        25,
    )
    assert way_speeds_kmh({"highway": "pedestrian", "motor_vehicle": "no"}) is None
    assert way_speeds_kmh({"highway": "residential", "area": "yes"}) is None
    assert node_rule({"barrier": "bollard"}) == (True, 0.0)
    assert node_rule({"barrier": "bollard", "motor_vehicle": "yes"}) == (False, 0.0)
    assert node_rule({"barrier": "gate"}) == (False, 60.0)
    assert node_rule({"barrier": "toll_booth"}) == (False, 0.0)
    assert node_rule({"highway": "traffic_signals"}) == (False, 2.0)
