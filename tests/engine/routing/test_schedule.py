"""The schedule of a route: the punctual start with the shortest span, several windows too."""

from __future__ import annotations

from typing import Any

from engine.routing import evaluate_routes
from models.routing import RoutingRequest


def _request(stops: list[dict[str, Any]], durations_s: list[list[float]], **vehicle: Any) -> Any:
    return RoutingRequest.model_validate(
        {
            "stops": stops,
            "vehicles": [{"id": "v", "start_index": 0, "shift": [0, 3600], **vehicle}],
            "matrix": {"provider": "explicit", "durations_s": durations_s},
        }
    )


def _times(result: Any) -> dict[str, tuple[float, float]]:
    """Stop id -> (arrival, service start), in seconds."""
    return {
        str(s.id): (s.arrival_s, s.service_start_s)
        for s in result.routes[0].steps
        if s.id is not None
    }


def test_a_later_start_that_misses_a_first_window_is_not_taken() -> None:
    # Leaving as late as "a" allows puts "b" into its second window, 530 s of waiting and
    # a route of 950 s; leaving at once serves "b" in its first window in 420 s. The 700 s
    # duration cap makes the long one infeasible (the case hypothesis found).
    request = _request(
        [
            {"id": "a", "location_index": 1, "service_s": 46, "time_windows": [[85, 442]]},
            {
                "id": "b",
                "location_index": 2,
                "service_s": 1,
                "time_windows": [[294, 485], [1191, 1491]],
            },
        ],
        [[0, 200, 400], [200, 0, 173], [400, 173, 0]],
        max_duration_s=700,
    )
    result, verdict = evaluate_routes(request, {"v": ["a", "b"]})
    assert verdict.feasible, [v.message for v in verdict.violations]
    start = result.routes[0].steps[0].departure_s
    arrival, begin = _times(result)["b"]
    assert 294 <= begin <= 485
    assert begin - arrival == 0  # "b" waits for nothing: the start was not pushed too late
    assert result.routes[0].steps[-1].arrival_s - start <= 700


def test_a_later_window_can_give_the_shortest_span() -> None:
    # "a" opens at 0-10 and again at 1000-1010; "b" only at 2000-2010, 1000 s away. Serving
    # "a" early means waiting 990 s or more at "b"; serving it in its second window waits for
    # nothing, a route of 1000 s: the sweep must look past the first window's jump.
    request = _request(
        [
            {"id": "a", "location_index": 0, "time_windows": [[0, 10], [1000, 1010]]},
            {"id": "b", "location_index": 1, "time_windows": [[2000, 2010]]},
        ],
        [[0, 1000], [1000, 0]],
    )
    result, verdict = evaluate_routes(request, {"v": ["a", "b"]})
    assert verdict.feasible, [v.message for v in verdict.violations]
    route = result.routes[0]
    assert route.steps[-1].arrival_s - route.steps[0].departure_s == 1000
    assert 1000 <= _times(result)["a"][1] <= 1010
