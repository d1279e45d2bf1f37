"""Road-network matrices from an OpenStreetMap extract (``.osm.pbf``), computed locally.

How it works:

1. The extract is read once with pyosmium into a directed car graph (see
   :mod:`engine.matrices.osm_profile` for speeds, one-ways, roundabouts and access rules).
   Only the largest strongly connected component is kept, and runs of road through nodes
   where nothing can turn are contracted into single edges. The graph is cached on disk,
   keyed by the file's SHA-256, so later runs load it in milliseconds.
2. Each location is snapped to the nearest point of the nearest road *segment* (not just the
   nearest junction), and enters the graph part-way along that road in each direction the road
   may be driven. A location farther than ``max_snap_m`` from every road is an error.
3. Durations and distances come from one Dijkstra pass per distinct snapped source, on a
   packed weight ``duration_ms * base + length_cm`` that is exact in float64: the fastest route
   is found, with its length. Dead-end branches that hold no location are pruned first, and
   sources are split over worker processes.

Not modelled (differences from OSRM's car profile): turn penalties and turn restrictions,
ferries, time-dependent and conditional tags, and OSRM's preference weights for service roads.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from engine.matrices.base import DEFAULT_GRAPH_CACHE_DIR, MatrixError, TravelMatrices
from engine.matrices.geometric import _check_points
from engine.matrices.osm_graph import (
    EARTH_RADIUS_M,
    RoadGraph,
    cached_graph,
    haversine_pairs_m,
)
from engine.matrices.osm_positions import pack, position_keys, positions

#: Segments are indexed for snapping in pieces no longer than this.
SNAP_PIECE_M = 20.0
#: Below this many distinct sources, worker processes cost more than they save.
PARALLEL_MIN_SOURCES = 96
#: Sources per Dijkstra call (bounds the memory of one call's dense output).
SOURCE_CHUNK = 16
#: Bypass rounds stop once a round removes fewer than this share of the candidates.
BYPASS_MIN_FRACTION = 0.05

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Snap:
    """Where locations meet the road network."""

    segment: IntArray
    fraction: FloatArray  # 0 at the segment's start, 1 at its end (along its chain)
    lon: FloatArray
    lat: FloatArray
    distance_m: FloatArray


@dataclass(frozen=True)
class OsmMatrixResult:
    """Matrices plus what a user wants to know about how they were made."""

    matrices: TravelMatrices
    snap: Snap
    graph_from_cache: bool
    graph_seconds: float
    query_seconds: float
    cache_path: str

    @property
    def max_snap_m(self) -> float:
        """The largest distance from a location to the road it was snapped to."""
        return float(self.snap.distance_m.max(initial=0.0))


class _SnapIndex:
    """A k-d tree over short pieces of every segment, in a local metric projection."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        self.lat0 = math.radians(float(np.mean(graph.seg_lat)))
        self.kx = EARTH_RADIUS_M * math.cos(self.lat0) * math.pi / 180.0
        self.ky = EARTH_RADIUS_M * math.pi / 180.0
        ax, ay = graph.seg_lon[:, 0] * self.kx, graph.seg_lat[:, 0] * self.ky
        bx, by = graph.seg_lon[:, 1] * self.kx, graph.seg_lat[:, 1] * self.ky
        self.a = np.stack([ax, ay], axis=1)
        self.ab = np.stack([bx - ax, by - ay], axis=1)
        length = np.hypot(self.ab[:, 0], self.ab[:, 1])
        pieces = np.maximum(1, np.ceil(length / SNAP_PIECE_M)).astype(np.int64)
        self.piece_segment = np.repeat(np.arange(length.shape[0]), pieces)
        starts = np.cumsum(pieces) - pieces
        rank = np.arange(self.piece_segment.shape[0]) - np.repeat(starts, pieces)
        t = (rank + 0.5) / pieces[self.piece_segment]
        mid = self.a[self.piece_segment] + t[:, None] * self.ab[self.piece_segment]
        self.half_piece_m = float((length / pieces).max(initial=0.0)) / 2.0
        self.tree = cKDTree(mid, balanced_tree=False, compact_nodes=False)

    def snap(self, points: FloatArray) -> Snap:
        """The nearest point on any segment for each ``[lon, lat]`` row."""
        xy = np.stack([points[:, 0] * self.kx, points[:, 1] * self.ky], axis=1)
        nearest_mid, _ = self.tree.query(xy)
        candidates = self.tree.query_ball_point(xy, nearest_mid + self.half_piece_m + 1e-6)
        counts = np.fromiter((len(c) for c in candidates), dtype=np.int64, count=len(candidates))
        owner = np.repeat(np.arange(xy.shape[0]), counts)
        piece = np.fromiter(
            (p for c in candidates for p in c), dtype=np.int64, count=int(counts.sum())
        )
        seg = self.piece_segment[piece]
        a, ab = self.a[seg], self.ab[seg]
        rel = xy[owner] - a
        denom = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
        t = np.clip(np.einsum("ij,ij->i", rel, ab) / denom, 0.0, 1.0)
        gap = rel - t[:, None] * ab
        dist = np.einsum("ij,ij->i", gap, gap)
        order = np.lexsort((seg, dist, owner))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = owner[order][1:] != owner[order][:-1]
        best = order[first]
        seg, t = seg[best], t[best]
        lon = self.graph.seg_lon[seg, 0] + t * (
            self.graph.seg_lon[seg, 1] - self.graph.seg_lon[seg, 0]
        )
        lat = self.graph.seg_lat[seg, 0] + t * (
            self.graph.seg_lat[seg, 1] - self.graph.seg_lat[seg, 0]
        )
        distance = haversine_pairs_m(points[:, 0], points[:, 1], lon, lat)
        return Snap(segment=seg, fraction=t, lon=lon, lat=lat, distance_m=distance)


