"""The directed car graph of an OpenStreetMap extract: parsed once, contracted, cached on disk.

The graph has two levels:

* **segments**: the straight pieces between consecutive way nodes, used to snap locations;
* **chains**: maximal runs of segments through nodes where nothing can turn (degree-2
  nodes), from one junction to another. Chains are the edges of the routing graph, whose
  nodes are the junctions of the largest strongly connected component.

Durations are integer milliseconds and lengths integer centimetres, so sums are exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from engine.matrices.base import MatrixError
from engine.matrices.osm_profile import node_rule, way_speeds_kmh

#: Bump when the profile or the cached layout changes: old cache files are then ignored.
GRAPH_FORMAT_VERSION = 2
EARTH_RADIUS_M = 6_371_008.8
#: Closed direction of a chain or segment.
CLOSED = -1
_FLOAT53 = 2.0**53
#: Road classes kept per segment (for drawing), by ``seg_class`` code; ``highway`` values map
#: to them by their name without ``_link`` (trunk counts as motorway, the rest as ``other``).
ROAD_CLASSES = ("motorway", "primary", "secondary", "tertiary", "residential", "other")
_CLASS_OF_HIGHWAY = {
    "motorway": 0,
    "trunk": 0,
    "primary": 1,
    "secondary": 2,
    "tertiary": 3,
    "residential": 4,
    "unclassified": 4,
    "living_street": 4,
}


def road_class(highway: str | None) -> int:
    """The :data:`ROAD_CLASSES` code of a ``highway`` tag value."""
    base = (highway or "").removesuffix("_link")
    return _CLASS_OF_HIGHWAY.get(base, len(ROAD_CLASSES) - 1)


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def haversine_pairs_m(
    lon_a: FloatArray, lat_a: FloatArray, lon_b: FloatArray, lat_b: FloatArray
) -> FloatArray:
    """Great-circle distance in metres between paired points."""
    la, lb = np.radians(lat_a), np.radians(lat_b)
    dlat = lb - la
    dlon = np.radians(lon_b - lon_a)
    h = np.sin(dlat / 2) ** 2 + np.cos(la) * np.cos(lb) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class RoadGraph:
    """A contracted, strongly connected car graph (arrays only, so it caches as one .npz)."""

    # chains: the routing edges, u -> v forward and v -> u backward (CLOSED if one-way)
    chain_u: IntArray
    chain_v: IntArray
    chain_len_cm: IntArray
    chain_fwd_ms: IntArray
    chain_bwd_ms: IntArray
    # segments, oriented along their chain; offsets run from the chain's start u
    seg_lon: FloatArray  # (S, 2): lon of the segment's start and end
    seg_lat: FloatArray  # (S, 2)
    seg_chain: IntArray
    seg_len_cm: IntArray
    seg_fwd_ms: IntArray
    seg_bwd_ms: IntArray
    seg_off_len_cm: IntArray
    seg_off_fwd_ms: IntArray
    seg_off_bwd_ms: IntArray
    seg_class: IntArray  # the segment's road class (a :data:`ROAD_CLASSES` code)
    # routing graph over junctions, duplicate arcs reduced to the best one
    arc_indptr: IntArray
    arc_head: IntArray
    arc_ms: IntArray
    arc_cm: IntArray
    # packing: weight = ms * pack_base + round(cm / length_unit_cm)
    pack_base: IntArray  # 0-d
    length_unit_cm: IntArray  # 0-d
    # provenance: node, way and segment counts before contraction, build seconds
    stats: FloatArray

    @property
    def node_count(self) -> int:
        """Number of junctions in the routing graph."""
        return int(self.arc_indptr.shape[0] - 1)

    @property
    def chain_count(self) -> int:
        """Number of chains (contracted road pieces)."""
        return int(self.chain_u.shape[0])

    def save(self, path: Path) -> None:
        """Write the graph atomically as an uncompressed .npz."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **{f.name: getattr(self, f.name) for f in fields(self)})
        Path(tmp_name).replace(path)

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        """Read a graph written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass
class _RawWays:
    """Ways as parsed: node ids and coordinates per reference, speeds per way."""

    refs: IntArray
    lon: FloatArray
    lat: FloatArray
    way_start: IntArray  # index into refs where each way starts
    fwd_kmh: FloatArray
    bwd_kmh: FloatArray
    way_class: IntArray
    blocked_ids: IntArray
    delay_ids: IntArray
    delay_s: FloatArray


def _parse(osm_file: Path) -> _RawWays:
    """Read car ways, their node locations and the tagged nodes that matter for cars."""
    import osmium  # imported late: only a build needs it

    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    way_start: list[int] = []
    fwd: list[float] = []
    bwd: list[float] = []
    classes: list[int] = []
    blocked: list[int] = []
    delay_ids: list[int] = []
    delays: list[float] = []
    processor = (
        osmium.FileProcessor(str(osm_file))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "barrier", "access", "motor_vehicle"))
    )
    try:
        for item in processor:
            # FileProcessor's stub yields any OSM entity; the filters let nodes and ways through
            obj = cast(Any, item)
            if obj.is_node():
                is_blocked, delay = node_rule(dict(obj.tags))
                if is_blocked:
                    blocked.append(obj.id)
                elif delay > 0:
                    delay_ids.append(obj.id)
                    delays.append(delay)
                continue
            if not obj.is_way():
                continue
            speeds = way_speeds_kmh(dict(obj.tags))
            if speeds is None:
                continue
            way_refs: list[int] = []
            way_lons: list[float] = []
            way_lats: list[float] = []
            for node in obj.nodes:
                location = node.location
                if not location.valid():
                    continue
                way_refs.append(node.ref)
                way_lons.append(location.lon)
                way_lats.append(location.lat)
            if len(way_refs) < 2:
                continue
            way_start.append(len(refs))
            refs.extend(way_refs)
            lons.extend(way_lons)
            lats.extend(way_lats)
            fwd.append(speeds[0])
            bwd.append(speeds[1])
            classes.append(road_class(obj.tags.get("highway")))
    except RuntimeError as error:
        raise MatrixError(f"osm_file {str(osm_file)!r} could not be read: {error}") from error
    if not way_start:
        raise MatrixError(f"osm_file {str(osm_file)!r} has no roads that a car may use")
    return _RawWays(
        refs=np.asarray(refs, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
        way_start=np.asarray(way_start, dtype=np.int64),
        fwd_kmh=np.asarray(fwd, dtype=np.float64),
        bwd_kmh=np.asarray(bwd, dtype=np.float64),
        way_class=np.asarray(classes, dtype=np.int64),
        blocked_ids=np.asarray(blocked, dtype=np.int64),
        delay_ids=np.asarray(delay_ids, dtype=np.int64),
        delay_s=np.asarray(delays, dtype=np.float64),
    )


@dataclass
class _Segments:
    """Directed-capable straight pieces between two graph nodes (indices into node arrays)."""

    a: IntArray
    b: IntArray
    lon: FloatArray  # (S, 2)
    lat: FloatArray
    len_cm: IntArray
    fwd_ms: IntArray
    bwd_ms: IntArray
    cls: IntArray

    def take(self, keep: npt.NDArray[np.bool_] | IntArray) -> _Segments:
        """The segments selected by a mask or index array."""
        return _Segments(
            self.a[keep],
            self.b[keep],
            self.lon[keep],
            self.lat[keep],
            self.len_cm[keep],
            self.fwd_ms[keep],
            self.bwd_ms[keep],
            self.cls[keep],
        )


def _segments(raw: _RawWays) -> tuple[_Segments, int]:
    """Segments between consecutive way nodes; blocking barriers split into dead ends."""
    n_refs = raw.refs.shape[0]
    way_of_ref = np.repeat(
        np.arange(raw.way_start.shape[0]), np.diff(np.append(raw.way_start, n_refs))
    )
    first = np.arange(n_refs - 1)
    same_way = way_of_ref[first] == way_of_ref[first + 1]
    first = first[same_way]
    second = first + 1
    a_id = raw.refs[first].copy()
    b_id = raw.refs[second].copy()
    way = way_of_ref[first]
    distinct = a_id != b_id
    first, second, a_id, b_id, way = (x[distinct] for x in (first, second, a_id, b_id, way))

    # A blocking barrier: every segment end there gets a node of its own, so no one passes.
    if raw.blocked_ids.size:
        next_id = -1
        for ids in (a_id, b_id):
            hit = np.flatnonzero(np.isin(ids, raw.blocked_ids))
            ids[hit] = next_id - np.arange(hit.shape[0], dtype=np.int64)
            next_id -= hit.shape[0]

    node_ids, inverse = np.unique(np.concatenate([a_id, b_id]), return_inverse=True)
    seg_count = a_id.shape[0]
    a = inverse[:seg_count].astype(np.int64)
    b = inverse[seg_count:].astype(np.int64)

    lon = np.stack([raw.lon[first], raw.lon[second]], axis=1)
    lat = np.stack([raw.lat[first], raw.lat[second]], axis=1)
    length_m = haversine_pairs_m(lon[:, 0], lat[:, 0], lon[:, 1], lat[:, 1])

    delay_ms = np.zeros(node_ids.shape[0], dtype=np.int64)
    if raw.delay_ids.size:
        pos = np.searchsorted(node_ids, raw.delay_ids)
        pos = np.clip(pos, 0, node_ids.shape[0] - 1)
        found = node_ids[pos] == raw.delay_ids
        delay_ms[pos[found]] = np.round(raw.delay_s[found] * 1000).astype(np.int64)

    def travel_ms(speed_kmh: FloatArray, entered: IntArray) -> IntArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ms = np.round(length_m / (speed_kmh / 3.6) * 1000.0)
        out = np.where(speed_kmh > 0, ms, CLOSED).astype(np.int64)
        return np.where(out >= 0, out + delay_ms[entered], CLOSED)

    segments = _Segments(
        a=a,
        b=b,
        lon=lon,
        lat=lat,
        len_cm=np.round(length_m * 100).astype(np.int64),
        fwd_ms=travel_ms(raw.fwd_kmh[way], b),
        bwd_ms=travel_ms(raw.bwd_kmh[way], a),
        cls=raw.way_class[way],
    )
    return segments, int(node_ids.shape[0])


def _largest_scc(segments: _Segments, node_count: int) -> tuple[_Segments, int]:
    """Only the segments inside the largest strongly connected component, nodes renumbered."""
    fwd = segments.fwd_ms >= 0
    bwd = segments.bwd_ms >= 0
    rows = np.concatenate([segments.a[fwd], segments.b[bwd]])
    cols = np.concatenate([segments.b[fwd], segments.a[bwd]])
    graph = csr_matrix(
        (np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(node_count, node_count)
    )
    _, labels = connected_components(graph, directed=True, connection="strong")
    largest = np.argmax(np.bincount(labels))
    inside = labels == largest
    kept = segments.take(inside[segments.a] & inside[segments.b])
    renumber = np.full(node_count, -1, dtype=np.int64)
    renumber[inside] = np.arange(int(inside.sum()))
    kept.a = renumber[kept.a]
    kept.b = renumber[kept.b]
    return kept, int(inside.sum())


def _chains(
    segments: _Segments, node_count: int
) -> tuple[list[list[int]], list[list[bool]], IntArray]:
    """Group segments into chains through pass-through nodes; the junctions' node indices."""
    seg_count = segments.a.shape[0]
    ends = np.concatenate([segments.a, segments.b])
    order = np.argsort(ends, kind="stable")
    inc_seg = (order % seg_count).astype(np.int64)
    inc_ptr = np.zeros(node_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=node_count), out=inc_ptr[1:])
    degree = np.diff(inc_ptr)

    # A degree-2 node is passed through when what may enter by one side may leave by the other.
    junction = degree != 2
    two = np.flatnonzero(degree == 2)
    s1 = inc_seg[inc_ptr[two]]
    s2 = inc_seg[inc_ptr[two] + 1]

    def can_enter(seg: IntArray, node: IntArray) -> npt.NDArray[np.bool_]:
        return np.where(segments.b[seg] == node, segments.fwd_ms[seg], segments.bwd_ms[seg]) >= 0

    def can_leave(seg: IntArray, node: IntArray) -> npt.NDArray[np.bool_]:
        return np.where(segments.a[seg] == node, segments.fwd_ms[seg], segments.bwd_ms[seg]) >= 0

    passable = (can_enter(s1, two) == can_leave(s2, two)) & (
        can_enter(s2, two) == can_leave(s1, two)
    )
    junction[two[~passable]] = True

    a_list = segments.a.tolist()
    b_list = segments.b.tolist()
    ptr = inc_ptr.tolist()
    inc = inc_seg.tolist()
    is_junction = junction.tolist()
    visited = [False] * seg_count
    chain_segs: list[list[int]] = []
    chain_rev: list[list[bool]] = []

    def walk(start: int, seg: int) -> None:
        cur = start
        segs: list[int] = []
        revs: list[bool] = []
        while True:
            visited[seg] = True
            reverse = b_list[seg] == cur
            nxt = a_list[seg] if reverse else b_list[seg]
            segs.append(seg)
            revs.append(reverse)
            if is_junction[nxt]:
                break
            first, second = inc[ptr[nxt]], inc[ptr[nxt] + 1]
            seg = second if first == seg else first
            if visited[seg]:
                break
            cur = nxt
        chain_segs.append(segs)
        chain_rev.append(revs)

    for node in np.flatnonzero(junction).tolist():
        for k in range(ptr[node], ptr[node + 1]):
            if not visited[inc[k]]:
                walk(node, inc[k])
    # Rings with no junction at all: cut each at one of its nodes.
    for seg in range(seg_count):
        if not visited[seg]:
            is_junction[a_list[seg]] = True
            walk(a_list[seg], seg)
    return chain_segs, chain_rev, np.asarray(is_junction, dtype=bool)


