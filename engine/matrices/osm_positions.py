"""Where snapped points meet the road graph: the offsets along their chains and the packed
weights (``duration_ms * base + length``) out of and into each position, shared by the
matrices (:mod:`engine.matrices.osm`) and the drawn paths (:mod:`engine.matrices.osm_paths`),
so both see the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.matrices.osm_graph import RoadGraph

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Positions:
    """Where each point meets its chain, with the packed weights in and out of it."""

    seg: IntArray
    chain: IntArray
    u: IntArray
    v: IntArray
    off_cm: FloatArray
    off_fwd: FloatArray
    off_bwd: FloatArray
    fwd_open: npt.NDArray[np.bool_]
    bwd_open: npt.NDArray[np.bool_]
    out_v: FloatArray
    out_u: FloatArray
    in_u: FloatArray
    in_v: FloatArray
    key: IntArray  # (P, 2): segment and fraction, equal for identical positions
    lon: FloatArray
    lat: FloatArray


def pack(graph: RoadGraph, ms: FloatArray, cm: FloatArray) -> FloatArray:
    base, unit = float(graph.pack_base), float(graph.length_unit_cm)
    return np.asarray(np.maximum(ms, 0) * base + np.round(np.maximum(cm, 0) / unit))


def position_keys(segment: IntArray, fraction: FloatArray) -> IntArray:
    """``(P, 2)`` keys of snapped points: the segment and the fraction along it in 1e-9
    steps; identical positions have identical keys."""
    return np.stack([segment, np.round(fraction * 1e9).astype(np.int64)], axis=1)


def positions(graph: RoadGraph, key: IntArray) -> Positions:
    """The positions of snapped points (by :func:`position_keys`): where each meets its chain,
    its offsets along it, and the packed weights out of it and into it."""
    seg = key[:, 0]
    t = key[:, 1] / 1e9
    chain = graph.seg_chain[seg]
    fwd_open = graph.chain_fwd_ms[chain] >= 0
    bwd_open = graph.chain_bwd_ms[chain] >= 0
    off_cm = np.round(graph.seg_off_len_cm[seg] + t * graph.seg_len_cm[seg])
    off_fwd = np.round(graph.seg_off_fwd_ms[seg] + t * np.maximum(graph.seg_fwd_ms[seg], 0))
    off_bwd = np.round(graph.seg_off_bwd_ms[seg] + t * np.maximum(graph.seg_bwd_ms[seg], 0))
    chain_cm = graph.chain_len_cm[chain].astype(np.float64)
    chain_fwd = graph.chain_fwd_ms[chain].astype(np.float64)
    chain_bwd = graph.chain_bwd_ms[chain].astype(np.float64)
    seg_lon, seg_lat = graph.seg_lon[seg], graph.seg_lat[seg]
    return Positions(
        seg=seg,
        chain=chain,
        u=graph.chain_u[chain],
        v=graph.chain_v[chain],
        off_cm=off_cm,
        off_fwd=off_fwd,
        off_bwd=off_bwd,
        fwd_open=fwd_open,
        bwd_open=bwd_open,
        out_v=np.where(fwd_open, pack(graph, chain_fwd - off_fwd, chain_cm - off_cm), np.inf),
        out_u=np.where(bwd_open, pack(graph, off_bwd, off_cm), np.inf),
        in_u=np.where(fwd_open, pack(graph, off_fwd, off_cm), np.inf),
        in_v=np.where(bwd_open, pack(graph, chain_bwd - off_bwd, chain_cm - off_cm), np.inf),
        key=key,
        lon=seg_lon[:, 0] + t * (seg_lon[:, 1] - seg_lon[:, 0]),
        lat=seg_lat[:, 0] + t * (seg_lat[:, 1] - seg_lat[:, 0]),
    )