# The routing graph of the current query, inherited by forked worker processes.
_WORKER_GRAPH: csr_matrix | None = None
_WORKER_COLUMNS: IntArray | None = None


def _rows(sources: IntArray) -> FloatArray:
    """Packed shortest-path weights from ``sources`` to the query's column nodes."""
    assert _WORKER_GRAPH is not None and _WORKER_COLUMNS is not None
    out = np.empty((sources.shape[0], _WORKER_COLUMNS.shape[0]), dtype=np.float64)
    for start in range(0, sources.shape[0], SOURCE_CHUNK):
        chunk = sources[start : start + SOURCE_CHUNK]
        full = dijkstra(_WORKER_GRAPH, directed=True, indices=chunk)
        out[start : start + chunk.shape[0]] = full[:, _WORKER_COLUMNS]
    return out


@dataclass
class OsmProvider:
    """Car travel matrices on the roads of an OpenStreetMap extract.

    ``cache_dir`` holds built graphs (default:
    :data:`engine.matrices.base.DEFAULT_GRAPH_CACHE_DIR`; callers with settings pass theirs).
    ``workers`` is the number of processes for large matrices (default: the number of CPUs,
    at most 4).
    ``reduce_graph=False`` skips pruning and bypassing nodes (slower; for cross-checks).
    """

    osm_file: Path
    max_snap_m: float = 500.0
    cache_dir: Path | None = None
    workers: int | None = None
    reduce_graph: bool = True
    _graph: RoadGraph | None = field(default=None, init=False, repr=False)
    _index: _SnapIndex | None = field(default=None, init=False, repr=False)
    _from_cache: bool = field(default=False, init=False, repr=False)
    _graph_seconds: float = field(default=0.0, init=False, repr=False)
    _cache_path: str = field(default="", init=False, repr=False)
    _pairs: IntArray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.osm_file = Path(self.osm_file)
        if not (self.max_snap_m > 0 and math.isfinite(self.max_snap_m)):
            raise MatrixError(f"max_snap_m = {self.max_snap_m}: must be a positive number")

    # ------------------------------------------------------------------ graph
    def load(self) -> RoadGraph:
        """Build or load the graph and its snapping index (once per provider)."""
        if self._graph is None:
            started = time.perf_counter()
            cache_dir = DEFAULT_GRAPH_CACHE_DIR if self.cache_dir is None else self.cache_dir
            graph, from_cache, path = cached_graph(self.osm_file, Path(cache_dir).expanduser())
            self._index = _SnapIndex(graph)
            tail = np.repeat(np.arange(graph.node_count), np.diff(graph.arc_indptr))
            low = np.minimum(tail, graph.arc_head)
            high = np.maximum(tail, graph.arc_head)
            self._pairs = np.unique(np.stack([low, high], axis=1), axis=0)
            self._graph, self._from_cache, self._cache_path = graph, from_cache, path
            self._graph_seconds = time.perf_counter() - started
        return self._graph

    def snap(self, points: FloatArray) -> Snap:
        """Snap ``[lon, lat]`` rows to the road network; too-far locations are an error."""
        points = np.asarray(points, dtype=np.float64)
        _check_points(points, geographic=True)
        self.load()
        assert self._index is not None
        snap = self._index.snap(points)
        too_far = np.flatnonzero(snap.distance_m > self.max_snap_m)
        if too_far.size:
            i = int(too_far[np.argmax(snap.distance_m[too_far])])
            others = "" if too_far.size == 1 else f" ({too_far.size} locations in all)"
            raise MatrixError(
                f"location {i} = {points[i].tolist()} is {snap.distance_m[i]:.0f} m from the "
                f"nearest road in {self.osm_file.name}, more than max_snap_m = "
                f"{self.max_snap_m:g} m{others}: is it outside the extract, or [lat, lon] "
                "instead of [lon, lat]?"
            )
        return snap

    def leg_paths(self, points: FloatArray, legs: IntArray) -> list[FloatArray]:
        """Road paths (``[lon, lat]`` rows, snapped start to snapped end) of the legs
        ``(from, to)`` between rows of ``points``: see :mod:`engine.matrices.osm_paths`."""
        from engine.matrices.osm_paths import leg_paths  # late: only drawing needs it

        return leg_paths(self, points, legs)

    # ---------------------------------------------------------------- matrices
    def matrices(self, points: FloatArray) -> TravelMatrices:
        """Driving durations and distances between every ordered pair of ``[lon, lat]`` rows."""
        return self.compute(points).matrices

    def compute(self, points: FloatArray) -> OsmMatrixResult:
        """Matrices, snaps and timings for ``[lon, lat]`` rows."""
        self.load()
        started = time.perf_counter()
        snap = self.snap(points)
        durations_s, distances_m = self._route(snap)
        return OsmMatrixResult(
            matrices=TravelMatrices(distances_m=distances_m, durations_s=durations_s),
            snap=snap,
            graph_from_cache=self._from_cache,
            graph_seconds=self._graph_seconds,
            query_seconds=time.perf_counter() - started,
            cache_path=self._cache_path,
        )

    def _route(self, snap: Snap) -> tuple[FloatArray, FloatArray]:
        graph = self._graph
        assert graph is not None
        base = float(graph.pack_base)
        unit = float(graph.length_unit_cm)

        # Distinct snapped positions: identical ones share one row and column.
        key = position_keys(snap.segment, snap.fraction)
        unique_key, position_of = np.unique(key, axis=0, return_inverse=True)
        position_of = position_of.reshape(-1)
        pos = positions(graph, unique_key)
        seg, chain, u, v = pos.seg, pos.chain, pos.u, pos.v
        fwd_open, bwd_open = pos.fwd_open, pos.bwd_open
        off_cm, off_fwd, off_bwd = pos.off_cm, pos.off_fwd, pos.off_bwd
        # Leaving a position: ahead to v or back to u; arriving: from u forward, v backward.
        out_v, out_u, in_u, in_v = pos.out_v, pos.out_u, pos.in_u, pos.in_v

        routing, columns, node_count = self._routing_graph(np.concatenate([u, v]))
        count = seg.shape[0]
        phantom = node_count + np.arange(count)
        # Phantom source nodes: one per position, with arcs to u and v.
        tails = np.concatenate([phantom, phantom])
        heads = np.concatenate([columns[v], columns[u]])
        weights = np.concatenate([out_v, out_u])
        usable = np.isfinite(weights)
        full = _with_phantoms(
            routing,
            node_count + count,
            tails[usable],
            heads[usable],
            np.maximum(weights[usable], 1.0),
        )
        wanted = np.unique(np.concatenate([columns[u], columns[v]]))
        packed_to = self._run(full, phantom, wanted)  # (count, len(wanted))
        col_u = np.searchsorted(wanted, columns[u])
        col_v = np.searchsorted(wanted, columns[v])
        best = np.minimum(packed_to[:, col_u] + in_u[None, :], packed_to[:, col_v] + in_v[None, :])

        # Along the same chain, no junction in between.
        same = chain[:, None] == chain[None, :]
        ahead = same & fwd_open[None, :] & (off_cm[:, None] <= off_cm[None, :])
        direct_fwd = pack(
            graph, off_fwd[None, :] - off_fwd[:, None], off_cm[None, :] - off_cm[:, None]
        )
        best = np.where(ahead, np.minimum(best, direct_fwd), best)
        behind = same & bwd_open[None, :] & (off_cm[:, None] >= off_cm[None, :])
        direct_bwd = pack(
            graph, off_bwd[:, None] - off_bwd[None, :], off_cm[:, None] - off_cm[None, :]
        )
        best = np.where(behind, np.minimum(best, direct_bwd), best)
        np.fill_diagonal(best, 0.0)

        if not np.all(np.isfinite(best)):  # pragma: no cover - the graph is strongly connected
            i, j = np.argwhere(~np.isfinite(best))[0]
            raise MatrixError(f"no road route between snapped positions {i} and {j}")
        ms = np.floor(best / base)
        cm = (best - ms * base) * unit
        durations = (ms / 1000.0)[np.ix_(position_of, position_of)]
        distances = (cm / 100.0)[np.ix_(position_of, position_of)]
        np.fill_diagonal(durations, 0.0)
        np.fill_diagonal(distances, 0.0)
        return durations, distances

    def _routing_graph(self, terminals: IntArray) -> tuple[csr_matrix, IntArray, int]:
        """The junction graph reduced for this query's terminals (the snapped roads' ends).

        Dead-end branches that hold no terminal are pruned, then non-terminal nodes with
        exactly two neighbours are bypassed (see :func:`_bypass`). Returns the
        packed-weight graph, the new number of every old node (-1 if gone) and the node count.
        """
        graph = self._graph
        pairs = self._pairs
        assert graph is not None and pairs is not None
        n = graph.node_count
        alive = np.ones(n, dtype=bool)
        keep = np.zeros(n, dtype=bool)
        keep[terminals] = True
        if not self.reduce_graph:
            keep[:] = True
        live_pairs = pairs
        while True:
            degree = np.bincount(live_pairs[:, 0], minlength=n) + np.bincount(
                live_pairs[:, 1], minlength=n
            )
            leaf = alive & (degree <= 1) & ~keep
            if not leaf.any():
                break
            alive &= ~leaf
            live_pairs = live_pairs[alive[live_pairs[:, 0]] & alive[live_pairs[:, 1]]]

        tail = np.repeat(np.arange(n), np.diff(graph.arc_indptr))
        arc_alive = alive[tail] & alive[graph.arc_head]
        weight = graph.arc_ms[arc_alive].astype(np.float64) * float(graph.pack_base) + np.round(
            graph.arc_cm[arc_alive] / float(graph.length_unit_cm)
        )
        tail, head, weight = _bypass(
            n, tail[arc_alive], graph.arc_head[arc_alive], weight, alive, keep
        )
        new_id = np.full(n, -1, dtype=np.int64)
        kept = int(alive.sum())
        new_id[alive] = np.arange(kept)
        routing = _csr(kept, new_id[tail], new_id[head], np.maximum(weight, 1.0))
        return routing, new_id, kept

    def _run(self, routing: csr_matrix, sources: IntArray, columns: IntArray) -> FloatArray:
        """Packed weights from each source to each column node, split over processes."""
        global _WORKER_GRAPH, _WORKER_COLUMNS
        _WORKER_GRAPH, _WORKER_COLUMNS = routing, columns
        try:
            workers = self.workers if self.workers is not None else min(os.cpu_count() or 1, 4)
            methods = multiprocessing.get_all_start_methods()
            if workers <= 1 or sources.shape[0] < PARALLEL_MIN_SOURCES or "fork" not in methods:
                return _rows(sources)
            parts = np.array_split(sources, workers * 2)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                return np.concatenate(list(pool.map(_rows, parts)), axis=0)
        finally:
            _WORKER_GRAPH, _WORKER_COLUMNS = None, None


