"""Read routing requests from CSV (stops.csv + vehicles.csv) or JSON files.

``stops.csv`` columns: ``id, lat, lon`` (or ``location_index``), and optionally
``service_s``, ``time_windows`` (``"start-end;start-end"``) or ``tw_start_s`` and
``tw_end_s``, ``skills`` (``"a;b"``), ``optional``, ``drop_penalty``, ``priority``, and one
``demand_<name>`` (and ``pickup_<name>``) column per quantity.

``vehicles.csv`` columns: ``id``, and optionally ``start_lat, start_lon, end_lat, end_lon``
(blank = open route), ``shift_start_s, shift_end_s``, ``max_duration_s, max_distance_m,
max_stops``, ``fixed_cost, cost_per_km, cost_per_hour, cost_per_working_hour``, ``skills``,
``speed_factor``, ``break_start_s, break_end_s, break_duration_s`` (one break),
``reload_lat, reload_lon`` (or ``reload_index``: one place to reload at, multi-trip),
``max_reloads, reload_service_s``, and one ``capacity_<name>`` column per quantity.

Times of day (windows, shifts, breaks) are seconds from the day start or clock times:
``08:00-10:00``, ``8:00-10:30;14:00-16:00``, ``3600-7200``. Any other column is an error
naming it and the known ones (a misspelt column must not vanish). Every error names the
file, the row (the header is row 1) and the column: a cell that is not what its column
needs, and a value the request's validation refuses (``stops[3].service_s`` is reported as
``stops.csv row 5, column service_s``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from engine.routing.locations import check_isolated_stops
from models.errors import InvalidInputError, describe, detail, detail_line
from models.routing import RoutingRequest

#: Where a cell is, as the readers name it: ``stops.csv row 2, column demand_kg``.
_CELL = re.compile(r"(?P<file>.+?) row (?P<row>\d+)(?:, (?:column )?(?P<column>.+))?")


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
        """A bad ``value`` at ``where`` (``stops.csv row 2, column demand_kg``): ``where: value
        why``."""
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


#: A clock time: ``8:00``, ``08:00`` or ``08:00:30`` (hours may pass 24 for the next day).
_CLOCK = re.compile(r"(?P<h>\d{1,3}):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d(?:\.\d+)?))?")


def parse_time(value: Any, where: str) -> float:
    """A time of day in seconds: a number of seconds, or a clock time ``H:MM[:SS]``."""
    text = str(value).strip()
    clock = _CLOCK.fullmatch(text)
    if clock:
        return int(clock["h"]) * 3600 + int(clock["m"]) * 60 + float(clock["s"] or 0)
    if ":" in text:
        raise InputFileError.cell(where, value, "is not a clock time (H:MM or H:MM:SS)")
    try:
        return float(text)
    except ValueError:
        raise InputFileError.cell(
            where, value, "is not a time (seconds, or a clock time H:MM or H:MM:SS)"
        ) from None


def parse_windows(value: Any, where: str) -> list[list[float]]:
    """Windows written ``"start-end;start-end"``, in seconds or clock times (``8:00-10:30``)."""
    out = []
    for part in _list(value):
        bounds = part.split("-")
        if len(bounds) != 2 or not all(b.strip() for b in bounds):
            raise InputFileError.cell(
                where, part, "is not 'start-end' (seconds, or clock times as in 08:00-10:30)"
            )
        out.append([parse_time(bounds[0], where), parse_time(bounds[1], where)])
    return out


#: The columns of ``stops.csv``, besides one ``demand_<name>``/``pickup_<name>`` per quantity.
STOP_COLUMNS = (
    "id",
    "lat",
    "lon",
    "location_index",
    "service_s",
    "time_windows",
    "tw_start_s",
    "tw_end_s",
    "skills",
    "optional",
    "drop_penalty",
    "priority",
)
STOP_PATTERNS = ("demand_", "pickup_")
#: The columns of ``vehicles.csv``, besides one ``capacity_<name>`` per quantity.
VEHICLE_COLUMNS = (
    "id",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "start_index",
    "end_index",
    "shift_start_s",
    "shift_end_s",
    "max_duration_s",
    "max_distance_m",
    "max_stops",
    "fixed_cost",
    "cost_per_km",
    "cost_per_hour",
    "cost_per_working_hour",
    "skills",
    "speed_factor",
    "break_start_s",
    "break_end_s",
    "break_duration_s",
    "reload_lat",
    "reload_lon",
    "reload_index",
    "max_reloads",
    "reload_service_s",
)
VEHICLE_PATTERNS = ("capacity_",)


def check_columns(
    path: Path | str,
    columns: Sequence[str],
    known: Sequence[str],
    patterns: Sequence[str] = (),
) -> None:
    """Refuse a column that is neither ``known`` nor ``<pattern><name>`` (a typo must not
    vanish): the error names the file, the column and the known ones."""
    name = Path(path).name
    for column in columns:
        if column in known or any(column.startswith(p) and len(column) > len(p) for p in patterns):
            continue
        close = difflib.get_close_matches(column, [*known, *patterns], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        allowed = ", ".join([*known, *(f"{p}<name>" for p in patterns)])
        why = f"is not a known column{hint}; known: {allowed}"
        raise InputFileError(
            f"{name}, column {column}: {column!r} {why}",
            [detail(f"{name}, column {column}", column, why)],
            file=name,
            row=1,
            column=column,
        )


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV file as strings, with clear errors; it must have an ``id`` column."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputFileError.in_file(path, "no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputFileError.in_file(path, f"not a readable CSV file ({error})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
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
            parse_number(row["location_index"], f"{where}, column location_index")
        )
    elif not (is_blank(row.get("lat")) or is_blank(row.get("lon"))):
        stop["location"] = [
            parse_number(row["lon"], f"{where}, column lon"),
            parse_number(row["lat"], f"{where}, column lat"),
        ]
    for kind in ("demand", "pickup"):
        amounts = {
            key.removeprefix(f"{kind}_"): parse_number(value, f"{where}, column {key}")
            for key, value in row.items()
            if key.startswith(f"{kind}_") and not is_blank(value)
        }
        if amounts:
            stop[kind] = amounts
    if not is_blank(row.get("service_s")):
        stop["service_s"] = parse_number(row["service_s"], f"{where}, column service_s")
    if not is_blank(row.get("time_windows")):
        stop["time_windows"] = parse_windows(row["time_windows"], f"{where}, column time_windows")
    elif not (is_blank(row.get("tw_start_s")) and is_blank(row.get("tw_end_s"))):
        stop["time_windows"] = [
            [
                parse_time(row.get("tw_start_s") or 0, f"{where}, column tw_start_s"),
                parse_time(row.get("tw_end_s"), f"{where}, column tw_end_s"),
            ]
        ]
    if not is_blank(row.get("skills")):
        stop["skills"] = _list(row["skills"])
    if not is_blank(row.get("optional")):
        stop["optional"] = _flag(row["optional"], f"{where}, column optional")
    if not is_blank(row.get("drop_penalty")):
        stop["drop_penalty"] = parse_number(row["drop_penalty"], f"{where}, column drop_penalty")
    if not is_blank(row.get("priority")):
        stop["priority"] = int(parse_number(row["priority"], f"{where}, column priority"))
    return stop


_VEHICLE_NUMBERS = (
    "max_duration_s",
    "max_distance_m",
    "fixed_cost",
    "cost_per_km",
    "cost_per_hour",
    "cost_per_working_hour",
    "speed_factor",
    "reload_service_s",
)


def vehicle_from_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A vehicle (as a dict to validate) from one row of ``vehicles.csv``."""
    vehicle: dict[str, Any] = {"id": _id(row["id"])}
    for end in ("start", "end"):
        lat, lon = row.get(f"{end}_lat"), row.get(f"{end}_lon")
        if not (is_blank(lat) or is_blank(lon)):
            vehicle[end] = [
                parse_number(lon, f"{where}, column {end}_lon"),
                parse_number(lat, f"{where}, column {end}_lat"),
            ]
        if not is_blank(row.get(f"{end}_index")):
            vehicle[f"{end}_index"] = int(
                parse_number(row[f"{end}_index"], f"{where}, column {end}_index")
            )
    capacity = {
        key.removeprefix("capacity_"): parse_number(value, f"{where}, column {key}")
        for key, value in row.items()
        if key.startswith("capacity_") and not is_blank(value)
    }
    if capacity:
        vehicle["capacity"] = capacity
    if not (is_blank(row.get("shift_start_s")) and is_blank(row.get("shift_end_s"))):
        vehicle["shift"] = [
            parse_time(row.get("shift_start_s") or 0, f"{where}, column shift_start_s"),
            parse_time(row.get("shift_end_s"), f"{where}, column shift_end_s"),
        ]
    for key in _VEHICLE_NUMBERS:
        if not is_blank(row.get(key)):
            vehicle[key] = parse_number(row[key], f"{where}, column {key}")
    if not is_blank(row.get("max_stops")):
        vehicle["max_stops"] = int(parse_number(row["max_stops"], f"{where}, column max_stops"))
    if not is_blank(row.get("skills")):
        vehicle["skills"] = _list(row["skills"])
    _reload_columns(row, where, vehicle)
    if not is_blank(row.get("break_duration_s")):
        vehicle["breaks"] = [
            {
                "id": "break",
                "time_windows": [
                    [
                        parse_time(row.get("break_start_s"), f"{where}, column break_start_s"),
                        parse_time(row.get("break_end_s"), f"{where}, column break_end_s"),
                    ]
                ],
                "duration_s": parse_number(
                    row["break_duration_s"], f"{where}, column break_duration_s"
                ),
            }
        ]
    return vehicle


