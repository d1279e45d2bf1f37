"""Road paths of an ``osm`` provider's legs: the drawn shape of the fastest routes.

A leg's path runs from its start's snapped point along the roads to its end's snapped point,
every contracted chain expanded back to its segments. It is the route whose duration the
matrices give: the same packed weight (``duration_ms * base + length``), the same entry and
exit arcs of snapped positions, the same shortcut along a shared chain; only the query graph
differs (the full junction graph here, with no pruning or bypassing, which keep weights
exact). One Dijkstra with predecessors runs per distinct source, in chunks.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from engine.matrices.osm_graph import RoadGraph
from engine.matrices.osm_positions import Positions, pack, position_keys, positions

if TYPE_CHECKING:
    from engine.matrices.osm import OsmProvider

#: Sources per Dijkstra call (bounds the dense distance and predecessor rows in memory).
PATH_SOURCE_CHUNK = 16

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class _ArcChains:
    """For each arc of the junction graph, the chain that realises it and its direction."""

    def __init__(self, graph: RoadGraph) -> None:
        fwd = (graph.chain_fwd_ms >= 0) & (graph.chain_u != graph.chain_v)
        bwd = (graph.chain_bwd_ms >= 0) & (graph.chain_u != graph.chain_v)
        ids = np.arange(graph.chain_count)
        tail = np.concatenate([graph.chain_u[fwd], graph.chain_v[bwd]])
        head = np.concatenate([graph.chain_v[fwd], graph.chain_u[bwd]])
        ms = np.concatenate([graph.chain_fwd_ms[fwd], graph.chain_bwd_ms[bwd]])
        cm = np.concatenate([graph.chain_len_cm[fwd], graph.chain_len_cm[bwd]])
        chain = np.concatenate([ids[fwd], ids[bwd]])
        forward = np.concatenate([np.ones(int(fwd.sum()), bool), np.zeros(int(bwd.sum()), bool)])
        # the same order as the graph's own arcs: of parallel chains the fastest, then shortest
        order = np.lexsort((cm, ms, head, tail))
        self.n = graph.node_count
        key = tail[order] * self.n + head[order]
        first = np.ones(key.shape[0], dtype=bool)
        first[1:] = key[1:] != key[:-1]
        self.key = key[first]
        self.chain = chain[order][first]
        self.forward = forward[order][first]

    def lookup(self, tail: int, head: int) -> tuple[int, bool]:
        """The chain and direction of the arc ``tail -> head``."""
        pos = int(np.searchsorted(self.key, tail * self.n + head))
        if pos >= self.key.shape[0] or int(self.key[pos]) != tail * self.n + head:
            raise RuntimeError(f"no arc {tail} -> {head}")  # pragma: no cover - a bug
        return int(self.chain[pos]), bool(self.forward[pos])


class _Shapes:
    """Coordinates of chains and of the parts of chains around snapped positions."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        ids = np.arange(graph.chain_count + 1)
        self.start = np.searchsorted(graph.seg_chain, ids)  # segments of chain c: start[c:c+2]

    def _starts(self, segs: range) -> list[FloatArray]:
        g = self.graph
        return [np.stack([g.seg_lon[list(segs), 0], g.seg_lat[list(segs), 0]], axis=1)]

    def _ends(self, segs: range) -> list[FloatArray]:
        g = self.graph
        return [np.stack([g.seg_lon[list(segs), 1], g.seg_lat[list(segs), 1]], axis=1)]

    def chain(self, c: int, forward: bool) -> list[FloatArray]:
        """A whole chain, from u to v when ``forward``, else from v to u."""
        a, b = int(self.start[c]), int(self.start[c + 1])
        if forward:
            return self._starts(range(a, b)) + self._ends(range(b - 1, b))
        return self._ends(range(b - 1, a - 1, -1)) + self._starts(range(a, a + 1))

    def leave(self, pos: Positions, i: int, to_v: bool) -> list[FloatArray]:
        """From position ``i`` to its chain's end v (``to_v``) or back to its start u."""
        c, s = int(pos.chain[i]), int(pos.seg[i])
        a, b = int(self.start[c]), int(self.start[c + 1])
        if to_v:
            return self._ends(range(s, b))
        return self._starts(range(s, a - 1, -1))

    def enter(self, pos: Positions, j: int, from_u: bool) -> list[FloatArray]:
        """From its chain's start u (``from_u``) or end v to position ``j``."""
        c, s = int(pos.chain[j]), int(pos.seg[j])
        a, b = int(self.start[c]), int(self.start[c + 1])
        if from_u:
            return self._starts(range(a, s + 1))
        return self._ends(range(b - 1, s - 1, -1))

    def along(self, pos: Positions, i: int, j: int, forward: bool) -> list[FloatArray]:
        """From position ``i`` to position ``j`` on the same chain, with no junction between."""
        si, sj = int(pos.seg[i]), int(pos.seg[j])
        if forward:
            return self._ends(range(si, sj))
        return self._starts(range(si, sj, -1))


def _join(pieces: list[FloatArray]) -> FloatArray:
    """The pieces as one polyline, consecutive repeated points dropped."""
    line = np.concatenate([p for p in pieces if p.size], axis=0)
    keep = np.ones(line.shape[0], dtype=bool)
    keep[1:] = np.any(line[1:] != line[:-1], axis=1)
    return line[keep]


