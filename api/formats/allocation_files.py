"""Reading and writing the allocation formats: CSV files (one row per line) and JSON.

orders.csv: order_id, line_id, sku, quantity, lat, lon and optional channel, priority,
created_date, promised_date, payment_status, ship_complete, max_shipments (order-level values
are read from an order's first row). stock.csv: site_id, sku, on_hand, safety_stock.
sites.csv: site_id, kind, lat, lon, capacity_orders, capacity_units, handling_cost_per_unit,
and optional online and channels (``;``-separated). Any other column is an error naming
it and the known ones (a misspelt column must not vanish).

A bad order row makes its order ``invalid_order`` (the others go on); a bad site or stock
row is an :class:`AllocationInputError` naming file, row, field, value and why.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from engine.allocation.validate import AllocationInputError
from models.allocation import (
    AllocationOptions,
    AllocationRequest,
    AllocationResult,
    CostSettings,
    Order,
    OrderLine,
    Site,
    StockRecord,
    UnfulfilledLine,
)

ORDER_COLUMNS = ("order_id", "line_id", "sku", "quantity", "lat", "lon")
STOCK_COLUMNS = ("site_id", "sku", "on_hand", "safety_stock")
SITE_COLUMNS = (
    "site_id",
    "kind",
    "lat",
    "lon",
    "capacity_orders",
    "capacity_units",
    "handling_cost_per_unit",
)
#: Optional columns of orders.csv (order-level values are read from an order's first row).
ORDER_OPTIONAL = (
    "channel",
    "priority",
    "created_date",
    "promised_date",
    "payment_status",
    "ship_complete",
    "max_shipments",
)
SITE_OPTIONAL = ("online", "channels")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
#: The words a yes/no cell may hold (case-insensitive; blank is no).
TRUE_WORDS = frozenset(_TRUE)
FALSE_WORDS = frozenset(_FALSE)


@dataclass
class LoadedInput:
    """A request, plus lines refused while reading (their orders could not be built)."""

    request: AllocationRequest
    rejected: list[UnfulfilledLine] = field(default_factory=list)


def _read_csv(path: Path, required: tuple[str, ...], known: tuple[str, ...]) -> pd.DataFrame:
    """The file as text cells; a required column missing, or a column not ``known``, is an
    error naming the file and the column."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise AllocationInputError(str(path), str(path), "does not exist") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise AllocationInputError(str(path), str(path), f"is not a readable CSV: {exc}") from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise AllocationInputError(
            f"{path.name} columns", list(frame.columns), f"lack required column(s) {missing}"
        )
    for column in frame.columns:
        why = unknown_column_why(column, known)
        if why is not None:
            raise AllocationInputError(f"{path.name}, column {column}", column, why)
    return frame


def unknown_column_why(column: str, known: tuple[str, ...]) -> str | None:
    """Why ``column`` is refused (not ``known``; the closest known name suggested), or None."""
    if column in known:
        return None
    close = difflib.get_close_matches(column, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"is not a known column{hint}; known: {', '.join(known)}"


def _num(text: str, kind: type, where: str, allow_blank: bool = False) -> Any:
    text = text.strip()
    if text == "":
        if allow_blank:
            return None
        raise ValueError(f"{where} is empty")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where} {text!r} is not finite")
    if kind is int:
        if value != int(value):
            raise ValueError(f"{where} {text!r} is not a whole number")
        return int(value)
    return value


def _bool(text: str, where: str) -> bool:
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError(f"{where} {text!r} is not a boolean")


def _date(text: str, where: str) -> dt.date | None:
    t = text.strip()
    if not t:
        return None
    try:
        return dt.date.fromisoformat(t[:10])
    except ValueError:
        raise ValueError(f"{where} {text!r} is not a date (YYYY-MM-DD)") from None


def read_orders_csv(path: Path) -> tuple[list[Order], list[UnfulfilledLine]]:
    """Orders from ``path``; orders with an unreadable row come back as rejected lines."""
    return orders_from_frame(_read_csv(path, ORDER_COLUMNS, ORDER_COLUMNS + ORDER_OPTIONAL))