def _reload_columns(row: dict[str, Any], where: str, vehicle: dict[str, Any]) -> None:
    """A vehicle's reload place (one per row), and its max reloads."""
    lat, lon = row.get("reload_lat"), row.get("reload_lon")
    if is_blank(lat) != is_blank(lon):
        column = "reload_lon" if is_blank(lon) else "reload_lat"
        raise InputFileError.cell(
            f"{where}, column {column}", "", "is blank, but the other reload coordinate is not"
        )
    if not (is_blank(lat) or is_blank(lon)):
        vehicle["reload_locations"] = [
            [
                parse_number(lon, f"{where}, column reload_lon"),
                parse_number(lat, f"{where}, column reload_lat"),
            ]
        ]
    if not is_blank(row.get("reload_index")):
        index = parse_number(row["reload_index"], f"{where}, column reload_index")
        vehicle["reload_indices"] = [int(index)]
    if not is_blank(row.get("max_reloads")):
        most = parse_number(row["max_reloads"], f"{where}, column max_reloads")
        if most != int(most):
            raise InputFileError.cell(
                f"{where}, column max_reloads", row["max_reloads"], "is not a whole number"
            )
        vehicle["max_reloads"] = int(most)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as dicts keyed by column name."""
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def request_dict_from_csv(stops_csv: Path, vehicles_csv: Path) -> dict[str, Any]:
    """The raw request (to validate as :class:`RoutingRequest`) from the two CSV files."""
    stops = read_csv_table(stops_csv)
    check_columns(stops_csv, list(stops.columns), STOP_COLUMNS, STOP_PATTERNS)
    vehicles = read_csv_table(vehicles_csv)
    check_columns(vehicles_csv, list(vehicles.columns), VEHICLE_COLUMNS, VEHICLE_PATTERNS)
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


#: A request field that a CSV file fills, as ``stops[3].demand.kg`` names it.
_FIELD = re.compile(r"(?P<list>\w+)\[(?P<index>\d+)\](?:\.(?P<rest>.+))?")
#: The CSV column(s) behind each field of a stop or vehicle, where the names differ.
_COLUMNS = {
    "location": "lat/lon",
    "start": "start_lat/start_lon",
    "end": "end_lat/end_lon",
    "shift": "shift_start_s/shift_end_s",
    "breaks": "break_start_s/break_end_s/break_duration_s",
    "reload_locations": "reload_lat/reload_lon",
    "reload_indices": "reload_index",
}


def csv_cell(field: str, files: Mapping[str, str]) -> str:
    """Where in the CSV files a request field came from: ``stops[3].service_s`` is
    ``stops.csv row 5, column service_s`` (``files`` maps a list of the request, such as
    ``stops`` or ``fleet``, to its file's name); a field no file row holds stays as it is."""
    found = _FIELD.fullmatch(field)
    if not found:
        return field
    kind = "stops" if found["list"] == "jobs" else str(found["list"])
    if kind not in files:
        return field
    where = f"{files[kind]} row {int(found['index']) + 2}"
    rest = found["rest"]
    if not rest:
        return where
    parts = re.split(r"[.\[]", rest)
    head = parts[0]
    if head in ("demand", "pickup", "capacity") and len(parts) > 1:
        column = f"{head}_{parts[1]}"
    else:
        column = _COLUMNS.get(head, head)
    return f"{where}, column {column}"


def from_csv_validation(error: ValidationError, files: Mapping[str, str]) -> InputFileError:
    """A validation error of a CSV-built request, each field named as its file, row and
    column."""
    problems = [{**d, "field": csv_cell(d["field"], files)} for d in describe(error)]
    first = problems[0]
    message = (
        detail_line(first) if len(problems) == 1 else f"{len(problems)} problems in the CSV files"
    )
    found = _CELL.fullmatch(first["field"])
    return InputFileError(
        message,
        problems,
        file=found["file"] if found else None,
        row=int(found["row"]) if found else None,
        column=found["column"] if found else None,
    )


def load_request(
    request_json: Path | None = None,
    stops_csv: Path | None = None,
    vehicles_csv: Path | None = None,
) -> RoutingRequest:
    """A validated request from a JSON file or from the two CSV files.

    A stop far from every other place (:func:`engine.routing.locations.check_isolated_stops`:
    more than 500 km, for coordinates) is refused too, as lat/lon most likely swapped.
    """
    if request_json is not None:
        request = RoutingRequest.model_validate(read_json(request_json))
        check_isolated_stops(request)  # before any work; the engine checks again in resolve
        return request
    if stops_csv is None or vehicles_csv is None:
        raise InputFileError("give a REQUEST.json, or both --stops and --vehicles CSV files")
    raw = request_dict_from_csv(stops_csv, vehicles_csv)
    files = {"stops": stops_csv.name, "vehicles": vehicles_csv.name}
    try:
        request = RoutingRequest.model_validate(raw)
    except ValidationError as error:
        raise from_csv_validation(error, files) from None
    try:  # checked here too, so that the error names the file, row and column
        check_isolated_stops(request)
    except InvalidInputError as error:
        problems = [{**d, "field": csv_cell(d["field"], files)} for d in error.details]
        message = detail_line(problems[0]) if len(problems) == 1 else error.message
        raise InputFileError(message, problems) from None
    return request
