"""CSV and JSON reading: per-order errors for bad order rows, named errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.formats.allocation_files import load_csv, load_json, write_shipments_csv
from engine.allocation import allocate, evaluate_allocation
from engine.allocation.validate import AllocationInputError
from tests.allocation_helpers import DAY

ORDERS = """order_id,line_id,sku,quantity,lat,lon,priority,ship_complete,max_shipments
o1,1,a,2,-22.9,-43.2,2,false,
o1,2,b,1,-22.9,-43.2,2,false,
o2,1,a,abc,-22.9,-43.2,1,false,
o3,1,a,1,,,1,false,
"""
STOCK = "site_id,sku,on_hand,safety_stock\nrio,a,5,1\nrio,b,1,0\n"
SITES = (
    "site_id,kind,lat,lon,capacity_orders,capacity_units,handling_cost_per_unit\n"
    "rio,store,-22.9,-43.2,10,,1.5\n"
)


def write(tmp_path: Path, orders: str = ORDERS, stock: str = STOCK, sites: str = SITES):
    paths = []
    for name, text in (("orders.csv", orders), ("stock.csv", stock), ("sites.csv", sites)):
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    return paths


def test_csv_round_trip_keeps_every_order(tmp_path: Path) -> None:
    loaded = load_csv(*write(tmp_path), plan_date=DAY)
    assert [o.id for o in loaded.request.orders] == ["o1", "o3"]
    assert [(r.order_id, r.reason) for r in loaded.rejected] == [("o2", "invalid_order")]
    assert "quantity 'abc' is not a number" in loaded.rejected[0].detail
    result = allocate(loaded.request, loaded.rejected)
    checked = evaluate_allocation(loaded.request, result, DAY, loaded.rejected)
    assert checked.feasible, [v.message for v in checked.violations]
    reasons = {u.order_id: (u.reason, u.detail) for u in result.unfulfilled}
    assert reasons["o3"] == ("invalid_order", "location is missing")
    other = write_shipments_csv(result, tmp_path / "shipments.csv")
    assert (tmp_path / "shipments.csv").read_text().splitlines()[0] == (
        "order_id,line_id,sku,site_id,quantity"
    )
    assert other.read_text().splitlines()[0].startswith("order_id,line_id,sku,quantity,reason")


def test_bad_stock_row_names_file_row_and_field(tmp_path: Path) -> None:
    paths = write(tmp_path, stock="site_id,sku,on_hand,safety_stock\nrio,a,-3,0\n")
    with pytest.raises(AllocationInputError, match=r"stock.csv row 2"):
        load_csv(*paths)


def test_missing_column_is_named(tmp_path: Path) -> None:
    paths = write(tmp_path, sites="site_id,lat\nrio,1\n")
    with pytest.raises(AllocationInputError, match="lon"):
        load_csv(*paths)


def test_unknown_stock_site_is_a_request_error(tmp_path: Path) -> None:
    loaded = load_csv(*write(tmp_path, stock="site_id,sku,on_hand\nnowhere,a,1\n"))
    with pytest.raises(AllocationInputError, match="nowhere"):
        allocate(loaded.request)


def test_json_request_with_one_bad_order(tmp_path: Path) -> None:
    body = {
        "plan_date": "2024-03-01",
        "sites": [{"id": "rio", "location": [-43.2, -22.9]}],
        "stock": [{"site_id": "rio", "sku": "a", "on_hand": 3}],
        "orders": [
            {"id": 1, "location": [-43.2, -22.9], "lines": [{"id": 1, "sku": "a", "quantity": 1}]},
            {"id": 2, "location": "nowhere", "lines": []},
        ],
    }
    (tmp_path / "r.json").write_text(json.dumps(body))
    loaded = load_json(tmp_path / "r.json")
    assert [o.id for o in loaded.request.orders] == [1]
    assert loaded.rejected[0].order_id == 2 and "location" in loaded.rejected[0].detail
    result = allocate(loaded.request, loaded.rejected)
    checked = evaluate_allocation(loaded.request, result, DAY, loaded.rejected)
    assert checked.feasible, [v.message for v in checked.violations]
    assert result.totals.orders == 2