def orders_from_frame(frame: pd.DataFrame) -> tuple[list[Order], list[UnfulfilledLine]]:
    """Orders from a frame of text cells in the orders.csv layout (one row per line)."""
    frame = frame.astype(str)
    cols = {c: frame[c].tolist() for c in frame.columns}
    opt = [c for c in ORDER_OPTIONAL if c in cols]
    groups: dict[str, list[int]] = {}
    for i, oid in enumerate(cols["order_id"]):
        groups.setdefault(oid, []).append(i)
    orders: list[Order] = []
    rejected: list[UnfulfilledLine] = []
    for order_id, rows in groups.items():
        f = rows[0]
        row_no = f + 2  # the header is row 1
        try:
            lines = [
                OrderLine(
                    id=cols["line_id"][i],
                    sku=cols["sku"][i],
                    quantity=_num(cols["quantity"][i], int, f"row {i + 2} quantity"),
                )
                for i in rows
            ]
            lat = _num(cols["lat"][f], float, f"row {row_no} lat", allow_blank=True)
            lon = _num(cols["lon"][f], float, f"row {row_no} lon", allow_blank=True)
            kw: dict[str, Any] = {}
            if "channel" in opt and cols["channel"][f].strip():
                kw["channel"] = cols["channel"][f].strip()
            if "priority" in opt and cols["priority"][f].strip():
                kw["priority"] = _num(cols["priority"][f], int, f"row {row_no} priority")
            for name in ("created_date", "promised_date"):
                if name in opt:
                    kw[name] = _date(cols[name][f], f"row {row_no} {name}")
            if "payment_status" in opt:
                kw["payment_status"] = cols["payment_status"][f]
            if "ship_complete" in opt:
                kw["ship_complete"] = _bool(cols["ship_complete"][f], f"row {row_no} ship_complete")
            if "max_shipments" in opt:
                kw["max_shipments"] = _num(
                    cols["max_shipments"][f], int, f"row {row_no} max_shipments", allow_blank=True
                )
            location = None if lat is None or lon is None else (lon, lat)
            orders.append(Order(id=order_id, location=location, lines=lines, **kw))
        except (ValueError, ValidationError) as exc:
            why = _short(exc)
            rejected.extend(
                UnfulfilledLine(
                    order_id=order_id,
                    line_id=cols["line_id"][i],
                    sku=cols["sku"][i],
                    quantity=_safe_int(cols["quantity"][i]),
                    reason="invalid_order",
                    detail=why,
                )
                for i in rows
            )
    return orders, rejected


def _safe_int(text: str) -> int:
    try:
        return max(int(float(text)), 0)
    except ValueError:
        return 0


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"{loc}: {err.get('input')!r} {err['msg']}"
    return str(exc)


def read_stock_csv(path: Path) -> list[StockRecord]:
    """Stock records; any bad row raises :class:`AllocationInputError`."""
    frame = _read_csv(path, ("site_id", "sku", "on_hand"), STOCK_COLUMNS)
    out = []
    for idx, row in frame.iterrows():
        where = f"{path.name} row {int(idx) + 2}"  # type: ignore[call-overload]
        try:
            safety = row.get("safety_stock", "")
            out.append(
                StockRecord(
                    site_id=row["site_id"],
                    sku=row["sku"],
                    on_hand=_num(row["on_hand"], int, "on_hand"),
                    safety_stock=_num(safety, int, "safety_stock", allow_blank=True) or 0,
                )
            )
        except (ValueError, ValidationError) as exc:
            raise AllocationInputError(where, dict(row), _short(exc)) from None
    return out


