"""Allocation benchmark: the Olist-derived set and synthetic scaling, MIP against greedy.

* Olist: real orders, items and customer locations (zip-prefix geolocation, averaged per
  prefix). Sites are k-means clusters of the real seller locations; stock is synthesized with
  a seed around each sku's real demand, placed mostly in its seller's cluster, with some skus
  scarce (spread thinly, so lines must split or go short). Cancelled orders are held
  (payment declined) and orders without items are invalid: the bad input is real.
* Synthetic: orders around weighted "cities" in Brazil's bounding box, Zipf sku popularity,
  1-4 lines, a tenth of the skus scarce, capacities 1.3x demand spread by site size.

Every allocation is passed through the independent checker before it is reported.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from api.formats.allocation_files import (
    LoadedInput,
    orders_from_frame,
    read_sites_csv,
    read_stock_csv,
)
from engine.allocation import allocate, check_allocation
from models.allocation import AllocationOptions, AllocationRequest, CostSettings

PLAN_DATE = dt.date(2018, 9, 1)
RESULTS_HEADER = "## Allocation"


# ----------------------------------------------------------------------------- instances


def _geo(olist: Path) -> pd.DataFrame:
    geo = pd.read_csv(
        olist / "olist_geolocation_dataset.csv", dtype={"geolocation_zip_code_prefix": str}
    )
    geo = geo[(geo.geolocation_lat.between(-34, 6)) & (geo.geolocation_lng.between(-75, -33))]
    return geo.groupby("geolocation_zip_code_prefix")[["geolocation_lat", "geolocation_lng"]].mean()


def olist_frames(
    olist: Path, n_sites: int = 20, seed: int = 0, max_orders: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(orders, stock, sites) frames in the CSV layouts, from the Olist sample."""
    from scipy.cluster.vq import kmeans2

    rng = np.random.default_rng(seed)
    geo = _geo(olist)
    zip_col = {"customer_zip_code_prefix": str, "seller_zip_code_prefix": str}
    orders = pd.read_csv(olist / "olist_orders_dataset.csv")
    items = pd.read_csv(olist / "olist_order_items_dataset.csv")
    customers = pd.read_csv(olist / "olist_customers_dataset.csv", dtype=zip_col)
    sellers = pd.read_csv(olist / "olist_sellers_dataset.csv", dtype=zip_col)
    if max_orders is not None:
        orders = orders.iloc[:max_orders]
    # Sites: k-means over seller locations.
    sellers = sellers.join(geo, on="seller_zip_code_prefix").dropna()
    xy = sellers[["geolocation_lng", "geolocation_lat"]].to_numpy()
    centres, label = kmeans2(xy, n_sites, seed=seed, minit="++")
    counts = np.bincount(label, minlength=n_sites)
    alive = np.nonzero(counts)[0]
    sellers["site"] = label
    # Order lines: items of one product in one order make one line.
    lines = items.groupby(["order_id", "product_id", "seller_id"], sort=False).size()
    lines = lines.rename("quantity").reset_index()
    lines = lines.merge(sellers[["seller_id", "site"]], on="seller_id", how="left")
    lines["line_id"] = lines.groupby("order_id").cumcount() + 1
    o = orders.merge(customers, on="customer_id", how="left").join(
        geo, on="customer_zip_code_prefix"
    )
    purchase = pd.to_datetime(o.order_purchase_timestamp)
    window = (pd.to_datetime(o.order_estimated_delivery_date) - purchase).dt.days
    o["promised_date"] = [
        (PLAN_DATE + dt.timedelta(days=int(np.clip(w // 4, 1, 10)))).isoformat()
        if pd.notna(w)
        else ""
        for w in window
    ]
    o["payment_status"] = np.where(o.order_status == "canceled", "declined", "authorised")
    value = items.groupby("order_id").price.sum()
    o["priority"] = np.select(
        [o.order_id.map(value).fillna(0) > 500, o.order_id.map(value).fillna(0) > 150], [3, 2], 1
    )
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
    table["ship_complete"] = np.where(multi & (order_draw < 0.25), "true", "false")
    table["max_shipments"] = np.where(multi & (order_draw > 0.75), "2", "")
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
    # Stock around real demand, home site = seller's cluster.
    real = lines.dropna(subset=["site"])
    demand = real.groupby("product_id").quantity.sum()
    home = real.groupby("product_id").site.first().astype(int)
    rows = []
    for sku, d in demand.items():
        scarce = d >= 2 and rng.random() < 0.3
        if scarce:
            total, n_at = int(d), int(rng.integers(2, 5))
        elif rng.random() < 0.04:
            rows.append((f"S{int(home[sku]):02d}", sku, 0, 0))  # known, out of stock
            continue
        else:
            total, n_at = int(np.ceil(d * rng.uniform(1.2, 2.5))) + 1, int(rng.integers(1, 4))
        at = [int(home[sku]), *rng.choice(alive, n_at - 1, replace=True).tolist()]
        share = rng.multinomial(total, np.full(len(at), 1 / len(at)))
        for s, q in zip(at, share, strict=True):
            if q > 0:
                safety = int(rng.random() < 0.2)
                rows.append((f"S{s:02d}", sku, int(q) + safety, safety))
    stock = pd.DataFrame(rows, columns=["site_id", "sku", "on_hand", "safety_stock"])
    stock = stock.groupby(["site_id", "sku"], as_index=False).sum()
    n_valid = int((o.order_status != "canceled").sum())
    units = int(real.quantity.sum())
    share = counts / counts.sum()
    big = np.argsort(-counts)[: max(n_sites // 4, 1)]
    sites = pd.DataFrame(
        {
            "site_id": [f"S{s:02d}" for s in alive],
            "kind": ["warehouse" if s in big else "store" for s in alive],
            "lat": centres[alive, 1],
            "lon": centres[alive, 0],
            "capacity_orders": [int(np.ceil(1.1 * n_valid * share[s])) + 20 for s in alive],
            "capacity_units": [int(np.ceil(1.2 * units * share[s])) + 30 for s in alive],
            "handling_cost_per_unit": [0.8 if s in big else 1.5 for s in alive],
        }
    )
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


def request_from_frames(
    orders: pd.DataFrame,
    stock: pd.DataFrame,
    sites: pd.DataFrame,
    options: AllocationOptions,
    workdir: Path,
) -> LoadedInput:
    """Write the frames as CSV into ``workdir`` (so the CLI can rerun them) and load them."""
    workdir.mkdir(parents=True, exist_ok=True)
    orders.to_csv(workdir / "orders.csv", index=False)
    stock.to_csv(workdir / "stock.csv", index=False)
    sites.to_csv(workdir / "sites.csv", index=False)
    order_list, rejected = orders_from_frame(orders)
    request = AllocationRequest(
        plan_date=PLAN_DATE,
        sites=read_sites_csv(workdir / "sites.csv"),
        stock=read_stock_csv(workdir / "stock.csv"),
        orders=order_list,
        costs=CostSettings(),
        options=options,
    )
    return LoadedInput(request, rejected)


# ----------------------------------------------------------------------------- runner


@dataclass
class Row:
    """One instance's figures."""

    name: str
    orders: int
    sites: int
    mip_cost: float
    greedy_nearest_cost: float
    greedy_fewest_cost: float
    gap: float | None
    status: str
    mip_splits: int
    greedy_nearest_splits: int
    greedy_fewest_splits: int
    units_shipped: int
    seconds: float
    solver_seconds: float
    checker_ok: bool
    details: dict[str, float]


def run_instance(name: str, loaded: LoadedInput, check: bool = True) -> Row:
    """Allocate with the MIP (greedy baselines come with it) and check the result."""
    req = loaded.request
    start = time.perf_counter()
    result = allocate(req, loaded.rejected)
    seconds = time.perf_counter() - start
    errors = check_allocation(req, result, PLAN_DATE, loaded.rejected) if check else []
    base = {b.method: b for b in result.baselines}
    return Row(
        name=name,
        orders=result.totals.orders,
        sites=len(req.sites),
        mip_cost=result.totals.objective,
        greedy_nearest_cost=base["greedy_nearest"].objective,
        greedy_fewest_cost=base["greedy_fewest_splits"].objective,
        gap=result.stats.gap,
        status=result.stats.status,
        mip_splits=result.totals.splits,
        greedy_nearest_splits=base["greedy_nearest"].splits,
        greedy_fewest_splits=base["greedy_fewest_splits"].splits,
        units_shipped=result.totals.units_shipped,
        seconds=seconds,
        solver_seconds=result.stats.details.get("solve_s", 0.0)
        + result.stats.details.get("build_s", 0.0)
        + result.stats.details.get("greedy_s", 0.0),
        checker_ok=not errors,
        details=result.stats.details,
    )


def run(
    out: Path,
    quick: bool,
    shared_data: Path,
    update_results: Path | None = None,
    progress=None,
    instances: Path | None = None,
) -> list[Row]:
    """Run the benchmark, write rows.json and plots into ``out`` and, if asked, RESULTS.md.

    The instances' CSV files go to ``instances`` (kept, for ``routeplan allocate``) or to a
    temporary folder. Olist-derived files are for local use only (the data's licence).
    """
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="routeplan-alloc-")
    where = instances or Path(tmp.name)
    rows: list[Row] = []
    backends: list[dict[str, object]] = []
    olist = shared_data / "olist"

    def tell(msg: str) -> None:
        if progress is not None:
            progress(msg)

    if (olist / "olist_orders_dataset.csv").is_file():
        n = 600 if quick else None
        frames = olist_frames(olist, n_sites=20, seed=0, max_orders=n)
        opts = AllocationOptions(
            time_limit_s=10.0 if quick else 60.0, relative_gap=0.0005, explain=False
        )
        loaded = request_from_frames(*frames, opts, where / "olist")
        tell(f"olist: {len(loaded.request.orders)} orders")
        rows.append(run_instance("olist" + ("-600" if quick else ""), loaded))
        if not quick:
            tell("olist: backends")
            backends += compare_backends("olist", loaded, 30.0, 0.001, unpruned=True)
    # (orders, sites, time limit, candidate sites per line)
    sizes = (
        [(300, 10, 5.0, 3)]
        if quick
        else [
            (1000, 10, 10.0, 3),
            (1000, 50, 10.0, 3),
            (10000, 50, 10.0, 3),
            (10000, 100, 20.0, 3),
            (100000, 100, 120.0, 2),
        ]
    )
    for n_orders, n_sites, limit, k in sizes:
        frames = synthetic_frames(n_orders, n_sites, seed=1)
        opts = AllocationOptions(
            time_limit_s=limit, relative_gap=0.005, explain=False, candidates_per_line=k
        )
        name = f"synthetic-{n_orders}x{n_sites}"
        loaded = request_from_frames(*frames, opts, where / name)
        tell(f"{name}: solving (limit {limit:g} s)")
        rows.append(run_instance(name, loaded, check=True))
        if quick or (n_orders, n_sites) == (10000, 50):
            tell(f"{name}: backends")
            backends += compare_backends(name, loaded, 2.0 if quick else 30.0, 0.001)
    (out / "rows.json").write_text(json.dumps([asdict(r) for r in rows], indent=2))
    (out / "backends.json").write_text(json.dumps(backends, indent=2))
    plot(rows, out)
    if update_results is not None:
        write_results(rows, update_results, out, quick, backends)
    tmp.cleanup()
    return rows


def plot(rows: list[Row], out: Path) -> None:
    """cost.png and time.png against instance size (synthetic rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    syn = [r for r in rows if r.name.startswith("synthetic")]
    if not syn:
        return
    labels = [
        f"{r.orders // 1000 or r.orders}{'k' if r.orders >= 1000 else ''}x{r.sites}" for r in syn
    ]
    x = np.arange(len(syn))
    fig, ax = plt.subplots(figsize=(7, 4))
    for attr, lab in (
        ("mip_cost", "MIP"),
        ("greedy_nearest_cost", "greedy nearest"),
        ("greedy_fewest_cost", "greedy fewest splits"),
    ):
        ax.plot(x, [getattr(r, attr) / r.orders for r in syn], marker="o", label=lab)
    ax.set_xticks(x, labels)
    ax.set_ylabel("cost per order")
    ax.set_xlabel("orders x sites")
    ax.legend()
    ax.set_title("Allocation cost per order")
    fig.tight_layout()
    fig.savefig(out / "cost.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x, [r.seconds for r in syn], marker="o", label="MIP wall (allocate)")
    ax.set_xticks(x, labels)
    ax.set_yscale("log")
    ax.set_ylabel("seconds")
    ax.set_xlabel("orders x sites")
    ax.legend()
    ax.set_title("Allocation wall time")
    fig.tight_layout()
    fig.savefig(out / "time.png", dpi=100)
    plt.close(fig)


def table(rows: list[Row]) -> str:
    """The Markdown table of results."""
    head = (
        "| instance | orders | sites | MIP cost | greedy nearest | greedy fewest-splits "
        "| MIP vs best greedy | gap | splits (MIP/near/fewest) | seconds | checker |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = ""
    for r in rows:
        best = min(r.greedy_nearest_cost, r.greedy_fewest_cost)
        gap = "n/a" if r.gap is None else f"{100 * r.gap:.3f}%"
        body += (
            f"| {r.name} | {r.orders} | {r.sites} | {r.mip_cost:,.0f} | "
            f"{r.greedy_nearest_cost:,.0f} | {r.greedy_fewest_cost:,.0f} | "
            f"{100 * (r.mip_cost - best) / best:+.2f}% | {gap} | "
            f"{r.mip_splits}/{r.greedy_nearest_splits}/{r.greedy_fewest_splits} | "
            f"{r.seconds:.1f} | {'ok' if r.checker_ok else 'FAILED'} |\n"
        )
    return head + body


def write_results(
    rows: list[Row],
    path: Path,
    out: Path,
    quick: bool,
    backends: list[dict[str, object]] | None = None,
) -> None:
    """Replace (or add) the "## Allocation" section of RESULTS.md."""
    try:
        rel = out.resolve().relative_to(path.parent.resolve())
    except ValueError:
        rel = out
    section = (
        f"{RESULTS_HEADER}\n\n"
        "Made by (from the repository root, on the 2-core machine):\n\n"
        "```\n"
        f".venv/bin/routeplan bench allocation{' --quick' if quick else ''} --out {out} "
        f"--results {path}\n"
        "```\n\n"
        "Costs are the full objective (shipping + handling + split + lateness penalties + "
        "unfulfilled penalties), recomputed by the independent checker. `seconds` is the wall "
        "time of `allocate()` (validation, compiling, both greedy baselines, pruning, model "
        "building, LP, MIP, decoding). The gap is proven against the LP bound of the pruned "
        "model (k cheapest eligible sites per line, k = 3; 2 for 100k, plus sites needed to "
        "reach stock, scarce-sku sites and the greedy plans' sites). Olist: time limit 60 s, "
        "target gap 0.05%; synthetic: target gap 0.5%, time limits 10 s (1k, 10k x 50), "
        "20 s (10k x 100), 120 s (100k).\n\n"
        + table(rows)
        + f"\n![cost]({rel}/cost.png) ![time]({rel}/time.png)\n"
        + (
            "\nBackends on the same pattern model (time limit 30 s, target gap 0.1%). "
            "'LP + neighbourhood MIPs' solves the LP relaxation, keeps the orders it serves "
            "whole, and solves MIPs over the fractional orders and their cheapest-to-move "
            "neighbours; 'MIP' is plain branch-and-cut from the greedy warm start. CP-SAT gets "
            "costs in cents and no LP stage. HiGHS through MathOpt is the default backend.\n\n"
            + backend_table(backends)
            if backends
            else ""
        )
    )
    text = path.read_text() if path.is_file() else "# Benchmark results\n"
    if RESULTS_HEADER in text:
        start = text.index(RESULTS_HEADER)
        nxt = text.find("\n## ", start + len(RESULTS_HEADER))
        text = text[:start] + section + (text[nxt + 1 :] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def compare_backends(
    name: str, loaded: LoadedInput, time_limit_s: float, gap: float, unpruned: bool = False
) -> list[dict[str, object]]:
    """The same instance with each backend, with and without the LP stage, and (if asked)
    HiGHS over every eligible site, to measure what pruning costs."""
    out: list[dict[str, object]] = []
    k = loaded.request.options.candidates_per_line
    all_sites = len(loaded.request.sites)
    for backend, lp_fix, cands in (
        ("highs", True, k),
        ("highs", False, k),
        ("scip", True, k),
        ("scip", False, k),
        ("cp_sat", False, k),
        *([("highs", True, all_sites)] if unpruned else []),
    ):
        opts = loaded.request.options.model_copy(
            update={
                "backend": backend,
                "lp_fix": lp_fix,
                "time_limit_s": time_limit_s,
                "relative_gap": gap,
                "candidates_per_line": cands,
            }
        )
        req = loaded.request.model_copy(update={"options": opts})
        start = time.perf_counter()
        result = allocate(req, loaded.rejected)
        seconds = time.perf_counter() - start
        ok = not check_allocation(req, result, PLAN_DATE, loaded.rejected)
        out.append(
            {
                "instance": name,
                "backend": backend,
                "strategy": ("LP + neighbourhood MIPs" if lp_fix else "MIP")
                + (f", k={cands}" if cands != all_sites else ", no pruning (all sites)"),
                "cost": result.totals.objective,
                "gap": result.stats.gap,
                "status": result.stats.status,
                "seconds": seconds,
                "checker_ok": ok,
            }
        )
    return out


def backend_table(rows: list[dict[str, object]]) -> str:
    """Markdown table of :func:`compare_backends` rows."""
    text = (
        "| instance | backend | strategy | cost | gap | status | seconds | checker |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    for r in rows:
        gap = "n/a" if r["gap"] is None else f"{100 * float(r['gap']):.3f}%"  # type: ignore[arg-type]
        text += (
            f"| {r['instance']} | {r['backend']} | {r['strategy']} | {r['cost']:,.0f} | "
            f"{gap} | {r['status']} | {r['seconds']:.1f} | "
            f"{'ok' if r['checker_ok'] else 'FAILED'} |\n"
        )
    return text
