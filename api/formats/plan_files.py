"""Read a day plan from CSV or JSON files, and write its outputs.

CSV input: ``orders.csv``, ``stock.csv`` and ``sites.csv`` as for ``routeplan allocate``;
``fleet.csv`` as ``vehicles.csv`` for ``routeplan route`` plus a ``site_id`` column (start and
end default to the site); optional ``products.csv`` (``sku, weight_kg, volume_l``) and
``deliveries.csv`` (``order_id, time_windows ("start-end;..."), service_s``).
JSON input: one :class:`PlanRequest` document; orders are checked one by one, so a malformed
order is reported (``invalid_order``) while the others go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from api.formats.allocation_files import read_orders_csv, read_sites_csv, read_stock_csv
from api.formats.routing_csv import (
    VEHICLE_COLUMNS,
    VEHICLE_PATTERNS,
    InputFileError,
    check_columns,
    from_csv_validation,
    is_blank,
    parse_number,
    parse_windows,
    read_csv_table,
    read_json,
    records,
    vehicle_from_row,
)
from engine.plan.pipeline import check_plan_inputs
from models.allocation import Order, UnfulfilledLine
from models.errors import describe
from models.plan import PlannedShipment, PlanRequest, PlanResult

_ORDER = TypeAdapter(Order)


def _table(path: Path, key: str, optional: tuple[str, ...]) -> list[dict[str, Any]]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputFileError(f"{path}: not a readable CSV file ({error})") from None
    if key not in frame.columns:
        raise InputFileError(f"{path}: the column {key!r} is required")
    check_columns(path, list(frame.columns), (key, *optional))
    return records(frame)


def load_plan_csv(
    orders: Path,
    stock: Path,
    sites: Path,
    fleet: Path,
    products: Path | None = None,
    deliveries: Path | None = None,
) -> tuple[dict[str, Any], list[UnfulfilledLine]]:
    """The raw plan request (to validate) and the order lines refused while reading."""
    order_list, rejected = read_orders_csv(orders)
    vehicles = []
    fleet_table = read_csv_table(fleet)
    check_columns(fleet, list(fleet_table.columns), (*VEHICLE_COLUMNS, "site_id"), VEHICLE_PATTERNS)
    for k, row in enumerate(records(fleet_table)):
        where = f"{fleet.name} row {k + 2}"
        if is_blank(row.get("site_id")):
            raise InputFileError.cell(f"{where}, column site_id", "", "is required")
        vehicle = vehicle_from_row(row, where)
        vehicle["site_id"] = str(row["site_id"]).strip()
        vehicles.append(vehicle)
    raw: dict[str, Any] = {
        "sites": [s.model_dump() for s in read_sites_csv(sites)],
        "stock": [s.model_dump() for s in read_stock_csv(stock)],
        "orders": [o.model_dump() for o in order_list],
        "fleet": vehicles,
    }
    if products is not None:
        raw["products"] = [
            {
                "sku": str(row["sku"]).strip(),
                **{
                    key: parse_number(row[key], f"{products.name} row {k + 2}, column {key}")
                    for key in ("weight_kg", "volume_l")
                    if not is_blank(row.get(key))
                },
            }
            for k, row in enumerate(_table(products, "sku", ("weight_kg", "volume_l")))
        ]
    if deliveries is not None:
        raw["deliveries"] = []
        for k, row in enumerate(_table(deliveries, "order_id", ("time_windows", "service_s"))):
            where = f"{deliveries.name} row {k + 2}"
            item: dict[str, Any] = {"order_id": str(row["order_id"]).strip()}
            if not is_blank(row.get("time_windows")):
                item["time_windows"] = parse_windows(
                    row["time_windows"], f"{where}, column time_windows"
                )
            if not is_blank(row.get("service_s")):
                item["service_s"] = parse_number(row["service_s"], f"{where}, column service_s")
            raw["deliveries"].append(item)
    return raw, rejected


def load_plan_json(path: Path) -> tuple[dict[str, Any], list[UnfulfilledLine]]:
    """The raw plan request with its valid orders, and lines of orders that are malformed."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise InputFileError(f"{path}: a plan request is a JSON object")
    orders = raw.get("orders", [])
    if not isinstance(orders, list):
        raise InputFileError(f"{path}: orders must be a list")
    valid, rejected = [], []
    for i, item in enumerate(orders):
        try:
            valid.append(_ORDER.validate_python(item).model_dump())
        except ValidationError as error:
            first = describe(error)[0]
            oid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
            rejected.append(
                UnfulfilledLine(
                    order_id=oid if isinstance(oid, str | int) else f"#{i}",
                    reason="invalid_order",
                    detail=f"orders[{i}].{first['field']} = {first['value']}: {first['message']}",
                )
            )
    return {**raw, "orders": valid}, rejected


def validate_plan(raw: dict[str, Any], files: dict[str, str] | None = None) -> PlanRequest:
    """The validated request (raises pydantic's ``ValidationError`` naming each field; with
    ``files``, the CSV file names of ``fleet``, ``products`` and ``deliveries``, an
    :class:`InputFileError` naming file, row and column).

    A plan routes orders by their addresses, so its matrices come from coordinates and its
    vans start and end at coordinates (or their site): an explicit matrix, or a fleet
    vehicle's ``start_index``/``end_index``, is invalid input naming the field.
    """
    try:
        request = PlanRequest.model_validate(raw)
    except ValidationError as error:
        if files is None:
            raise
        raise from_csv_validation(error, files) from None
    check_plan_inputs(request)  # the engine's own check, before anything runs
    return request


def write_plan_outputs(result: PlanResult, folder: Path) -> list[Path]:
    """``plan.json``, ``shipments.csv`` (one row per shipment line) and ``unassigned.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    plan_json = folder / "plan.json"
    plan_json.write_text(result.model_dump_json(indent=2))
    rows = [_shipment_row(s, line) for s in result.shipments for line in s.lines]
    shipments_csv = folder / "shipments.csv"
    pd.DataFrame(rows).to_csv(shipments_csv, index=False)
    unassigned_csv = folder / "unassigned.csv"
    pd.DataFrame(
        [u.model_dump() for u in result.unassigned],
        columns=["stage", "order_id", "line_id", "site_id", "reason", "message"],
    ).to_csv(unassigned_csv, index=False)
    return [plan_json, shipments_csv, unassigned_csv]


def _shipment_row(shipment: PlannedShipment, line: Any) -> dict[str, Any]:
    return {
        "order_id": shipment.order_id,
        "line_id": line.line_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "site_id": shipment.site_id,
        "mode": shipment.mode,
        "vehicle_id": shipment.vehicle_id,
        "eta_s": shipment.eta_s,
        "eta_time": shipment.eta_time.isoformat() if shipment.eta_time else None,
        "expected_date": shipment.expected_date.isoformat(),
        "on_time": shipment.on_time,
    }
