"""Read routing requests from CSV (stops.csv + vehicles.csv) or JSON files.

``stops.csv`` columns: ``id, lat, lon`` (or ``location_index``), and optionally
``service_s``, ``time_windows`` (``"start-end;start-end"`` in seconds) or ``tw_start_s`` and
``tw_end_s``, ``skills`` (``"a;b"``), ``optional``, ``drop_penalty``, ``priority``, and one
``demand_<name>`` column per quantity.

``vehicles.csv`` columns: ``id``, and optionally ``start_lat, start_lon, end_lat, end_lon``
(blank = open route), ``shift_start_s, shift_end_s``, ``max_duration_s, max_distance_m,
max_stops``, ``fixed_cost, cost_per_km, cost_per_hour``, ``skills``, ``speed_factor``,
``break_start_s, break_end_s, break_duration_s`` (one break), and one ``capacity_<name>``
column per quantity.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from models.errors import InvalidInputError, detail
from models.routing import RoutingRequest

#: Where a cell is, as the readers name it: ``stops.csv row 2, demand_kg``.
_CELL = re.compile(r"(?P<file>.+?) row (?P<row>\d+)(?:, (?P<column>.+))?")


class InputFileError(InvalidInputError):
    """A file could not be read, or a cell is not what its column needs.

    ``file``, ``row`` (numbered as a spreadsheet shows it: the header is row 1) and ``column``
    say where, as far as known.
    """

    def __init__(
        self,
        message: str,
        details: Sequence[Mapping[str, Any]] | None = None,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, details)
        self.file, self.row, self.column = file, row, column

    @classmethod
    def in_file(cls, path: Path | str, why: str) -> InputFileError:
        """A problem with the whole file: ``path: why``."""
        return cls(f"{path}: {why}", [detail(str(path), None, why)], file=str(path))

    @classmethod
    def cell(cls, where: str, value: Any, why: str) -> InputFileError:
        """A bad ``value`` at ``where`` (``stops.csv row 2, demand_kg``): ``where: value why``."""
        found = _CELL.fullmatch(where)
        return cls(
            f"{where}: {value!r} {why}",
            [detail(where, value, why)],
            file=found["file"] if found else None,
            row=int(found["row"]) if found else None,
            column=found["column"] if found else None,
        )


def is_blank(value: Any) -> bool:
    """Whether a CSV cell is empty."""
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or str(value).strip() == ""
    )


def parse_number(value: Any, where: str) -> float:
    """A cell as a number, or an error naming ``where`` and the value."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InputFileError.cell(where, value, "is not a number") from None
    return number


