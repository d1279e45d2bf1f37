"""Compile a validated request into :class:`~solvers.allocation.data.AllocationData` arrays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.allocation import AllocationRequest, CostSettings, Order, Site
from models.routing import Id
from solvers.allocation.data import AllocationData

EARTH_RADIUS_KM = 6371.0088
#: Stands in for "no capacity limit".
UNLIMITED = 1 << 40


def haversine_km(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Great-circle km between every ``[lon, lat]`` row of ``a`` and every row of ``b``."""
    lon1, lat1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    lon2, lat2 = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class CostMatrices:
    """Per (order, site): distance, transit, lateness and the cost parts of a shipment."""

    distance_km: npt.NDArray[np.float64]
    transit_days: npt.NDArray[np.int64]
    days_late: npt.NDArray[np.int64]
    fixed: npt.NDArray[np.float64]
    distance_cost: npt.NDArray[np.float64]
    lateness_cost: npt.NDArray[np.float64]
    per_unit: npt.NDArray[np.float64]
    handling: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Compiled:
    """The arrays and the maps back to the caller's ids."""

    data: AllocationData
    orders: list[Order]
    sites: list[Site]
    skus: list[str]
    site_index: dict[Id, int]
    costs: CostMatrices
    online: npt.NDArray[np.bool_]
    channel_ok: npt.NDArray[np.bool_]
    sla_ok: npt.NDArray[np.bool_]
    plan_date: dt.date


def cost_matrices(
    order_xy: npt.NDArray[np.float64],
    promised: list[dt.date | None],
    sites: list[Site],
    costs: CostSettings,
    plan_date: dt.date,
) -> CostMatrices:
    """Distances, transit days and shipment cost parts for every (order, site)."""
    site_xy = np.asarray([s.location for s in sites], dtype=np.float64).reshape(-1, 2)
    dist = haversine_km(order_xy.reshape(-1, 2), site_xy)
    band_km = np.asarray([b.max_km for b in costs.transit])
    band_days = np.asarray([b.days for b in costs.transit], dtype=np.int64)
    transit = band_days[np.minimum(np.searchsorted(band_km, dist, side="left"), len(band_km) - 1)]
    promise_days = np.asarray(
        [(p - plan_date).days if p is not None else 1 << 30 for p in promised], dtype=np.int64
    )
    late = np.maximum(transit - promise_days[:, None], 0)
    ship = costs.shipping
    if ship.bands:
        kms = np.asarray([b.max_km for b in ship.bands])
        pick = np.minimum(np.searchsorted(kms, dist, side="left"), len(kms) - 1)
        fixed = np.asarray([b.fixed for b in ship.bands])[pick]
        per_unit = np.asarray([b.per_unit for b in ship.bands])[pick]
    else:
        fixed = np.full(dist.shape, ship.fixed)
        per_unit = np.full(dist.shape, ship.per_unit)
    handling = np.broadcast_to(
        np.asarray([costs.handling_for(s) for s in sites], dtype=np.float64), dist.shape
    )
    lateness = (
        late * costs.lateness_penalty_per_day if costs.sla == "soft" else np.zeros(dist.shape)
    )
    return CostMatrices(
        dist, transit, late, fixed, ship.per_km * dist, lateness, per_unit, handling
    )


def line_penalties(
    order_penalty: npt.NDArray[np.float64],
    cm: CostMatrices,
    eligible: npt.NDArray[np.bool_],
    holds: npt.NDArray[np.bool_],
    line_start: npt.NDArray[np.int64],
    line_qty: npt.NDArray[np.int64],
    costs: CostSettings,
) -> npt.NDArray[np.float64]:
    """Per unit of each line, what leaving it unfulfilled costs (see :class:`CostSettings`).

    Default: the priority penalty plus the dearest one-unit shipment over the order's eligible
    sites (``fixed + distance + lateness + per_unit + handling``) plus a split, so a missing
    unit always costs more than any shipment that could carry it. With ``drop_uneconomic``:
    the priority penalty plus the line's unavoidable lateness, ``min_s lateness_cost[o, s]``
    over the eligible sites holding its sku (all eligible sites if none does), spread over
    the line's quantity.
    """
    n_lines = np.diff(line_start)
    if not costs.drop_uneconomic:
        one_unit = cm.fixed + cm.distance_cost + cm.lateness_cost + cm.per_unit + cm.handling
        worst = np.where(eligible, one_unit, -np.inf).max(axis=1, initial=-np.inf)
        worst = np.where(np.isfinite(worst), worst + costs.split_penalty, 0.0)
        return np.repeat(order_penalty + worst, n_lines)
    line_order = np.repeat(np.arange(order_penalty.shape[0]), n_lines)
    late = cm.lateness_cost[line_order]
    elig = eligible[line_order]
    best = np.where(elig & holds, late, np.inf).min(axis=1, initial=np.inf)
    any_elig = np.where(elig, late, np.inf).min(axis=1, initial=np.inf)
    best = np.where(np.isfinite(best), best, any_elig)
    best = np.where(np.isfinite(best), best, 0.0)
    return np.repeat(order_penalty, n_lines) + best / np.maximum(line_qty, 1)


