"""Every number of the contract has a bound the solvers' scaling can hold, and the edge is
strict: a value beyond its bound, a string as a number, a number as a date or a bool as an id
is refused, naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from models.allocation import AllocationOptions, AllocationRequest, CostSettings
from models.common import MAX_METRES, MAX_MONEY, MAX_QUANTITY, MAX_SECONDS
from models.errors import describe
from models.plan import PlanRequest
from models.routing import RoutingRequest
from models.vroom import VroomProblem


def routing(**changes: Any) -> dict[str, Any]:
    """A valid two-stop request on a plane; ``changes`` go into stop 0 and vehicle 0."""
    stop: dict[str, Any] = {"id": "a", "location": [100.0, 0.0], "demand": {"kg": 1}}
    vehicle: dict[str, Any] = {"id": "v", "start": [0.0, 0.0], "capacity": {"kg": 10}}
    stop.update(changes.pop("stop", {}))
    vehicle.update(changes.pop("vehicle", {}))
    return {
        "stops": [stop, {"id": "b", "location": [200.0, 0.0]}],
        "vehicles": [vehicle],
        "matrix": {"provider": "euclidean"},
        **changes,
    }


def problems(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """``{field: message}`` of every problem ``model`` finds in ``data`` (fails if none)."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {d["field"]: d["message"] for d in describe(caught.value)}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vehicle": {"fixed_cost": 1e13}}, "vehicles[0].fixed_cost"),
        ({"vehicle": {"cost_per_km": 1e300}}, "vehicles[0].cost_per_km"),
        ({"vehicle": {"cost_per_hour": 1e10}}, "vehicles[0].cost_per_hour"),
        ({"vehicle": {"max_distance_m": 1e300}}, "vehicles[0].max_distance_m"),
        ({"stop": {"optional": True, "drop_penalty": 1e300}}, "stops[0].drop_penalty"),
        ({"stop": {"service_s": 1e300}}, "stops[0].service_s"),
        ({"vehicle": {"shift": [0, 1e18]}}, "vehicles[0].shift.end_s"),
        ({"stop": {"time_windows": [[0, 1e20]]}}, "stops[0].time_windows[0].end_s"),
        ({"stop": {"demand": {"kg": 1e16}}}, "stops[0].demand.kg"),
        ({"vehicle": {"capacity": {"kg": 1e16}}}, "vehicles[0].capacity.kg"),
        ({"vehicle": {"speed_factor": 1e-300}}, "vehicles[0].speed_factor"),
        ({"stop": {"location": [1e300, 0.0]}}, "stops[0].location[0]"),
    ],
)
def test_a_number_beyond_its_bound_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    found = problems(RoutingRequest, routing(**changes))
    assert list(found) == [field], found


def test_an_explicit_matrix_cell_beyond_the_bound_is_refused_naming_the_cell() -> None:
    data = routing(vehicle={"cost_per_hour": 3600, "start": None, "start_index": 0})
    for i, stop in enumerate(data["stops"]):
        stop.pop("location")
        stop["location_index"] = i + 1
    durations = [[0.0, 1e12, 5.0], [5.0, 0.0, 5.0], [5.0, 5.0, 0.0]]
    distances = [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 2e8]]
    data["matrix"] = {"provider": "explicit", "durations_s": durations, "distances_m": distances}
    found = problems(RoutingRequest, data)
    # The provider's tag is part of pydantic's path; the HTTP answer leaves it out.
    assert set(found) == {
        "matrix.explicit.durations_s[0][1]",
        "matrix.explicit.distances_m[2][2]",
    }, found


def test_values_at_their_bounds_are_accepted() -> None:
    request = RoutingRequest.model_validate(
        routing(
            stop={
                "service_s": MAX_SECONDS,
                "time_windows": [[0, MAX_SECONDS]],
                "demand": {"kg": MAX_QUANTITY},
                "optional": True,
                "drop_penalty": MAX_MONEY,
            },
            vehicle={
                "fixed_cost": MAX_MONEY,
                "cost_per_km": MAX_MONEY,
                "max_distance_m": MAX_METRES,
                "shift": [0, MAX_SECONDS],
                "capacity": {"kg": MAX_QUANTITY},
            },
        )
    )
    assert request.stops[0].service_s == MAX_SECONDS
    assert request.vehicles[0].capacity["kg"] == MAX_QUANTITY