def _flag(value: Any, where: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise InputFileError.cell(where, value, "is not true or false")


def _list(value: Any) -> list[str]:
    return [part.strip() for part in str(value).split(";") if part.strip()]


def parse_windows(value: Any, where: str) -> list[list[float]]:
    """Windows written ``"start-end;start-end"`` in seconds."""
    out = []
    for part in _list(value):
        bounds = part.split("-")
        if len(bounds) != 2:
            raise InputFileError.cell(where, part, "is not 'start-end' in seconds")
        out.append([parse_number(bounds[0], where), parse_number(bounds[1], where)])
    return out


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV file as strings, with clear errors; it must have an ``id`` column."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputFileError.in_file(path, "no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputFileError.in_file(path, f"not a readable CSV file ({error})") from None
    if "id" not in frame.columns:
        raise InputFileError.in_file(path, "the column 'id' is required")
    return frame


def _id(value: str) -> str | int:
    text = value.strip()
    return int(text) if text.isdigit() else text


def _stop(row: dict[str, Any], where: str) -> dict[str, Any]:
    stop: dict[str, Any] = {"id": _id(row["id"])}
    if not is_blank(row.get("location_index")):
        stop["location_index"] = int(
            parse_number(row["location_index"], f"{where}, location_index")
        )
    elif not (is_blank(row.get("lat")) or is_blank(row.get("lon"))):
        stop["location"] = [
            parse_number(row["lon"], f"{where}, lon"),
            parse_number(row["lat"], f"{where}, lat"),
        ]
    demand = {
        key.removeprefix("demand_"): parse_number(value, f"{where}, {key}")
        for key, value in row.items()
        if key.startswith("demand_") and not is_blank(value)
    }
    if demand:
        stop["demand"] = demand
    if not is_blank(row.get("service_s")):
        stop["service_s"] = parse_number(row["service_s"], f"{where}, service_s")
    if not is_blank(row.get("time_windows")):
        stop["time_windows"] = parse_windows(row["time_windows"], f"{where}, time_windows")
    elif not (is_blank(row.get("tw_start_s")) and is_blank(row.get("tw_end_s"))):
        stop["time_windows"] = [
            [
                parse_number(row.get("tw_start_s", 0), f"{where}, tw_start_s"),
                parse_number(row.get("tw_end_s"), f"{where}, tw_end_s"),
            ]
        ]
    if not is_blank(row.get("skills")):
        stop["skills"] = _list(row["skills"])
    if not is_blank(row.get("optional")):
        stop["optional"] = _flag(row["optional"], f"{where}, optional")
    if not is_blank(row.get("drop_penalty")):
        stop["drop_penalty"] = parse_number(row["drop_penalty"], f"{where}, drop_penalty")
    if not is_blank(row.get("priority")):
        stop["priority"] = int(parse_number(row["priority"], f"{where}, priority"))
    return stop


_VEHICLE_NUMBERS = (
    "max_duration_s",
    "max_distance_m",
    "fixed_cost",
    "cost_per_km",
    "cost_per_hour",
    "speed_factor",
)


def vehicle_from_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A vehicle (as a dict to validate) from one row of ``vehicles.csv``."""
    vehicle: dict[str, Any] = {"id": _id(row["id"])}
    for end in ("start", "end"):
        lat, lon = row.get(f"{end}_lat"), row.get(f"{end}_lon")
        if not (is_blank(lat) or is_blank(lon)):
            vehicle[end] = [
                parse_number(lon, f"{where}, {end}_lon"),
                parse_number(lat, f"{where}, {end}_lat"),
            ]
        if not is_blank(row.get(f"{end}_index")):
            vehicle[f"{end}_index"] = int(
                parse_number(row[f"{end}_index"], f"{where}, {end}_index")
            )
    capacity = {
        key.removeprefix("capacity_"): parse_number(value, f"{where}, {key}")
        for key, value in row.items()
        if key.startswith("capacity_") and not is_blank(value)
    }
    if capacity:
        vehicle["capacity"] = capacity
    if not (is_blank(row.get("shift_start_s")) and is_blank(row.get("shift_end_s"))):
        vehicle["shift"] = [
            parse_number(row.get("shift_start_s") or 0, f"{where}, shift_start_s"),
            parse_number(row.get("shift_end_s"), f"{where}, shift_end_s"),
        ]
    for key in _VEHICLE_NUMBERS:
        if not is_blank(row.get(key)):
            vehicle[key] = parse_number(row[key], f"{where}, {key}")
    if not is_blank(row.get("max_stops")):
        vehicle["max_stops"] = int(parse_number(row["max_stops"], f"{where}, max_stops"))
    if not is_blank(row.get("skills")):
        vehicle["skills"] = _list(row["skills"])
    if not is_blank(row.get("break_duration_s")):
        vehicle["breaks"] = [
            {
                "id": "break",
                "time_windows": [
                    [
                        parse_number(row.get("break_start_s"), f"{where}, break_start_s"),
                        parse_number(row.get("break_end_s"), f"{where}, break_end_s"),
                    ]
                ],
                "duration_s": parse_number(row["break_duration_s"], f"{where}, break_duration_s"),
            }
        ]
    return vehicle


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as dicts keyed by column name."""
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def request_dict_from_csv(stops_csv: Path, vehicles_csv: Path) -> dict[str, Any]:
    """The raw request (to validate as :class:`RoutingRequest`) from the two CSV files."""
    stops = read_csv_table(stops_csv)
    vehicles = read_csv_table(vehicles_csv)
    return {
        "stops": [
            _stop(row, f"{stops_csv.name} row {k + 2}") for k, row in enumerate(records(stops))
        ],
        "vehicles": [
            vehicle_from_row(row, f"{vehicles_csv.name} row {k + 2}")
            for k, row in enumerate(records(vehicles))
        ],
    }


def read_json(path: Path) -> Any:
    """A JSON document, with a clear error for a missing or malformed file."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputFileError.in_file(path, "no such file") from None
    except json.JSONDecodeError as error:
        raise InputFileError.in_file(
            path, f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None


def load_request(
    request_json: Path | None = None,
    stops_csv: Path | None = None,
    vehicles_csv: Path | None = None,
) -> RoutingRequest:
    """A validated request from a JSON file or from the two CSV files."""
    if request_json is not None:
        return RoutingRequest.model_validate(read_json(request_json))
    if stops_csv is None or vehicles_csv is None:
        raise InputFileError("give a REQUEST.json, or both --stops and --vehicles CSV files")
    return RoutingRequest.model_validate(request_dict_from_csv(stops_csv, vehicles_csv))
