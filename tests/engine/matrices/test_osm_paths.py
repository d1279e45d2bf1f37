"""Road paths of the ``osm`` provider on the Monaco extract: each leg's path starts and ends at
the snapped points, walks only along the graph's segments (in directions a car may drive), and
is the route the matrices priced: its length and duration, summed here from the segments it
uses, are the matrix cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.matrices.osm import OsmProvider
from engine.matrices.osm_graph import ROAD_CLASSES, RoadGraph, haversine_pairs_m

# [lon, lat]: Casino, Fontvieille, Larvotto, the port, the palace, Moneghetti, the station.
MONACO = np.array(
    [
        [7.42780, 43.73940],
        [7.41900, 43.73140],
        [7.43480, 43.74570],
        [7.42330, 43.73580],
        [7.42040, 43.73150],
        [7.41570, 43.73590],
        [7.41950, 43.73860],
    ]
)
ALL_LEGS = np.array([(i, j) for i in range(len(MONACO)) for j in range(len(MONACO))])


@pytest.fixture(scope="module")
def monaco(monaco_file: Path, tmp_path_factory: pytest.TempPathFactory) -> OsmProvider:
    provider = OsmProvider(monaco_file, cache_dir=tmp_path_factory.mktemp("graphs"), workers=1)
    provider.load()
    return provider


Key = tuple[float, float]


def _key(lon: float, lat: float) -> Key:
    return (round(lon, 9), round(lat, 9))


def _segments_by_ends(graph: RoadGraph) -> dict[tuple[Key, Key], list[int]]:
    """Every segment under its (start, end) and (end, start); the sign tells the direction
    (segment s as s + 1 driven forward, -(s + 1) backward)."""
    out: dict[tuple[Key, Key], list[int]] = {}
    for s in range(graph.seg_lon.shape[0]):
        a = _key(graph.seg_lon[s, 0], graph.seg_lat[s, 0])
        b = _key(graph.seg_lon[s, 1], graph.seg_lat[s, 1])
        out.setdefault((a, b), []).append(s + 1)
        out.setdefault((b, a), []).append(-(s + 1))
    return out


def _leg_duration_s(
    graph: RoadGraph,
    ends: dict[tuple[Key, Key], list[int]],
    path: np.ndarray,
    snapped_segments: tuple[int, int],
) -> float:
    """The path's driving time summed over the segments it uses: whole segments between
    vertices, a share (by length) of the snapped segments at the ends. Fails on a step along
    no segment, or against a closed direction."""
    total_ms = 0.0
    for k in range(path.shape[0] - 1):
        p, q = _key(*path[k]), _key(*path[k + 1])
        options = []
        for signed in ends.get((p, q), []):
            s = abs(signed) - 1
            ms = graph.seg_fwd_ms[s] if signed > 0 else graph.seg_bwd_ms[s]
            if ms >= 0:
                options.append(float(ms))
        if not options:  # a part of a snapped segment, at the start or the end
            share = []
            for s in snapped_segments:
                a = np.array([graph.seg_lon[s, 0], graph.seg_lat[s, 0]])
                b = np.array([graph.seg_lon[s, 1], graph.seg_lat[s, 1]])
                full = haversine_pairs_m(*[np.array([x]) for x in (*a, *b)])[0]
                part = haversine_pairs_m(*[np.array([x]) for x in (*path[k], *path[k + 1])])[0]
                forward = np.dot(b - a, path[k + 1] - path[k]) >= 0
                ms = graph.seg_fwd_ms[s] if forward else graph.seg_bwd_ms[s]
                on_line = _on_segment(a, b, path[k]) and _on_segment(a, b, path[k + 1])
                if on_line and ms >= 0 and full > 0:
                    share.append(float(ms) * part / full)
            assert share, f"step {k} of the path, {p} -> {q}, is along no drivable segment"
            options = share
        total_ms += min(options)
    return total_ms / 1000.0


def _on_segment(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> bool:
    """Whether ``p`` is on the straight piece a-b (to a few centimetres)."""
    ab, ap = b - a, p - a
    t = float(np.dot(ap, ab) / max(np.dot(ab, ab), 1e-18))
    gap = ap - min(max(t, 0.0), 1.0) * ab
    return -1e-9 <= t <= 1 + 1e-9 and float(np.hypot(*gap)) < 1e-6


def _length_m(path: np.ndarray) -> float:
    return float(haversine_pairs_m(path[:-1, 0], path[:-1, 1], path[1:, 0], path[1:, 1]).sum())


def test_paths_start_and_end_at_the_snapped_points(monaco: OsmProvider) -> None:
    snap = monaco.snap(MONACO)
    paths = monaco.leg_paths(MONACO, ALL_LEGS)
    assert len(paths) == len(ALL_LEGS)
    for (i, j), path in zip(ALL_LEGS, paths, strict=True):
        assert path.shape[1] == 2 and path.shape[0] >= 2
        assert path[0] == pytest.approx([snap.lon[i], snap.lat[i]], abs=1e-9)
        assert path[-1] == pytest.approx([snap.lon[j], snap.lat[j]], abs=1e-9)


def test_path_lengths_are_the_matrix_distances(monaco: OsmProvider) -> None:
    distances = monaco.matrices(MONACO).distances_m
    paths = monaco.leg_paths(MONACO, ALL_LEGS)
    for (i, j), path in zip(ALL_LEGS, paths, strict=True):
        assert _length_m(path) == pytest.approx(distances[i, j], abs=1.0), (i, j)
        if i != j:
            assert path.shape[0] > 5, "a road path of a few km has more than a few vertices"


def test_paths_follow_drivable_segments_and_take_the_matrix_durations(
    monaco: OsmProvider,
) -> None:
    graph = monaco.load()
    ends = _segments_by_ends(graph)
    snap = monaco.snap(MONACO)
    durations = monaco.matrices(MONACO).durations_s
    paths = monaco.leg_paths(MONACO, ALL_LEGS)
    for (i, j), path in zip(ALL_LEGS, paths, strict=True):
        if i == j:
            continue
        segments = (int(snap.segment[i]), int(snap.segment[j]))
        duration = _leg_duration_s(graph, ends, path, segments)
        assert duration == pytest.approx(durations[i, j], abs=1.0), (i, j)


def test_a_leg_between_one_place_is_that_point(monaco: OsmProvider) -> None:
    points = np.array([MONACO[0], MONACO[0] + 1e-12, MONACO[1]])
    paths = monaco.leg_paths(points, np.array([[0, 1], [1, 1], [0, 2]]))
    assert paths[0].shape == (2, 2) and _length_m(paths[0]) < 1e-6
    assert paths[1].shape == (2, 2)
    assert _length_m(paths[2]) > 100


def test_segments_keep_their_road_class(monaco: OsmProvider) -> None:
    graph = monaco.load()
    assert graph.seg_class.shape == graph.seg_len_cm.shape
    present = {ROAD_CLASSES[c] for c in np.unique(graph.seg_class).tolist()}
    assert {"primary", "residential"} <= present, present