def compile_request(
    request: AllocationRequest, orders: list[Order], plan_date: dt.date
) -> Compiled:
    """Arrays for the valid ``orders`` of ``request``."""
    sites = request.sites
    site_index = {s.id: i for i, s in enumerate(sites)}
    skus = sorted({line.sku for o in orders for line in o.lines})
    sku_index = {k: i for i, k in enumerate(skus)}
    available = np.zeros((len(sites), len(skus)), dtype=np.int64)
    for rec in request.stock:
        k = sku_index.get(rec.sku)
        if k is not None:
            available[site_index[rec.site_id], k] = max(rec.on_hand - rec.safety_stock, 0)
    n_lines = np.asarray([len(o.lines) for o in orders], dtype=np.int64)
    line_start = np.r_[0, np.cumsum(n_lines)].astype(np.int64)
    line_sku = np.asarray([sku_index[ln.sku] for o in orders for ln in o.lines], dtype=np.int64)
    line_qty = np.asarray([ln.quantity for o in orders for ln in o.lines], dtype=np.int64)
    pen = np.asarray([request.costs.penalty_for(o.priority) for o in orders], dtype=np.float64)
    xy = np.asarray([o.location for o in orders], dtype=np.float64).reshape(-1, 2)
    cm = cost_matrices(xy, [o.promised_date for o in orders], sites, request.costs, plan_date)
    online = np.asarray([s.online for s in sites], dtype=bool)
    channel_ok = np.ones((len(orders), len(sites)), dtype=bool)
    for j, site in enumerate(sites):
        if site.channels:
            allowed = set(site.channels)
            channel_ok[:, j] = [o.channel in allowed for o in orders]
    sla_ok = cm.days_late == 0 if request.costs.sla == "hard" else np.ones_like(channel_ok)
    eligible = online[None, :] & channel_ok & sla_ok
    holds = available[:, line_sku].T > 0
    line_pen = line_penalties(pen, cm, eligible, holds, line_start, line_qty, request.costs)
    far = dt.date.max
    rank_key = sorted(
        range(len(orders)),
        key=lambda i: (
            -orders[i].priority,
            orders[i].promised_date or far,
            orders[i].created_date or far,
            i,
        ),
    )
    order_rank = np.empty(len(orders), dtype=np.int64)
    order_rank[rank_key] = np.arange(len(orders))
    n_sites = max(len(sites), 1)
    data = AllocationData(
        site_capacity_orders=np.asarray(
            [UNLIMITED if s.capacity_orders is None else s.capacity_orders for s in sites],
            dtype=np.int64,
        ),
        site_capacity_units=np.asarray(
            [UNLIMITED if s.capacity_units is None else s.capacity_units for s in sites],
            dtype=np.int64,
        ),
        available=available,
        line_start=line_start,
        line_sku=line_sku,
        line_quantity=line_qty,
        line_penalty=line_pen,
        order_rank=order_rank,
        order_max_shipments=np.asarray(
            [o.max_shipments or n_sites for o in orders], dtype=np.int64
        ),
        order_ship_complete=np.asarray([o.ship_complete for o in orders], dtype=bool),
        eligible=eligible,
        shipment_cost=cm.fixed + cm.distance_cost + cm.lateness_cost,
        unit_cost=cm.per_unit + cm.handling,
        distance_km=cm.distance_km,
        split_penalty=request.costs.split_penalty,
    )
    return Compiled(
        data, orders, sites, skus, site_index, cm, online, channel_ok, sla_ok, plan_date
    )