def read_sites_csv(path: Path) -> list[Site]:
    """Sites; any bad row raises :class:`AllocationInputError`."""
    frame = _read_csv(path, ("site_id", "lat", "lon"), SITE_COLUMNS + SITE_OPTIONAL)
    out = []
    for idx, row in frame.iterrows():
        where = f"{path.name} row {int(idx) + 2}"  # type: ignore[call-overload]
        try:
            kw: dict[str, Any] = {}
            for name in ("capacity_orders", "capacity_units"):
                if name in row:
                    kw[name] = _num(row[name], int, name, allow_blank=True)
            if row.get("handling_cost_per_unit", "").strip():
                kw["handling_cost_per_unit"] = _num(
                    row["handling_cost_per_unit"], float, "handling_cost_per_unit"
                )
            if row.get("kind", "").strip():
                kw["kind"] = row["kind"].strip().lower()
            if row.get("online", "").strip():
                kw["online"] = _bool(row["online"], "online")
            if row.get("channels", "").strip():
                kw["channels"] = [c.strip() for c in row["channels"].split(";") if c.strip()]
            out.append(
                Site(
                    id=row["site_id"],
                    location=(_num(row["lon"], float, "lon"), _num(row["lat"], float, "lat")),
                    **kw,
                )
            )
        except (ValueError, ValidationError) as exc:
            raise AllocationInputError(where, dict(row), _short(exc)) from None
    return out


def load_csv(
    orders: Path,
    stock: Path,
    sites: Path,
    costs: CostSettings | None = None,
    options: AllocationOptions | None = None,
    plan_date: dt.date | None = None,
) -> LoadedInput:
    """A request from the three CSV files."""
    order_list, rejected = read_orders_csv(orders)
    request = AllocationRequest(
        plan_date=plan_date,
        sites=read_sites_csv(sites),
        stock=read_stock_csv(stock),
        orders=order_list,
        costs=costs or CostSettings(),
        options=options or AllocationOptions(),
    )
    return LoadedInput(request, rejected)


_ORDER = TypeAdapter(Order)


def load_json(path: Path) -> LoadedInput:
    """A request from JSON (the :class:`AllocationRequest` shape); orders checked one by one."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise AllocationInputError(str(path), str(path), "does not exist") from None
    except json.JSONDecodeError as exc:
        raise AllocationInputError(str(path), str(path), f"is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise AllocationInputError(str(path), type(raw).__name__, "must be a JSON object")
    raw_orders = raw.pop("orders", [])
    if not isinstance(raw_orders, list):
        raise AllocationInputError("orders", type(raw_orders).__name__, "must be a list")
    orders: list[Order] = []
    rejected: list[UnfulfilledLine] = []
    for i, item in enumerate(raw_orders):
        try:
            orders.append(_ORDER.validate_python(item))
        except ValidationError as exc:
            oid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
            rejected.append(
                UnfulfilledLine(
                    order_id=oid if isinstance(oid, str | int) else f"#{i}",
                    reason="invalid_order",
                    detail=f"orders[{i}].{_short(exc)}",
                )
            )
    try:
        request = AllocationRequest(orders=orders, **raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise AllocationInputError(loc, err.get("input"), err["msg"]) from None
    return LoadedInput(request, rejected)


def write_result_json(result: AllocationResult, path: Path) -> None:
    """The whole result as JSON."""
    Path(path).write_text(result.model_dump_json(indent=2))


def write_shipments_csv(result: AllocationResult, path: Path) -> Path:
    """shipments.csv (order_id, line_id, sku, site_id, quantity) and unfulfilled.csv beside it.

    Returns the path of unfulfilled.csv.
    """
    rows = [
        {
            "order_id": sh.order_id,
            "line_id": ln.line_id,
            "sku": ln.sku,
            "site_id": sh.site_id,
            "quantity": ln.quantity,
        }
        for sh in result.shipments
        for ln in sh.lines
    ]
    pd.DataFrame(rows, columns=["order_id", "line_id", "sku", "site_id", "quantity"]).to_csv(
        path, index=False
    )
    other = Path(path).with_name("unfulfilled.csv")
    pd.DataFrame(
        [
            u.model_dump(include={"order_id", "line_id", "sku", "quantity", "reason", "detail"})
            for u in result.unfulfilled
        ],
        columns=["order_id", "line_id", "sku", "quantity", "reason", "detail"],
    ).to_csv(other, index=False)
    return other