def test_the_bounds_are_documented_in_the_schema() -> None:
    defs = RoutingRequest.model_json_schema(by_alias=False)["$defs"]
    vehicle, stop = defs["Vehicle"]["properties"], defs["Stop"]["properties"]
    assert vehicle["fixed_cost"]["maximum"] == MAX_MONEY
    assert vehicle["cost_per_km"]["maximum"] == MAX_MONEY
    assert stop["service_s"]["maximum"] == MAX_SECONDS
    assert defs["TimeWindow"]["properties"]["end_s"]["maximum"] == MAX_SECONDS
    assert "1e+09" in defs["Vehicle"]["properties"]["fixed_cost"]["description"]


def test_a_bool_is_not_an_id() -> None:
    data = routing()
    data["stops"][1]["id"] = 1
    data["stops"][0]["id"] = True  # would have become 1 and collided with the real id 1
    found = problems(RoutingRequest, data)
    assert list(found) == ["stops[0].id"] and "not bool" in found["stops[0].id"]
    data["stops"][0]["id"] = 1.0
    assert list(problems(RoutingRequest, data)) == ["stops[0].id"]


def test_integers_and_strings_stay_ids_as_given() -> None:
    data = routing()
    data["stops"][0]["id"], data["stops"][1]["id"] = 1, "1"
    request = RoutingRequest.model_validate(data)
    assert [s.id for s in request.stops] == [1, "1"]


def test_a_number_is_not_a_date() -> None:
    found = problems(RoutingRequest, routing(day_start=0))
    assert list(found) == ["day_start"] and "not a number" in found["day_start"]
    plan = {"sites": [], "stock": [], "orders": [], "plan_date": 20261127}
    assert list(problems(PlanRequest, plan)) == ["plan_date"]
    allocation = {
        "sites": [],
        "stock": [],
        "orders": [{"id": "o", "lines": [], "promised_date": 0}],
    }
    assert list(problems(AllocationRequest, allocation)) == ["orders[0].promised_date"]
    ok = RoutingRequest.model_validate(routing(day_start="2026-11-27T08:00:00"))
    assert ok.day_start is not None and ok.day_start.year == 2026


@pytest.mark.parametrize("value", ["5", True])
def test_a_string_or_a_bool_is_not_a_number(value: Any) -> None:
    found = problems(RoutingRequest, routing(options={"time_limit_s": value}))
    assert list(found) == ["options.time_limit_s"]
    assert list(problems(RoutingRequest, routing(stop={"service_s": value}))) == [
        "stops[0].service_s"
    ]
    assert list(problems(RoutingRequest, routing(vehicle={"max_stops": value}))) == [
        "vehicles[0].max_stops"
    ]


def test_a_nan_time_limit_is_called_not_finite() -> None:
    for model, field in ((RoutingRequest, "options.time_limit_s"),):
        found = problems(model, routing(options={"time_limit_s": math.nan}))
        assert "finite number" in found[field] and "3600" not in found[field]
    found = problems(AllocationOptions, {"time_limit_s": math.nan})
    assert "finite number" in found["time_limit_s"]


def test_allocation_bounds() -> None:
    site = {"id": "s", "location": [0.0, 0.0], "capacity_units": 10**12}
    order = {"id": "o", "lines": [{"id": 1, "sku": "x", "quantity": 10**12}]}
    data = {"sites": [site], "stock": [], "orders": [order]}
    data["costs"] = {"shipping": {"fixed": 1e300}, "split_penalty": math.inf}
    found = problems(AllocationRequest, data)
    assert set(found) == {
        "sites[0].capacity_units",
        "orders[0].lines[0].quantity",
        "costs.shipping.fixed",
        "costs.split_penalty",
    }, found


def test_empty_shipping_bands_are_valid_and_transit_needs_a_band() -> None:
    assert CostSettings.model_validate({"shipping": {"bands": []}}).shipping.bands == []
    schema = CostSettings.model_json_schema()
    assert schema["properties"]["transit"]["minItems"] == 1
    assert list(problems(CostSettings, {"transit": []})) == ["transit"]


def test_vroom_keeps_its_own_time_bound_and_strict_amounts() -> None:
    vehicle = {"id": 1, "start": [0.0, 0.0], "time_window": [1_700_000_000, 1_700_086_400]}
    assert VroomProblem.model_validate({"vehicles": [vehicle]}).vehicles[0].time_window
    job = {"id": 1, "location": [0.0, 0.0], "delivery": [10**16], "service": "60"}
    found = problems(VroomProblem, {"jobs": [job], "vehicles": [vehicle]})
    assert set(found) == {"jobs[0].service", "jobs[0].delivery[0]"}, found
    costs = {**vehicle, "costs": {"fixed": 1e300}}
    assert list(problems(VroomProblem, {"vehicles": [costs]})) == ["vehicles[0].costs.fixed"]
