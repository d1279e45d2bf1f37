"""The routing contract rejects malformed requests with messages naming field and value."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from models.errors import describe_lines
from models.routing import RoutingRequest

VALID: dict[str, Any] = {
    "stops": [
        {"id": "a", "location": [-8.61, 41.15], "demand": {"kg": 2}, "time_windows": [[0, 100]]},
        {"id": "b", "location": [-8.62, 41.16]},
    ],
    "vehicles": [{"id": "v", "start": [-8.6, 41.1], "shift": [0, 1000]}],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


def test_valid_request_parses_and_keeps_ids() -> None:
    request = RoutingRequest.model_validate(VALID)
    assert [s.id for s in request.stops] == ["a", "b"]


def test_vroom_names_are_accepted() -> None:
    request = RoutingRequest.model_validate(
        {
            "jobs": [{"id": 1, "location": [2.35, 48.86], "service": 300}],
            "vehicles": [
                {"id": 1, "start": [2.35, 48.85], "time_window": [0, 3600], "max_tasks": 3}
            ],
        }
    )
    assert request.stops[0].service_s == 300
    assert request.vehicles[0].shift is not None and request.vehicles[0].shift.end_s == 3600
    assert request.vehicles[0].max_stops == 3


def test_overlapping_windows_are_merged() -> None:
    data = _with("stops.0.time_windows", [[50, 80], [0, 60], [100, 120]])
    windows = RoutingRequest.model_validate(data).stops[0].time_windows
    assert [(w.start_s, w.end_s) for w in windows] == [(0, 80), (100, 120)]


BAD = {
    "negative demand": (_with("stops.0.demand", {"kg": -1}), "stops[0].demand.kg = -1"),
    "window backwards": (_with("stops.0.time_windows", [[10, 5]]), "starts after it ends"),
    "shift backwards": (_with("vehicles.0.shift", [100, 50]), "vehicles[0].shift"),
    "nan coordinates": (_with("stops.1.location", [float("nan"), 1.0]), "stops[1].location[0]"),
    "duplicate stop ids": (_with("stops.1.id", "a"), "duplicate stops ids: ['a']"),
    "duplicate vehicle ids": (
        _with("vehicles", [{"id": "v"}, {"id": "v"}]),
        "duplicate vehicles ids: ['v']",
    ),
    "optional without penalty": (
        _with("stops.1.optional", True),
        "stop 'b' is optional but has no drop_penalty",
    ),
    "unknown field": (_with("stops.0.colour", "red"), "stops[0].colour"),
    "priority out of range": (_with("stops.0.priority", 101), "stops[0].priority = 101"),
    "no vehicles": (_with("vehicles", []), "vehicles = []"),
    "zero speed factor": (_with("vehicles.0.speed_factor", 0), "vehicles[0].speed_factor = 0"),
    "missing location": (_with("stops.1", {"id": "b"}), "stops[1] (id 'b') has no location"),
    "non-square matrix": (
        _with("matrix", {"provider": "explicit", "durations_s": [[0, 1], [1, 0, 2]]}),
        "not square",
    ),
    "negative matrix cell": (
        _with("matrix", {"provider": "explicit", "durations_s": [[0, -1], [1, 0]]}),
        "durations_s[0][1] = -1",
    ),
    "matrix sizes differ": (
        _with(
            "matrix",
            {
                "provider": "explicit",
                "durations_s": [[0, 1], [1, 0]],
                "distances_m": [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
            },
        ),
        "distances_m is 3x3 but durations_s is 2x2",
    ),
    "time limit too long": (_with("options", {"time_limit_s": 99999}), "options.time_limit_s"),
}


def test_unknown_location_index_is_named() -> None:
    data = {
        "stops": [{"id": "a", "location_index": 7}],
        "vehicles": [{"id": "v", "start_index": 0}],
        "matrix": {"provider": "explicit", "durations_s": [[0, 1], [1, 0]]},
    }
    with pytest.raises(ValidationError) as caught:
        RoutingRequest.model_validate(data)
    assert "stops[0].location_index = 7 is out of range for a 2x2 matrix" in str(caught.value)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_request_is_rejected_with_field_and_value(case: str) -> None:
    data, expected = BAD[case]
    with pytest.raises(ValidationError) as caught:
        RoutingRequest.model_validate(data)
    text = "\n".join(describe_lines(caught.value))
    assert expected in text, text
