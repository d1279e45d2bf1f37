"""Reading routing and plan CSV files: unknown columns, clock times, errors by file/row/column,
and stops far from everything (lat/lon swapped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.formats.allocation_files import load_csv
from api.formats.plan_files import load_plan_csv, validate_plan
from api.formats.routing_csv import InputFileError, csv_cell, load_request, parse_windows
from engine.allocation.validate import AllocationInputError
from engine.routing.locations import check_isolated_stops
from models.errors import InvalidInputError
from models.routing import RoutingRequest
from tests.api.formats.test_allocation_files import write

VEHICLES = "id,start_lat,start_lon,capacity_kg\nvan,41.155,-8.61,10\n"


def _files(tmp_path: Path, stops: str, vehicles: str = VEHICLES) -> tuple[Path, Path]:
    (tmp_path / "stops.csv").write_text(stops)
    (tmp_path / "vehicles.csv").write_text(vehicles)
    return tmp_path / "stops.csv", tmp_path / "vehicles.csv"


@pytest.mark.parametrize(
    ("header", "typo", "suggestion"),
    [
        ("id,lat,lon,servce_s", "servce_s", "service_s"),
        ("id,lat,lon,tw_start,tw_end_s", "tw_start", "tw_start_s"),
        ("id,lat,lon,demnd_kg", "demnd_kg", "demand_"),
    ],
)
def test_an_unknown_stops_column_names_it_and_the_known_ones(
    tmp_path: Path, header: str, typo: str, suggestion: str
) -> None:
    values = ",".join(["a", "41.15", "-8.61"] + ["60"] * (header.count(",") - 2))
    stops, vehicles = _files(tmp_path, f"{header}\n{values}\n")
    with pytest.raises(InputFileError) as caught:
        load_request(None, stops, vehicles)
    message = caught.value.message
    assert message.startswith(f"stops.csv, column {typo}: '{typo}' is not a known column")
    assert f"did you mean {suggestion!r}" in message
    assert "known: id, lat, lon" in message and "demand_<name>" in message
    assert (caught.value.file, caught.value.column) == ("stops.csv", typo)


def test_an_unknown_vehicles_column_is_an_error(tmp_path: Path) -> None:
    stops, vehicles = _files(tmp_path, "id,lat,lon\na,41.15,-8.61\n", "id,capacty_kg\nvan,3\n")
    with pytest.raises(InputFileError, match=r"vehicles.csv, column capacty_kg: .*capacity_"):
        load_request(None, stops, vehicles)


def test_quantity_patterns_and_cost_per_working_hour_are_read(tmp_path: Path) -> None:
    stops, vehicles = _files(
        tmp_path,
        "id,lat,lon,demand_kg,pickup_kg\na,41.15,-8.61,3,1\n",
        "id,start_lat,start_lon,capacity_kg,cost_per_working_hour\nvan,41.155,-8.61,10,22.5\n",
    )
    request = load_request(None, stops, vehicles)
    assert request.stops[0].demand == {"kg": 3} and request.stops[0].pickup == {"kg": 1}
    assert request.vehicles[0].capacity == {"kg": 10}
    assert request.vehicles[0].cost_per_working_hour == 22.5


def test_clock_times_in_windows_shifts_and_breaks(tmp_path: Path) -> None:
    stops, vehicles = _files(
        tmp_path,
        "id,lat,lon,time_windows\na,41.15,-8.61,8:00-10:30;14:00-16:00\nb,41.16,-8.6,3600-7200\n",
        "id,start_lat,start_lon,shift_start_s,shift_end_s,break_start_s,break_end_s,"
        "break_duration_s\nvan,41.155,-8.61,08:00,18:00:30,12:00,14:00,1800\n",
    )
    request = load_request(None, stops, vehicles)
    windows = [(w.start_s, w.end_s) for w in request.stops[0].time_windows]
    assert windows == [(8 * 3600, 10.5 * 3600), (14 * 3600, 16 * 3600)]
    assert [(w.start_s, w.end_s) for w in request.stops[1].time_windows] == [(3600, 7200)]
    shift = request.vehicles[0].shift
    assert shift is not None and (shift.start_s, shift.end_s) == (8 * 3600, 18 * 3600 + 30)
    lunch = request.vehicles[0].breaks[0].time_windows[0]
    assert (lunch.start_s, lunch.end_s) == (12 * 3600, 14 * 3600)


@pytest.mark.parametrize("text", ["8:75-9:00", "8h-10", "08:00-", "8:00~9:00"])
def test_a_malformed_clock_time_names_the_cell(text: str) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_windows(text, "stops.csv row 4, column time_windows")
    assert caught.value.message.startswith("stops.csv row 4, column time_windows: ")
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        "stops.csv",
        4,
        "time_windows",
    )


def test_a_refused_value_is_named_by_file_row_and_column(tmp_path: Path) -> None:
    stops, vehicles = _files(
        tmp_path,
        "id,lat,lon,service_s\na,41.15,-8.61,60\nb,41.16,-8.6,-5\n",
        "id,start_lat,start_lon,capacity_kg\nvan,41.155,-8.61,10\ntruck,41.155,-8.61,-1\n",
    )
    with pytest.raises(InputFileError) as caught:
        load_request(None, stops, vehicles)
    fields = [d["field"] for d in caught.value.details]
    assert "stops.csv row 3, column service_s" in fields
    assert "vehicles.csv row 3, column capacity_kg" in fields
    assert not any("[" in field for field in fields)  # no JSON paths like stops[1]


def test_request_fields_map_to_their_cells() -> None:
    files = {"stops": "s.csv", "vehicles": "v.csv"}
    assert csv_cell("stops[3].service_s", files) == "s.csv row 5, column service_s"
    assert csv_cell("jobs[0].demand.kg", files) == "s.csv row 2, column demand_kg"
    assert csv_cell("vehicles[1].shift", files) == "v.csv row 3, column shift_start_s/shift_end_s"
    assert csv_cell("vehicles[0]", files) == "v.csv row 2"
    assert csv_cell("matrix.provider", files) == "matrix.provider"


def test_unknown_columns_of_the_allocation_and_plan_files(tmp_path: Path) -> None:
    orders, stock, sites = write(tmp_path)
    stock.write_text("site_id,sku,on_hand,safety_stok\nrio,a,5,1\n")
    with pytest.raises(
        AllocationInputError, match=r"stock.csv, column safety_stok: .*safety_stock"
    ):
        load_csv(orders, stock, sites)
    stock.write_text("site_id,sku,on_hand\nrio,a,5\n")
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("id,site_id,capacity_kg,shift_strat_s\nvan,rio,10,0\n")
    with pytest.raises(InputFileError, match=r"fleet.csv, column shift_strat_s: .*site_id"):
        load_plan_csv(orders, stock, sites, fleet)


def test_a_refused_fleet_value_names_its_row_and_column(tmp_path: Path) -> None:
    orders, stock, sites = write(tmp_path)
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("id,site_id,capacity_kg\nvan,rio,10\ntruck,rio,-3\n")
    raw, _ = load_plan_csv(orders, stock, sites, fleet)
    with pytest.raises(InputFileError) as caught:
        validate_plan(raw, {"fleet": "fleet.csv"})
    assert caught.value.details[0]["field"] == "fleet.csv row 3, column capacity_kg"


SWAPPED = "id,lat,lon\na,41.15,-8.61\nb,-8.60,41.16\n"


def test_swapped_lat_lon_in_a_csv_names_the_row_stop_and_coordinates(tmp_path: Path) -> None:
    stops, vehicles = _files(tmp_path, SWAPPED)
    with pytest.raises(InputFileError) as caught:
        load_request(None, stops, vehicles)
    message = caught.value.message
    assert message.startswith("stops.csv row 3, column lat/lon")
    assert "stop 'b' at lon 41.16, lat -8.6" in message and "lat/lon swapped?" in message


def _request(stops: list[dict], vehicles: list[dict], **extra: object) -> RoutingRequest:
    return RoutingRequest.model_validate({"stops": stops, "vehicles": vehicles, **extra})


def test_swapped_lat_lon_in_json_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    stops = [{"id": "a", "location": [-8.61, 41.15]}, {"id": "b", "location": [41.16, -8.6]}]
    van = {"id": "v", "start": [-8.61, 41.155]}
    path.write_text(json.dumps({"stops": stops, "vehicles": [van]}))
    with pytest.raises(InvalidInputError, match=r"^stops\[1\]\.location: stop 'b'.*swapped\?"):
        load_request(path)


def test_only_stops_far_from_every_other_place_are_refused() -> None:
    porto = [-8.61, 41.15]
    near = [{"id": "a", "location": porto}, {"id": "b", "location": [-8.6, 41.16]}]
    check_isolated_stops(_request(near, [{"id": "v", "start": [2.35, 48.85]}]))  # a far depot
    lone = _request([{"id": "a", "location": porto}], [{"id": "v"}])
    check_isolated_stops(lone)  # one location only: nothing to compare with
    same = _request([{"id": "a", "location": porto}, {"id": "b", "location": porto}], [{"id": "v"}])
    check_isolated_stops(same)
    far = _request([{"id": "a", "location": porto}], [{"id": "v", "start": [2.35, 48.85]}])
    with pytest.raises(InvalidInputError, match=r"stop 'a'.*1,\d\d\d km"):
        check_isolated_stops(far)  # Porto to Paris is about 1,200 km
    flat = _request(
        [{"id": "a", "location": [0, 0]}, {"id": "b", "location": [50, 50]}],
        [{"id": "v"}],
        matrix={"provider": "euclidean"},
    )
    check_isolated_stops(flat)  # planar coordinates: not checked
