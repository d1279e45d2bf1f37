"""The allocation benchmark's instances, as frames in the CSV layouts and as requests.

* Olist: real orders, items and customer locations (zip-prefix geolocation, averaged per
  prefix). Sites are k-means clusters of the real seller locations; stock is synthesized with
  a seed around each sku's real demand, placed mostly in its seller's cluster, with some skus
  scarce (spread thinly, so lines must split or go short). Cancelled orders are held
  (payment declined) and orders without items are invalid: the bad input is real.
* Synthetic: orders around weighted "cities" in Brazil's bounding box, Zipf sku popularity,
  1-4 lines, a tenth of the skus scarce, capacities 1.3x demand spread by site size.

The request is built from the frames here; the frames are also written as CSV files so that
``routeplan allocate`` can rerun an instance (a test checks both give the same request).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.allocation import (
    AllocationOptions,
    AllocationRequest,
    CostSettings,
    Order,
    OrderLine,
    Site,
    StockRecord,
)

PLAN_DATE = dt.date(2018, 9, 1)


def _geo(olist: Path) -> pd.DataFrame:
    geo = pd.read_csv(
        olist / "olist_geolocation_dataset.csv", dtype={"geolocation_zip_code_prefix": str}
    )
    geo = geo[(geo.geolocation_lat.between(-34, 6)) & (geo.geolocation_lng.between(-75, -33))]
    return geo.groupby("geolocation_zip_code_prefix")[["geolocation_lat", "geolocation_lng"]].mean()


@dataclass(frozen=True)
class OlistParams:
    """How the Olist-derived instance is made around the real orders (the synthesized parts).

    Promised dates are the plan date plus a ``promise_divisor``-th of the real delivery
    estimate (in days, clipped to ``promise_days``). Multi-line orders draw a number: below
    ``ship_complete_below`` they ship complete, above ``max_shipments_above`` they allow at
    most ``max_shipments``. Priority 3 and 2 go to orders worth more than ``priority_values``.
    A sku is scarce with probability ``scarce_share`` (its demand spread over
    ``scarce_sites`` sites, upper bound excluded), else out of stock with probability
    ``out_of_stock_share``, else stocked at ``stock_cover`` times its demand (plus one) over
    ``stock_sites`` sites; a stock record holds one unit of safety stock with probability
    ``safety_share``. The ``warehouse_share`` biggest sites are warehouses; capacities are
    the sites' share of the valid orders and units times the slack, plus the margin.
    """

    promise_divisor: int = 4
    promise_days: tuple[int, int] = (1, 10)
    ship_complete_below: float = 0.25
    max_shipments_above: float = 0.75
    max_shipments: int = 2
    priority_values: tuple[float, float] = (500.0, 150.0)
    scarce_share: float = 0.3
    scarce_sites: tuple[int, int] = (2, 5)
    out_of_stock_share: float = 0.04
    stock_cover: tuple[float, float] = (1.2, 2.5)
    stock_sites: tuple[int, int] = (1, 4)
    safety_share: float = 0.2
    warehouse_share: int = 4  # one site in this many
    order_capacity: tuple[float, int] = (1.1, 20)  # (slack, margin)
    unit_capacity: tuple[float, int] = (1.2, 30)
    handling_cost: tuple[float, float] = (0.8, 1.5)  # (warehouse, store) per unit


@dataclass(frozen=True)
class _OlistTables:
    """The Olist tables an instance is made of (orders cut to the first ``max_orders``)."""

    geo: pd.DataFrame
    orders: pd.DataFrame
    items: pd.DataFrame
    customers: pd.DataFrame
    sellers: pd.DataFrame


@dataclass(frozen=True)
class _Clusters:
    """Sites as k-means clusters of the sellers: centres, sellers per cluster, non-empty ones."""

    centres: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]
    alive: npt.NDArray[np.int64]


def _read_olist(olist: Path, max_orders: int | None) -> _OlistTables:
    geo = _geo(olist)
    zip_col = {"customer_zip_code_prefix": str, "seller_zip_code_prefix": str}
    orders = pd.read_csv(olist / "olist_orders_dataset.csv")
    items = pd.read_csv(olist / "olist_order_items_dataset.csv")
    customers = pd.read_csv(olist / "olist_customers_dataset.csv", dtype=zip_col)
    sellers = pd.read_csv(olist / "olist_sellers_dataset.csv", dtype=zip_col)
    if max_orders is not None:
        orders = orders.iloc[:max_orders]
    return _OlistTables(geo, orders, items, customers, sellers)


def _cluster_sellers(
    tables: _OlistTables, n_sites: int, seed: int
) -> tuple[pd.DataFrame, _Clusters]:
    """The located sellers with their ``site`` (k-means cluster), and the clusters."""
    from scipy.cluster.vq import kmeans2

    sellers = tables.sellers.join(tables.geo, on="seller_zip_code_prefix").dropna()
    xy = sellers[["geolocation_lng", "geolocation_lat"]].to_numpy()
    centres, label = kmeans2(xy, n_sites, seed=seed, minit="++")
    counts = np.bincount(label, minlength=n_sites)
    sellers["site"] = label
    return sellers, _Clusters(centres, counts, np.nonzero(counts)[0])


def _order_lines(items: pd.DataFrame, sellers: pd.DataFrame) -> pd.DataFrame:
    """Order lines: items of one product in one order make one line, at the seller's site."""
    sizes = items.groupby(["order_id", "product_id", "seller_id"], sort=False).size()
    lines = sizes.rename("quantity").reset_index()
    lines = lines.merge(sellers[["seller_id", "site"]], on="seller_id", how="left")
    lines["line_id"] = lines.groupby("order_id").cumcount() + 1
    return lines