def _query_graph(graph: RoadGraph, pos: Positions, sources: IntArray) -> csr_matrix:
    """The junction graph with packed weights, plus one phantom node per source position."""
    n = graph.node_count
    weight = graph.arc_ms.astype(np.float64) * float(graph.pack_base) + np.round(
        graph.arc_cm / float(graph.length_unit_cm)
    )
    tail = np.repeat(np.arange(n), np.diff(graph.arc_indptr))
    phantom = n + np.arange(sources.shape[0])
    tails = np.concatenate([tail, phantom, phantom])
    heads = np.concatenate([graph.arc_head, pos.v[sources], pos.u[sources]])
    weights = np.concatenate([weight, pos.out_v[sources], pos.out_u[sources]])
    usable = np.isfinite(weights)
    size = n + sources.shape[0]
    # csr_matrix sums duplicates: only the lightest of parallel arcs may go in
    tails, heads, weights = tails[usable], heads[usable], np.maximum(weights[usable], 1.0)
    order = np.lexsort((weights, heads, tails))
    tails, heads, weights = tails[order], heads[order], weights[order]
    first = np.ones(tails.shape[0], dtype=bool)
    first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
    return csr_matrix((weights[first], (tails[first], heads[first])), shape=(size, size))


def leg_paths(provider: OsmProvider, points: FloatArray, legs: IntArray) -> list[FloatArray]:
    """The road path of each leg ``(from, to)`` of rows of ``points`` (``[lon, lat]``), as
    ``(k, 2)`` arrays of ``[lon, lat]`` from the snapped start to the snapped end.

    A leg between two points that snap to the same position is that one point (twice).
    """
    graph = provider.load()
    snap = provider.snap(np.asarray(points, dtype=np.float64))
    pos = positions(graph, position_keys(snap.segment, snap.fraction))
    legs = np.asarray(legs, dtype=np.int64).reshape(-1, 2)
    moving = np.any(pos.key[legs[:, 0]] != pos.key[legs[:, 1]], axis=1)
    starts = legs[moving, 0]
    # one source per distinct snapped position that a leg leaves from
    _, first_row, source_of = np.unique(
        pos.key[starts], axis=0, return_index=True, return_inverse=True
    )
    source_rows = starts[first_row]
    source_of = source_of.reshape(-1)
    full = _query_graph(graph, pos, source_rows)
    arcs, shapes = _ArcChains(graph), _Shapes(graph)
    out: list[FloatArray] = [np.empty((0, 2))] * legs.shape[0]
    moving_legs = np.flatnonzero(moving)
    for chunk in range(0, source_rows.shape[0], PATH_SOURCE_CHUNK):
        rows = np.arange(chunk, min(chunk + PATH_SOURCE_CHUNK, source_rows.shape[0]))
        dist, pred = dijkstra(
            full, directed=True, indices=graph.node_count + rows, return_predecessors=True
        )
        for k in np.flatnonzero(np.isin(source_of, rows)).tolist():
            leg = int(moving_legs[k])
            row = int(source_of[k]) - chunk
            pieces = _leg(graph, pos, arcs, shapes, dist[row], pred[row], legs[leg])
            out[leg] = _join(pieces)
    for leg in np.flatnonzero(~moving).tolist():
        i = int(legs[leg, 0])
        out[leg] = np.array([[pos.lon[i], pos.lat[i]]] * 2)
    return out


def _leg(
    graph: RoadGraph,
    pos: Positions,
    arcs: _ArcChains,
    shapes: _Shapes,
    dist: FloatArray,
    pred: IntArray,
    leg: IntArray,
) -> list[FloatArray]:
    """The pieces of one leg's path, given the Dijkstra row of its source."""
    i, j = int(leg[0]), int(leg[1])
    start = [np.array([[pos.lon[i], pos.lat[i]]])]
    end = [np.array([[pos.lon[j], pos.lat[j]]])]
    via_u = dist[pos.u[j]] + pos.in_u[j]
    via_v = dist[pos.v[j]] + pos.in_v[j]
    best = min(via_u, via_v)
    if pos.chain[i] == pos.chain[j]:
        if pos.fwd_open[i] and pos.off_cm[i] <= pos.off_cm[j]:
            direct = pack(
                graph,
                np.array([pos.off_fwd[j] - pos.off_fwd[i]]),
                np.array([pos.off_cm[j] - pos.off_cm[i]]),
            )
            if direct[0] <= best:
                return start + shapes.along(pos, i, j, True) + end
        if pos.bwd_open[i] and pos.off_cm[i] >= pos.off_cm[j]:
            direct = pack(
                graph,
                np.array([pos.off_bwd[i] - pos.off_bwd[j]]),
                np.array([pos.off_cm[i] - pos.off_cm[j]]),
            )
            if direct[0] <= best:
                return start + shapes.along(pos, i, j, False) + end
    if not np.isfinite(best):  # pragma: no cover - the graph is strongly connected
        raise RuntimeError(f"no road path from position {i} to {j}")
    from_u = bool(via_u <= via_v)
    node = int(pos.u[j] if from_u else pos.v[j])
    hops = [node]
    while pred[node] >= 0:
        node = int(pred[node])
        hops.append(node)
    hops.reverse()  # phantom, first junction, ..., the junction before j
    first = hops[1] if len(hops) > 1 else hops[0]
    to_v = _leaves_by_v(pos, i, first)
    pieces = start + shapes.leave(pos, i, to_v)
    for tail, head in itertools.pairwise(hops[1:]):
        chain, forward = arcs.lookup(tail, head)
        pieces += shapes.chain(chain, forward)
    return pieces + shapes.enter(pos, j, from_u) + end


def _leaves_by_v(pos: Positions, i: int, first: int) -> bool:
    """Whether a path from position ``i`` to junction ``first`` leaves by its chain's end v
    (when u and v are the same junction, by the lighter way out)."""
    if pos.u[i] == pos.v[i]:
        return bool(pos.out_v[i] <= pos.out_u[i])
    return bool(first == pos.v[i])


__all__ = ["leg_paths"]