def _lightest(
    tails: IntArray, heads: IntArray, weights: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Arcs sorted by tail then head; of parallel arcs only the lightest is kept."""
    if tails.shape[0] == 0:
        return tails, heads, weights
    key = tails * (int(max(tails.max(), heads.max())) + 1) + heads
    order = np.argsort(weights, kind="stable")
    order = order[np.argsort(key[order], kind="stable")]
    key = key[order]
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = key[1:] != key[:-1]
    keep = order[first]
    return tails[keep], heads[keep], weights[keep]


def _arc_weight(
    lookup: tuple[IntArray, FloatArray, int], tails: IntArray, heads: IntArray
) -> FloatArray:
    """Weights of the arcs tails -> heads (inf where none), from sorted ``tail * n + head`` keys."""
    sorted_key, sorted_weight, n = lookup
    key = tails * n + heads
    pos = np.clip(np.searchsorted(sorted_key, key), 0, sorted_key.shape[0] - 1)
    return np.where(sorted_key[pos] == key, sorted_weight[pos], np.inf)


def _csr(size: int, tails: IntArray, heads: IntArray, weights: FloatArray) -> csr_matrix:
    """A CSR graph; of parallel arcs only the lightest is kept."""
    tails, heads, weights = _lightest(tails, heads, weights)
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=size), out=indptr[1:])
    return csr_matrix((weights, heads, indptr), shape=(size, size))


def _bypass(
    n: int,
    tail: IntArray,
    head: IntArray,
    weight: FloatArray,
    alive: npt.NDArray[np.bool_],
    keep: npt.NDArray[np.bool_],
) -> tuple[IntArray, IntArray, FloatArray]:
    """Bypass nodes with two neighbours, in rounds of non-adjacent nodes; ``alive`` is updated.

    A route through such a node x (not a terminal) can only be p -> x -> q or q -> x -> p, so
    x and its arcs are replaced by those two arcs where they exist. Weights stay exact.
    """
    tail, head, weight = _lightest(tail, head, weight)
    priority = np.random.default_rng(0).permutation(n)
    while True:
        low, high = np.minimum(tail, head), np.maximum(tail, head)
        pair_key = np.unique(low * n + high)
        p_all, q_all = pair_key // n, pair_key % n
        degree = np.bincount(p_all, minlength=n) + np.bincount(q_all, minlength=n)
        candidate = alive & (degree == 2) & ~keep
        if not candidate.any():
            return tail, head, weight
        # The two neighbours of each candidate.
        ends = np.concatenate([p_all, q_all])
        other = np.concatenate([q_all, p_all])
        mask = candidate[ends]
        ends, other = ends[mask], other[mask]
        order = np.argsort(ends, kind="stable")
        ends, other = ends[order], other[order]
        x = ends[0::2]
        p, q = other[0::2], other[1::2]
        # Arc weights around x (inf where there is no arc).
        arc_key = tail * n + head
        sort = np.argsort(arc_key)
        sorted_key = arc_key[sort]

        lookup = (sorted_key, weight[sort], n)
        px, xq = _arc_weight(lookup, p, x), _arc_weight(lookup, x, q)
        qx, xp = _arc_weight(lookup, q, x), _arc_weight(lookup, x, p)
        # Only nodes whose candidate neighbours all rank lower go this round.
        ok = (p != q) & ~(candidate[p] & (priority[p] > priority[x]))
        ok &= ~(candidate[q] & (priority[q] > priority[x]))
        # The last rounds bypass few nodes each and cost as much as the first: stop early.
        if ok.sum() < BYPASS_MIN_FRACTION * candidate.sum() or not ok.any():
            return tail, head, weight
        x, p, q = x[ok], p[ok], q[ok]
        px, xq, qx, xp = px[ok], xq[ok], qx[ok], xp[ok]
        gone = np.zeros(n, dtype=bool)
        gone[x] = True
        alive &= ~gone
        stay = ~(gone[tail] | gone[head])
        fwd = np.isfinite(px + xq)
        bwd = np.isfinite(qx + xp)
        tail, head, weight = _lightest(
            np.concatenate([tail[stay], p[fwd], q[bwd]]),
            np.concatenate([head[stay], q[fwd], p[bwd]]),
            np.concatenate([weight[stay], (px + xq)[fwd], (qx + xp)[bwd]]),
        )


def _with_phantoms(
    routing: csr_matrix, size: int, tails: IntArray, heads: IntArray, weights: FloatArray
) -> csr_matrix:
    """The routing graph grown to ``size`` nodes, with extra arcs out of the new nodes."""
    tails, heads, weights = _lightest(tails, heads, weights)
    old = routing.shape[0]
    counts = np.bincount(tails - old, minlength=size - old)
    indptr = np.concatenate([routing.indptr, routing.indptr[-1] + np.cumsum(counts)])
    return csr_matrix(
        (
            np.concatenate([routing.data, weights]),
            np.concatenate([routing.indices, heads]),
            indptr,
        ),
        shape=(size, size),
    )