def build_graph(osm_file: Path) -> RoadGraph:
    """Parse an extract and build its contracted, strongly connected car graph."""
    started = time.perf_counter()
    raw = _parse(osm_file)
    segments, node_count = _segments(raw)
    segments, node_count = _largest_scc(segments, node_count)
    if segments.a.shape[0] == 0:
        raise MatrixError(f"osm_file {str(osm_file)!r} has no connected car road network")
    chain_segs, chain_rev, junction = _chains(segments, node_count)

    lengths = np.fromiter((len(c) for c in chain_segs), dtype=np.int64, count=len(chain_segs))
    flat = np.fromiter((s for c in chain_segs for s in c), dtype=np.int64, count=int(lengths.sum()))
    rev = np.fromiter((r for c in chain_rev for r in c), dtype=bool, count=int(lengths.sum()))
    chain_of = np.repeat(np.arange(lengths.shape[0]), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    seg = segments
    seg_lon = np.where(rev[:, None], seg.lon[flat][:, ::-1], seg.lon[flat])
    seg_lat = np.where(rev[:, None], seg.lat[flat][:, ::-1], seg.lat[flat])
    seg_len = seg.len_cm[flat]
    seg_fwd = np.where(rev, seg.bwd_ms[flat], seg.fwd_ms[flat])
    seg_bwd = np.where(rev, seg.fwd_ms[flat], seg.bwd_ms[flat])
    first_node = np.where(rev, seg.b[flat], seg.a[flat])
    last_node = np.where(rev, seg.a[flat], seg.b[flat])

    def offsets(values: IntArray) -> tuple[IntArray, IntArray]:
        """Cumulative sum before each segment within its chain, and each chain's total."""
        clean = np.maximum(values, 0)
        total = np.cumsum(clean)
        before = total - clean
        chain_base = before[starts]
        return before - chain_base[chain_of], np.add.reduceat(clean, starts)

    off_len, chain_len = offsets(seg_len)
    off_fwd, chain_fwd = offsets(seg_fwd)
    off_bwd, chain_bwd = offsets(seg_bwd)
    fwd_closed = np.logical_or.reduceat(seg_fwd < 0, starts)
    bwd_closed = np.logical_or.reduceat(seg_bwd < 0, starts)
    chain_fwd = np.where(fwd_closed, CLOSED, chain_fwd)
    chain_bwd = np.where(bwd_closed, CLOSED, chain_bwd)

    # Junctions get routing-node numbers.
    junction_index = np.full(node_count, -1, dtype=np.int64)
    junction_index[junction] = np.arange(int(junction.sum()))
    chain_u = junction_index[first_node[starts]]
    chain_v = junction_index[last_node[starts + lengths - 1]]
    if np.any(chain_u < 0) or np.any(chain_v < 0):  # pragma: no cover - a bug, not input
        raise RuntimeError("a chain ends at a node that is not a junction")

    arc_indptr, arc_head, arc_ms, arc_cm = _arcs(
        int(junction.sum()), chain_u, chain_v, chain_len, chain_fwd, chain_bwd
    )
    pack_base, unit_cm = _packing(
        arc_indptr, arc_head, arc_ms, chain_fwd, chain_bwd, seg_len, seg_fwd, seg_bwd
    )
    stats = np.array(
        [
            float(node_count),
            float(raw.way_start.shape[0]),
            float(segments.a.shape[0]),
            time.perf_counter() - started,
        ]
    )
    return RoadGraph(
        chain_u=chain_u,
        chain_v=chain_v,
        chain_len_cm=chain_len,
        chain_fwd_ms=chain_fwd,
        chain_bwd_ms=chain_bwd,
        seg_lon=np.ascontiguousarray(seg_lon),
        seg_lat=np.ascontiguousarray(seg_lat),
        seg_chain=chain_of,
        seg_len_cm=seg_len,
        seg_fwd_ms=seg_fwd,
        seg_bwd_ms=seg_bwd,
        seg_off_len_cm=off_len,
        seg_off_fwd_ms=off_fwd,
        seg_off_bwd_ms=off_bwd,
        seg_class=seg.cls[flat],
        arc_indptr=arc_indptr,
        arc_head=arc_head,
        arc_ms=arc_ms,
        arc_cm=arc_cm,
        pack_base=np.asarray(pack_base, dtype=np.int64),
        length_unit_cm=np.asarray(unit_cm, dtype=np.int64),
        stats=stats,
    )


def _arcs(
    node_count: int,
    chain_u: IntArray,
    chain_v: IntArray,
    chain_len: IntArray,
    chain_fwd: IntArray,
    chain_bwd: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """CSR arcs between junctions; of parallel arcs only the fastest (then shortest) is kept."""
    fwd = (chain_fwd >= 0) & (chain_u != chain_v)
    bwd = (chain_bwd >= 0) & (chain_u != chain_v)
    tail = np.concatenate([chain_u[fwd], chain_v[bwd]])
    head = np.concatenate([chain_v[fwd], chain_u[bwd]])
    ms = np.concatenate([chain_fwd[fwd], chain_bwd[bwd]])
    cm = np.concatenate([chain_len[fwd], chain_len[bwd]])
    order = np.lexsort((cm, ms, head, tail))
    tail, head, ms, cm = tail[order], head[order], ms[order], cm[order]
    first = np.ones(tail.shape[0], dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, ms, cm = tail[first], head[first], ms[first], cm[first]
    indptr = np.zeros(node_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=node_count), out=indptr[1:])
    return indptr, head, ms, cm


def _packing(
    indptr: IntArray,
    head: IntArray,
    arc_ms: IntArray,
    chain_fwd: IntArray,
    chain_bwd: IntArray,
    seg_len: IntArray,
    seg_fwd: IntArray,
    seg_bwd: IntArray,
) -> tuple[int, int]:
    """A base and length unit so that ``ms * base + length`` is exact in float64 for any route.

    Any shortest duration is at most the time out of junction 0 plus the time into it (plus
    two chains for the ends); a fastest route is no longer than that time at top speed.
    """
    node_count = indptr.shape[0] - 1
    graph = csr_matrix((arc_ms.astype(np.float64) + 1.0, head, indptr), shape=(node_count,) * 2)
    out_s = dijkstra(graph, indices=0)
    in_s = dijkstra(graph.T.tocsr(), indices=0)
    longest_chain = float(max(chain_fwd.max(initial=0), chain_bwd.max(initial=0)))
    bound_ms = float(out_s[np.isfinite(out_s)].max() + in_s[np.isfinite(in_s)].max())
    bound_ms += 2 * longest_chain + 1000.0
    top_cm_per_ms = 5.0  # 180 km/h
    for seg_ms in (seg_fwd, seg_bwd):
        timed = seg_ms > 0
        if timed.any():
            top_cm_per_ms = max(top_cm_per_ms, float((seg_len[timed] / seg_ms[timed]).max()))
    bound_cm = bound_ms * top_cm_per_ms * 1.5
    unit_cm = 1
    while True:
        base = 10 ** len(str(int(bound_cm / unit_cm) + 1))
        if bound_ms * base < _FLOAT53:
            return base, unit_cm
        unit_cm *= 10


def cached_graph(osm_file: Path, cache_dir: Path) -> tuple[RoadGraph, bool, str]:
    """The graph of ``osm_file``, from the cache when its hash is known; built and cached if not.

    Returns the graph, whether it came from the cache, and the cache file's path.
    """
    if not osm_file.is_file():
        raise MatrixError(f"osm_file {str(osm_file)!r} does not exist")
    digest = file_sha256(osm_file)
    path = cache_dir / f"osm-car-{digest[:24]}-v{GRAPH_FORMAT_VERSION}.npz"
    if path.is_file():
        try:
            return RoadGraph.load(path), True, str(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged cache file is rebuilt
    graph = build_graph(osm_file)
    with contextlib.suppress(OSError):  # a read-only cache only costs the next run a rebuild
        graph.save(path)
    return graph, False, str(path)