def _order_heads(tables: _OlistTables, params: OlistParams) -> pd.DataFrame:
    """One row per order: customer location, promised date, payment status and priority."""
    o = tables.orders.merge(tables.customers, on="customer_id", how="left").join(
        tables.geo, on="customer_zip_code_prefix"
    )
    purchase = pd.to_datetime(o.order_purchase_timestamp)
    window = (pd.to_datetime(o.order_estimated_delivery_date) - purchase).dt.days
    low, high = params.promise_days
    o["promised_date"] = [
        (
            PLAN_DATE + dt.timedelta(days=int(np.clip(w // params.promise_divisor, low, high)))
        ).isoformat()
        if pd.notna(w)
        else ""
        for w in window
    ]
    o["payment_status"] = np.where(o.order_status == "canceled", "declined", "authorised")
    value = tables.items.groupby("order_id").price.sum()
    top, mid = params.priority_values
    o["priority"] = np.select(
        [o.order_id.map(value).fillna(0) > top, o.order_id.map(value).fillna(0) > mid], [3, 2], 1
    )
    return o


def _order_rows(
    o: pd.DataFrame, lines: pd.DataFrame, rng: np.random.Generator, params: OlistParams
) -> pd.DataFrame:
    """The orders.csv rows (text cells): one per line, orders without items as one bad row."""
    table = o[
        [
            "order_id",
            "geolocation_lat",
            "geolocation_lng",
            "promised_date",
            "payment_status",
            "priority",
        ]
    ].merge(lines, on="order_id", how="left")
    n_lines = table.groupby("order_id").order_id.transform("size")
    multi = (n_lines > 1).to_numpy()
    order_draw = table.order_id.map(
        dict(zip(o.order_id, rng.random(len(o)), strict=True))
    ).to_numpy()
    table["ship_complete"] = np.where(
        multi & (order_draw < params.ship_complete_below), "true", "false"
    )
    table["max_shipments"] = np.where(
        multi & (order_draw > params.max_shipments_above), str(params.max_shipments), ""
    )
    table["channel"] = "online"
    frame = pd.DataFrame(
        {
            "order_id": table.order_id,
            "line_id": table.line_id.fillna(0).astype(int).astype(str),
            "sku": table.product_id.fillna(""),
            "quantity": table.quantity.fillna(0).astype(int).astype(str),
            "lat": table.geolocation_lat.map(lambda v: "" if pd.isna(v) else f"{v:.6f}"),
            "lon": table.geolocation_lng.map(lambda v: "" if pd.isna(v) else f"{v:.6f}"),
            "channel": table.channel,
            "priority": table.priority.astype(str),
            "promised_date": table.promised_date,
            "payment_status": table.payment_status,
            "ship_complete": table.ship_complete,
            "max_shipments": table.max_shipments,
        }
    )
    # Orders without items stay as one row with no sku: they come back invalid.
    frame.loc[table.product_id.isna(), ["line_id", "sku", "quantity"]] = ["1", "", "0"]
    return frame


def _stock_rows(
    real: pd.DataFrame, alive: npt.NDArray[np.int64], rng: np.random.Generator, params: OlistParams
) -> pd.DataFrame:
    """Stock around real demand, mostly at the sku's home site (its seller's cluster)."""
    demand = real.groupby("product_id").quantity.sum()
    home = real.groupby("product_id").site.first().astype(int).to_dict()
    rows = []
    for sku, d in demand.items():
        scarce = d >= 2 and rng.random() < params.scarce_share
        if scarce:
            total, n_at = int(d), int(rng.integers(*params.scarce_sites))
        elif rng.random() < params.out_of_stock_share:
            rows.append((f"S{int(home[sku]):02d}", sku, 0, 0))  # known, out of stock
            continue
        else:
            cover = rng.uniform(*params.stock_cover)
            total, n_at = int(np.ceil(d * cover)) + 1, int(rng.integers(*params.stock_sites))
        at = [int(home[sku]), *rng.choice(alive, n_at - 1, replace=True).tolist()]
        share = rng.multinomial(total, np.full(len(at), 1 / len(at)))
        for s, q in zip(at, share, strict=True):
            if q > 0:
                safety = int(rng.random() < params.safety_share)
                rows.append((f"S{s:02d}", sku, int(q) + safety, safety))
    stock = pd.DataFrame(rows, columns=["site_id", "sku", "on_hand", "safety_stock"])
    return stock.groupby(["site_id", "sku"], as_index=False).sum()


def _site_rows(
    clusters: _Clusters, n_valid: int, units: int, n_sites: int, params: OlistParams
) -> pd.DataFrame:
    """The sites.csv rows: the biggest clusters are warehouses, capacities follow size."""
    counts, alive = clusters.counts, clusters.alive
    share = counts / counts.sum()
    big = np.argsort(-counts)[: max(n_sites // params.warehouse_share, 1)]
    order_slack, order_margin = params.order_capacity
    unit_slack, unit_margin = params.unit_capacity
    warehouse_cost, store_cost = params.handling_cost
    return pd.DataFrame(
        {
            "site_id": [f"S{s:02d}" for s in alive],
            "kind": ["warehouse" if s in big else "store" for s in alive],
            "lat": clusters.centres[alive, 1],
            "lon": clusters.centres[alive, 0],
            "capacity_orders": [
                int(np.ceil(order_slack * n_valid * share[s])) + order_margin for s in alive
            ],
            "capacity_units": [
                int(np.ceil(unit_slack * units * share[s])) + unit_margin for s in alive
            ],
            "handling_cost_per_unit": [warehouse_cost if s in big else store_cost for s in alive],
        }
    )


def olist_frames(
    olist: Path,
    n_sites: int = 20,
    seed: int = 0,
    max_orders: int | None = None,
    params: OlistParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(orders, stock, sites) frames in the CSV layouts, from the Olist sample."""
    params = params or OlistParams()
    rng = np.random.default_rng(seed)
    tables = _read_olist(olist, max_orders)
    sellers, clusters = _cluster_sellers(tables, n_sites, seed)
    lines = _order_lines(tables.items, sellers)
    heads = _order_heads(tables, params)
    frame = _order_rows(heads, lines, rng, params)
    real = lines.dropna(subset=["site"])
    stock = _stock_rows(real, clusters.alive, rng, params)
    n_valid = int((heads.order_status != "canceled").sum())
    sites = _site_rows(clusters, n_valid, int(real.quantity.sum()), n_sites, params)
    return frame, stock, sites


def synthetic_frames(
    n_orders: int, n_sites: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(orders, stock, sites) frames for a synthetic instance."""
    rng = np.random.default_rng(seed)
    n_cities = 40
    cities = np.c_[rng.uniform(-55, -38, n_cities), rng.uniform(-30, -5, n_cities)]
    weight = rng.pareto(1.2, n_cities) + 0.2
    weight /= weight.sum()
    site_xy = cities[rng.choice(n_cities, n_sites, p=weight)] + rng.normal(0, 0.3, (n_sites, 2))
    cust = cities[rng.choice(n_cities, n_orders, p=weight)] + rng.normal(0, 0.6, (n_orders, 2))
    n_skus = max(200, n_orders // 5)
    pop = 1 / np.arange(1, n_skus + 1) ** 0.9
    pop /= pop.sum()
    rng.shuffle(pop)
    n_lines = rng.choice([1, 2, 3, 4], n_orders, p=[0.8, 0.12, 0.06, 0.02])
    order_of = np.repeat(np.arange(n_orders), n_lines)
    sku = rng.choice(n_skus, order_of.shape[0], p=pop)
    qty = rng.choice([1, 2, 3], order_of.shape[0], p=[0.88, 0.09, 0.03])
    line_no = np.arange(order_of.shape[0]) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    # Lines of one order never repeat a sku here: fold repeats into one line.
    frame = pd.DataFrame({"o": order_of, "sku": sku, "qty": qty, "line": line_no})
    frame = (
        frame.groupby(["o", "sku"], as_index=False, sort=False)
        .agg(qty=("qty", "sum"), line=("line", "first"))
        .sort_values(["o", "line"])
    )
    demand = np.bincount(frame.sku, weights=frame.qty, minlength=n_skus)
    size = rng.uniform(0.3, 1.0, n_sites)
    stocks = rng.random((n_sites, n_skus)) < (0.15 + 0.5 * size)[:, None]
    stocks[np.argmax(size)] = True
    factor = np.where(
        rng.random(n_skus) < 0.1, rng.uniform(0.5, 1.0, n_skus), rng.uniform(1.5, 4, n_skus)
    )
    share = stocks * size[:, None]
    share = share / np.maximum(share.sum(0, keepdims=True), 1e-9)
    on_hand = np.floor(share * np.ceil(demand * factor)[None, :] + rng.random((n_sites, n_skus)))
    s_idx, k_idx = np.nonzero(on_hand > 0)
    stock = pd.DataFrame(
        {
            "site_id": [f"S{s}" for s in s_idx],
            "sku": [f"K{k}" for k in k_idx],
            "on_hand": on_hand[s_idx, k_idx].astype(int),
            "safety_stock": 0,
        }
    )
    prio = rng.choice([1, 2, 3], n_orders, p=[0.7, 0.2, 0.1])
    ship_complete = rng.random(n_orders) < 0.1
    max_ship = np.where(rng.random(n_orders) < 0.3, "1", "")
    o = frame.o.to_numpy()
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in o],
            "line_id": (frame.line.to_numpy() + 1).astype(str),
            "sku": [f"K{k}" for k in frame.sku],
            "quantity": frame.qty.astype(str),
            "lat": [f"{v:.5f}" for v in cust[o, 1]],
            "lon": [f"{v:.5f}" for v in cust[o, 0]],
            "priority": prio[o].astype(str),
            "ship_complete": np.where(ship_complete[o], "1", "0"),
            "max_shipments": max_ship[o],
        }
    )
    units = int(frame.qty.sum())
    sites = pd.DataFrame(
        {
            "site_id": [f"S{s}" for s in range(n_sites)],
            "kind": np.where(size > 0.6, "warehouse", "store"),
            "lat": site_xy[:, 1],
            "lon": site_xy[:, 0],
            "capacity_orders": np.ceil(1.3 * n_orders * size / size.sum()).astype(int),
            "capacity_units": np.ceil(1.3 * units * size / size.sum()).astype(int),
            "handling_cost_per_unit": np.where(size > 0.6, 0.5, 1.5),
        }
    )
    return orders, stock, sites


def sites_from_frame(sites: pd.DataFrame) -> list[Site]:
    """The sites of a generated sites frame."""
    return [
        Site(
            id=str(row["site_id"]),
            kind=str(row["kind"]),
            location=(float(row["lon"]), float(row["lat"])),
            capacity_orders=int(row["capacity_orders"]),
            capacity_units=int(row["capacity_units"]),
            handling_cost_per_unit=float(row["handling_cost_per_unit"]),
        )
        for row in sites.to_dict("records")
    ]


def stock_from_frame(stock: pd.DataFrame) -> list[StockRecord]:
    """The stock records of a generated stock frame."""
    return [
        StockRecord(
            site_id=str(row["site_id"]),
            sku=str(row["sku"]),
            on_hand=int(row["on_hand"]),
            safety_stock=int(row["safety_stock"]),
        )
        for row in stock.to_dict("records")
    ]


def _order_fields(cell: dict[str, str]) -> dict[str, Any]:
    """An order's own fields from the text cells of its first row (the columns present)."""
    fields: dict[str, Any] = {}
    if cell.get("channel", "").strip():
        fields["channel"] = cell["channel"].strip()
    if cell.get("priority", "").strip():
        fields["priority"] = int(cell["priority"])
    if "promised_date" in cell:
        promised = cell["promised_date"]
        fields["promised_date"] = dt.date.fromisoformat(promised) if promised else None
    if "payment_status" in cell:
        fields["payment_status"] = cell["payment_status"]
    if "ship_complete" in cell:
        fields["ship_complete"] = cell["ship_complete"] in ("true", "1")
    if "max_shipments" in cell:
        most = cell["max_shipments"]
        fields["max_shipments"] = int(most) if most else None
    return fields


def orders_from_frame(orders: pd.DataFrame) -> list[Order]:
    """The orders of a generated orders frame (text cells, one row per line).

    Numbers are read from the cells' text, as ``routeplan allocate`` reads the CSV file.
    """
    cells = {column: orders[column].astype(str).tolist() for column in orders.columns}
    rows_of: dict[str, list[int]] = {}
    for i, order_id in enumerate(cells["order_id"]):
        rows_of.setdefault(order_id, []).append(i)
    out = []
    for order_id, rows in rows_of.items():
        first = {column: values[rows[0]] for column, values in cells.items()}
        lines = [
            OrderLine(
                id=cells["line_id"][i], sku=cells["sku"][i], quantity=int(cells["quantity"][i])
            )
            for i in rows
        ]
        located = first["lat"] and first["lon"]
        location = (float(first["lon"]), float(first["lat"])) if located else None
        out.append(Order(id=order_id, location=location, lines=lines, **_order_fields(first)))
    return out


def request_from_frames(
    orders: pd.DataFrame,
    stock: pd.DataFrame,
    sites: pd.DataFrame,
    options: AllocationOptions,
    workdir: Path,
) -> AllocationRequest:
    """The allocation request of the frames, also written as CSV files into ``workdir`` (so
    that ``routeplan allocate`` can rerun the instance)."""
    workdir.mkdir(parents=True, exist_ok=True)
    orders.to_csv(workdir / "orders.csv", index=False)
    stock.to_csv(workdir / "stock.csv", index=False)
    sites.to_csv(workdir / "sites.csv", index=False)
    return AllocationRequest(
        plan_date=PLAN_DATE,
        sites=sites_from_frame(sites),
        stock=stock_from_frame(stock),
        orders=orders_from_frame(orders),
        costs=CostSettings(),
        options=options,
    )
