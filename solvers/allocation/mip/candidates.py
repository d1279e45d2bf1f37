"""Pruning: the candidate ``(line, site)`` arcs the patterns are built from."""

from __future__ import annotations

import numpy as np

from solvers.allocation.data import AllocationData, AllocationSolution, IntArray
from solvers.allocation.mip.arrays import ragged_arange
from solvers.allocation.mip.params import MipParams


def candidate_arcs(
    data: AllocationData, params: MipParams, plans: tuple[AllocationSolution, ...] = ()
) -> tuple[IntArray, IntArray]:
    """Candidate ``(line, site)`` arcs after pruning, sorted by line then site."""
    line_arr, site_arr = _cheapest_arcs(data, params)
    line_arr = np.concatenate([line_arr, *(plan.line for plan in plans)])
    site_arr = np.concatenate([site_arr, *(plan.site for plan in plans)])
    ext_line, ext_site = _complex_order_arcs(data, line_arr, site_arr)
    line_arr = np.concatenate([line_arr, ext_line])
    site_arr = np.concatenate([site_arr, ext_site])
    sku, lo = data.line_sku, data.line_order
    ok_ext = (data.available[site_arr, sku[line_arr]] > 0) & data.eligible[lo[line_arr], site_arr]
    code = np.unique(line_arr[ok_ext] * data.n_sites + site_arr[ok_ext])
    return code // data.n_sites, code % data.n_sites


def _cheapest_arcs(data: AllocationData, params: MipParams) -> tuple[IntArray, IntArray]:
    """Per line, the cheapest eligible sites holding its sku: ``candidates_per_line``, more
    until their stock covers the line, and ``candidates_scarce`` for a scarce sku."""
    lo = data.line_order
    sku, qty = data.line_sku, data.line_quantity
    avail_ls = data.available[:, sku].T  # (L, S)
    ok = (avail_ls > 0) & data.eligible[lo]
    score = np.where(ok, data.shipment_cost[lo] + data.unit_cost[lo] * qty[:, None], np.inf)
    rank = np.argsort(score, axis=1, kind="stable")
    sorted_avail = np.take_along_axis(np.where(ok, avail_ls, 0), rank, axis=1)
    before = np.cumsum(sorted_avail, axis=1) - sorted_avail
    demand = np.bincount(sku, weights=qty, minlength=data.n_skus)
    supply = data.available.sum(axis=0)
    scarce = demand[sku] > params.scarce_ratio * supply[sku]
    position = np.arange(data.n_sites)[None, :]
    keep = (
        (position < params.candidates_per_line)
        | (before < qty[:, None])
        | (scarce[:, None] & (position < params.candidates_scarce))
    )
    keep &= np.take_along_axis(ok, rank, axis=1)
    lines, pos = np.nonzero(keep)
    return lines.astype(np.int64), rank[lines, pos].astype(np.int64)


def _complex_order_arcs(
    data: AllocationData, line_arr: IntArray, site_arr: IntArray
) -> tuple[IntArray, IntArray]:
    """Complex orders (more than one unit): every line may ship from any site the order may
    ship from. The arcs that adds (eligibility and stock not yet checked)."""
    lo, qty = data.line_order, data.line_quantity
    units = np.bincount(lo, weights=qty, minlength=data.n_orders)
    complex_order = units > 1
    o_arc = lo[line_arr]
    c_mask = complex_order[o_arc]
    pair = np.unique(o_arc[c_mask] * data.n_sites + site_arr[c_mask])
    p_order, p_site = pair // data.n_sites, pair % data.n_sites
    n_lines_o = np.diff(data.line_start)
    rep = n_lines_o[p_order]
    ext_line = np.repeat(data.line_start[p_order], rep) + ragged_arange(rep)
    ext_site = np.repeat(p_site, rep)
    return ext_line, ext_site
