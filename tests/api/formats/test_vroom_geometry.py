"""VROOM's ``options.g``: each route of the output has its ``geometry`` (an encoded polyline,
here the straight lines between the steps' locations), only when asked; and an output's route
geometry is read back."""

from __future__ import annotations

from typing import Any

from api.formats.vroom import to_vroom_output, translate
from api.formats.vroom_output import from_vroom_output, parse_vroom_output
from engine.routing.geometry import decode_polyline
from engine.routing.solve import solve_routes
from models.vroom import VroomProblem

#: Lisbon-ish places, [lon, lat].
DEPOT = [-9.14, 38.72]
JOBS = [[-9.15, 38.71], [-9.13, 38.73], [-9.12, 38.70]]


def _problem(g: bool | None) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "vehicles": [{"id": 1, "start": DEPOT, "end": DEPOT}],
        "jobs": [{"id": k + 1, "location": p} for k, p in enumerate(JOBS)],
    }
    if g is not None:
        problem["options"] = {"g": g}
    return problem


def _answer(data: dict[str, Any]) -> dict[str, Any]:
    tr = translate(VroomProblem.model_validate(data), 0.5)
    return to_vroom_output(tr, solve_routes(tr.request))


def test_g_gives_each_route_its_geometry() -> None:
    answer = _answer(_problem(True))
    (route,) = answer["routes"]
    points = decode_polyline(route["geometry"])
    located = [tuple(s["location"]) for s in route["steps"] if "location" in s]
    assert len(points) == len(located) == len(JOBS) + 2
    for got, want in zip(points, located, strict=True):
        assert abs(got[0] - want[0]) < 1e-5 and abs(got[1] - want[1]) < 1e-5


def test_no_geometry_without_g() -> None:
    for g in (None, False):
        answer = _answer(_problem(g))
        assert all("geometry" not in route for route in answer["routes"])


def test_an_outputs_geometry_is_read_back() -> None:
    data = _problem(True)
    answer = _answer(data)
    tr = translate(VroomProblem.model_validate(data), 0.5)
    result = from_vroom_output(tr, parse_vroom_output(answer))
    assert result.routes[0].geometry == answer["routes"][0]["geometry"]
