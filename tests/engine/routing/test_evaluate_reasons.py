"""The evaluator proves every reason a plan gives for a stop it leaves out.

Hand-made cases for each reason (true and false), shipments, breaks and a late start, and a
property test: on random small instances a served stop is taken out and listed with each
reason in turn; the evaluator must flag exactly the claims a brute force in this file finds
false (the test computes its own schedules, over every start tick of the shift).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

from engine.routing.evaluate import evaluate, evaluate_routes
from engine.routing.solve import solve_routes
from models.routing import RoutingRequest, RoutingResult, Task, Vehicle
from models.status import UnassignedReason, ViolationCode
from tests.engine.routing.test_properties import COMMON, small_requests
from tests.helpers import line_request

DEPOT = {"start_x": 0, "end_x": 0}
FLAGS = {ViolationCode.FALSE_REASON, ViolationCode.INSERTABLE_UNASSIGNED}


def _relisted(result: RoutingResult, stop_id: str, reason: UnassignedReason) -> RoutingResult:
    """The plan with ``stop_id``'s reason replaced (everything else untouched)."""
    copy = result.model_copy(deep=True)
    for item in copy.unassigned:
        if item.id == stop_id:
            item.reason = reason
    return copy


def _flags(request: RoutingRequest, result: RoutingResult) -> dict[str, set[ViolationCode]]:
    """The reason violations of a verdict, by stop id."""
    out: dict[str, set[ViolationCode]] = {}
    for v in evaluate(request, result).violations:
        if v.code in FLAGS:
            assert v.stop_id is not None, v
            out.setdefault(v.stop_id, set()).add(v.code)
    return out


def _with(
    stops: list[dict[str, Any]], vans: list[dict[str, Any]], served: dict[str, list[str]]
) -> tuple[RoutingRequest, RoutingResult]:
    request = line_request(stops, vans)
    result, _ = evaluate_routes(request, served)
    return request, result


def test_no_routes_at_all_is_infeasible() -> None:
    request = line_request([{"id": "a", "x": 10}, {"id": "b", "x": 20}], [{"id": "v", **DEPOT}])
    result, verdict = evaluate_routes(request, {})
    assert not verdict.feasible
    assert {u.id: u.reason for u in result.unassigned} == {
        "a": UnassignedReason.NO_ROOM_IN_PLAN,
        "b": UnassignedReason.NO_ROOM_IN_PLAN,
    }
    assert _flags(request, result) == {
        "a": {ViolationCode.INSERTABLE_UNASSIGNED},
        "b": {ViolationCode.INSERTABLE_UNASSIGNED},
    }


def test_everything_no_room_is_infeasible_even_with_the_cost_right() -> None:
    request = line_request([{"id": "a", "x": 10}], [{"id": "v", **DEPOT}])
    result, verdict = evaluate_routes(request, {})
    assert result.summary.cost == 0 and not verdict.feasible
    assert [v.code for v in verdict.violations] == [ViolationCode.INSERTABLE_UNASSIGNED]


def test_a_full_van_is_room_enough_only_without_a_spare_one() -> None:
    stops = [{"id": "a", "x": 10, "demand": {"kg": 6}}, {"id": "b", "x": 20, "demand": {"kg": 6}}]
    van = {**DEPOT, "capacity": {"kg": 10}}
    request, result = _with(stops, [{"id": "v1", **van}], {"v1": ["a"]})
    assert evaluate(request, result).feasible  # b truly has no room
    request, result = _with(stops, [{"id": "v1", **van}, {"id": "v2", **van}], {"v1": ["a"]})
    assert _flags(request, result) == {"b": {ViolationCode.INSERTABLE_UNASSIGNED}}


def test_a_stop_wrongly_marked_no_vehicle_with_skills_is_flagged() -> None:
    request, result = _with([{"id": "a", "x": 10}], [{"id": "v", **DEPOT}], {})
    wrong = _relisted(result, "a", UnassignedReason.NO_VEHICLE_WITH_SKILLS)
    assert _flags(request, wrong) == {
        "a": {ViolationCode.FALSE_REASON, ViolationCode.INSERTABLE_UNASSIGNED}
    }


def test_a_stop_no_van_has_the_skills_for_is_accepted() -> None:
    request, result = _with([{"id": "a", "x": 10, "skills": ["lift"]}], [{"id": "v", **DEPOT}], {})
    for reason in (
        UnassignedReason.NO_VEHICLE_WITH_SKILLS,
        UnassignedReason.NO_ROOM_IN_PLAN,
        # a later pre-check holds too: every vehicle fails it or an earlier one
        UnassignedReason.DEMAND_EXCEEDS_CAPACITY,
    ):
        assert evaluate(request, _relisted(result, "a", reason)).feasible, reason


CASES: list[tuple[UnassignedReason, dict[str, Any], dict[str, Any]]] = [
    (UnassignedReason.DEMAND_EXCEEDS_CAPACITY, {"demand": {"kg": 20}}, {"capacity": {"kg": 10}}),
    (UnassignedReason.NO_STOPS_ALLOWED, {}, {"max_stops": 0}),
    (UnassignedReason.OUTSIDE_EVERY_SHIFT, {"time_windows": [[5000, 6000]]}, {"shift": [0, 3000]}),
    (UnassignedReason.TIME_WINDOW_UNREACHABLE, {"time_windows": [[0, 900]]}, {}),
    (UnassignedReason.TIME_WINDOW_UNREACHABLE, {}, {"shift": [0, 1500]}),  # no way back
    (UnassignedReason.EXCEEDS_MAX_DISTANCE, {}, {"max_distance_m": 1500}),
    (UnassignedReason.EXCEEDS_MAX_DURATION, {"service_s": 10}, {"max_duration_s": 2005}),
]


def test_each_true_pre_check_is_accepted_and_each_false_one_flagged() -> None:
    for reason, stop, van in CASES:
        request, result = _with([{"id": "a", "x": 1000, **stop}], [{"id": "v", **DEPOT, **van}], {})
        assert evaluate(request, _relisted(result, "a", reason)).feasible, reason
        # with a second, unlimited van next to the first, the claim is false
        request, result = _with(
            [{"id": "a", "x": 1000, **stop}],
            [{"id": "v", **DEPOT, **van}, {"id": "w", **DEPOT, "capacity": {"kg": 50}}],
            {},
        )
        if "time_windows" in stop and reason != UnassignedReason.OUTSIDE_EVERY_SHIFT:
            continue  # the window is out of reach for every van
        flags = _flags(request, _relisted(result, "a", reason))
        assert ViolationCode.FALSE_REASON in flags.get("a", set()), (reason, flags)


def test_dropped_for_cost_only_for_optional_stops() -> None:
    stops = [{"id": "a", "x": 10}, {"id": "b", "x": 20, "optional": True, "drop_penalty": 5}]
    request, result = _with(stops, [{"id": "v", **DEPOT}], {"v": ["a"]})
    assert evaluate(request, result).feasible  # b dropped for cost, although it fits
    wrong = _relisted(result, "b", UnassignedReason.NO_ROOM_IN_PLAN)
    assert _flags(request, wrong) == {"b": {ViolationCode.FALSE_REASON}}
    request, result = _with(stops, [{"id": "v", **DEPOT}], {"v": ["b"]})
    wrong = _relisted(result, "a", UnassignedReason.DROPPED_FOR_COST)
    assert _flags(request, wrong) == {
        "a": {ViolationCode.FALSE_REASON, ViolationCode.INSERTABLE_UNASSIGNED}
    }


def test_a_stop_that_fits_only_with_a_late_start_is_insertable() -> None:
    stops = [{"id": "a", "x": 100, "time_windows": [[1000, 1100]]}]
    van = {"id": "v", **DEPOT, "shift": [0, 3000], "max_duration_s": 300}
    request, result = _with(stops, [van], {})
    assert _flags(request, result) == {"a": {ViolationCode.INSERTABLE_UNASSIGNED}}
    tight = {**van, "max_duration_s": 199}  # out and back is 200 s
    request, result = _with(stops, [tight], {})
    assert evaluate(request, result).feasible
    claim = _relisted(result, "a", UnassignedReason.EXCEEDS_MAX_DURATION)
    assert evaluate(request, claim).feasible


def test_a_route_with_a_break_takes_a_stop_between_its_steps() -> None:
    stops = [{"id": "a", "x": 100}, {"id": "b", "x": 50, "time_windows": [[0, 200]]}]
    van = {
        "id": "v",
        **DEPOT,
        "shift": [0, 1000],
        "breaks": [{"id": "rest", "time_windows": [[300, 400]], "duration_s": 60}],
    }
    request, result = _with(stops, [van], {"v": ["a"]})
    assert "break" in [s.type.value for s in result.routes[0].steps]
    assert _flags(request, result) == {"b": {ViolationCode.INSERTABLE_UNASSIGNED}}


def _shipment_request(amount: float, window: list[float] | None) -> RoutingRequest:
    delivery: dict[str, Any] = {"id": "d", "location": [200.0, 0.0]}
    if window is not None:
        delivery["time_windows"] = [window]
    return RoutingRequest.model_validate(
        {
            "stops": [],
            "shipments": [
                {
                    "pickup": {"id": "p", "location": [100.0, 0.0]},
                    "delivery": delivery,
                    "amount": {"kg": amount},
                }
            ],
            "vehicles": [{"id": "v", "start": [0, 0], "end": [0, 0], "capacity": {"kg": 10}}],
            "matrix": {"provider": "euclidean", "speed_mps": 1.0},
        }
    )


def test_shipments_are_proven_as_a_pair() -> None:
    request = _shipment_request(5, None)
    result, _ = evaluate_routes(request, {})
    assert _flags(request, result) == {
        "p": {ViolationCode.INSERTABLE_UNASSIGNED},
        "d": {ViolationCode.INSERTABLE_UNASSIGNED},
    }
    request = _shipment_request(20, None)
    result, _ = evaluate_routes(request, {})
    claim = _relisted(
        _relisted(result, "p", UnassignedReason.DEMAND_EXCEEDS_CAPACITY),
        "d",
        UnassignedReason.DEMAND_EXCEEDS_CAPACITY,
    )
    assert evaluate(request, claim).feasible
    # each end alone is reachable in time, but not after the pickup: 100 + 100 > 150
    request = _shipment_request(5, [0, 150])
    result, _ = evaluate_routes(request, {})
    assert evaluate(request, result).feasible
    claim = _relisted(result, "d", UnassignedReason.TIME_WINDOW_UNREACHABLE)
    assert evaluate(request, claim).feasible


# --- the property: every claim about a removed stop, against a brute force -----------------


def _ticks(x: float) -> int:
    return int(np.rint(x * 10))


class _Oracle:
    """The test's own schedules: every start tick of the shift, all at once (numpy)."""

    def __init__(self, request: RoutingRequest) -> None:
        self.request = request
        self.tasks = request.tasks()

    def _legs(self, vehicle: Vehicle, seq: list[int]) -> tuple[list[int], int]:
        """Travel ticks of each leg (start -> stops -> end) and total distance ticks."""
        places: list[tuple[float, float] | None] = [vehicle.start]
        places += [self.tasks[i].location for i in seq] + [vehicle.end]
        if places[0] is None and len(places) > 2:
            places[0] = places[1]
        legs, dist = [], 0
        for a, b in itertools.pairwise(places):
            if a is None or b is None:
                legs.append(0)
                continue
            d = math.hypot(a[0] - b[0], a[1] - b[1])
            dist += _ticks(d)
            legs.append(int(np.rint(_ticks(d) / vehicle.speed_factor)))
        return legs, dist

    def feasible(
        self, vehicle: Vehicle, seq: list[int], *, duration: bool = True, distance: bool = True
    ) -> bool:
        """Some start tick gives a punctual schedule meeting every limit."""
        tasks = [self.tasks[i] for i in seq]
        if any(not t.skills <= vehicle.skills for t in tasks):
            return False
        if vehicle.max_stops is not None and len(seq) > vehicle.max_stops:
            return False
        for name, cap in vehicle.capacity.items():
            load = sum(t.delivery.get(name, 0.0) for t in tasks)
            levels = [load]
            for t in tasks:
                load += t.pickup.get(name, 0.0) - t.delivery.get(name, 0.0)
                levels.append(load)
            if max(levels) > cap + 1e-9 or min(levels) < -1e-9:
                return False
        legs, dist = self._legs(vehicle, seq)
        limit = vehicle.max_distance_m
        if distance and limit is not None and dist > _ticks(limit):
            return False
        assert vehicle.shift is not None  # the strategy gives every vehicle a shift
        lo, hi = _ticks(vehicle.shift.start_s), _ticks(vehicle.shift.end_s)
        start: npt.NDArray[np.int64] = np.arange(lo, (hi if duration else lo) + 1)
        clock, ok = start.copy(), np.ones(len(start), dtype=bool)
        for leg, task in zip(legs, tasks, strict=False):
            clock = clock + leg
            clock, ok = _serve(clock, ok, task)
        clock = clock + legs[-1]
        ok &= clock <= hi
        if duration and vehicle.max_duration_s is not None:
            ok &= clock - start <= _ticks(vehicle.max_duration_s)
        return bool(ok.any())

    def level(self, vehicle: Vehicle, i: int) -> int | None:
        """The first pre-check stop ``i`` fails alone on ``vehicle`` (None: it fits)."""
        task = self.tasks[i]
        assert vehicle.shift is not None
        lo, hi = _ticks(vehicle.shift.start_s), _ticks(vehicle.shift.end_s)
        windows = [(_ticks(w.start_s), _ticks(w.end_s)) for w in task.time_windows]
        checks = [
            not task.skills <= vehicle.skills,
            any(v > vehicle.capacity.get(n, math.inf) for n, v in task.demand.items()),
            vehicle.max_stops == 0,
            bool(windows) and not any(a <= hi and b >= lo for a, b in windows),
            not self.feasible(vehicle, [i], duration=False, distance=False),
            not self.feasible(vehicle, [i], duration=False),
            not self.feasible(vehicle, [i]),
        ]
        return next((k for k, failed in enumerate(checks) if failed), None)

    def insertable(self, i: int, routes: dict[str, list[int]]) -> bool:
        """Stop ``i`` fits at some position of some route, or alone on an unused vehicle."""
        for vehicle in self.request.vehicles:
            seq = routes.get(vehicle.id, [])
            for k in range(len(seq) + 1):
                if self.feasible(vehicle, [*seq[:k], i, *seq[k:]]):
                    return True
        return False


def _serve(
    clock: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_], task: Task
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Service at the first window open at or after ``clock``; ``ok`` off where none is."""
    if task.time_windows:
        begin = np.full(len(clock), -1, dtype=np.int64)
        for w in sorted(task.time_windows, key=lambda w: w.start_s):
            a, b = _ticks(w.start_s), _ticks(w.end_s)
            fresh = (begin < 0) & (clock <= b)
            begin = np.where(fresh, np.maximum(clock, a), begin)
        ok = ok & (begin >= 0)
        clock = np.where(begin >= 0, begin, clock)
    return clock + _ticks(task.service_s), ok


PRE_CHECKS = [
    UnassignedReason.NO_VEHICLE_WITH_SKILLS,
    UnassignedReason.DEMAND_EXCEEDS_CAPACITY,
    UnassignedReason.NO_STOPS_ALLOWED,
    UnassignedReason.OUTSIDE_EVERY_SHIFT,
    UnassignedReason.TIME_WINDOW_UNREACHABLE,
    UnassignedReason.EXCEEDS_MAX_DISTANCE,
    UnassignedReason.EXCEEDS_MAX_DURATION,
]


def _claim_true(oracle: _Oracle, i: int, reason: UnassignedReason, insertable: bool) -> bool:
    task = oracle.tasks[i]
    if reason == UnassignedReason.DROPPED_FOR_COST:
        return task.optional
    if reason == UnassignedReason.NO_ROOM_IN_PLAN:
        return not insertable
    level = PRE_CHECKS.index(reason)
    return all(
        (failed := oracle.level(v, i)) is not None and failed <= level
        for v in oracle.request.vehicles
    )


@COMMON
@given(small_requests(), st.integers(0, 10_000))
def test_every_claim_about_a_removed_stop_matches_the_brute_force(
    drawn: RoutingRequest, pick: int
) -> None:
    # stops only, no breaks: the brute force then covers everything the evaluator checks
    request = drawn.model_copy(
        update={
            "shipments": [],
            "vehicles": [v.model_copy(update={"breaks": []}) for v in drawn.vehicles],
        }
    )
    result = solve_routes(request)
    sequences = {r.vehicle_id: [s.id for s in r.steps if s.type.is_visit] for r in result.routes}
    served = [s for ids in sequences.values() for s in ids]
    if not served:
        return
    removed = served[pick % len(served)]
    fewer = {v: [s for s in ids if s != removed] for v, ids in sequences.items()}
    plan, _ = evaluate_routes(request, fewer)
    oracle = _Oracle(request)
    index = {t.id: k for k, t in enumerate(oracle.tasks)}
    routes = {v: [index[s] for s in ids] for v, ids in fewer.items()}
    assert oracle.insertable(index[removed], routes)  # it was served there
    for item in plan.unassigned:  # the removed stop, and those the solver left out
        i = index[item.id]
        insertable = oracle.insertable(i, routes)
        for reason in [
            *PRE_CHECKS,
            UnassignedReason.DROPPED_FOR_COST,
            UnassignedReason.NO_ROOM_IN_PLAN,
        ]:
            flags = _flags(request, _relisted(plan, item.id, reason)).get(item.id, set())
            mandatory = not oracle.tasks[i].optional
            claim = _claim_true(oracle, i, reason, insertable)
            assert bool(flags) == (not claim or (mandatory and insertable)), (
                item.id,
                reason,
                flags,
                claim,
                insertable,
            )
            assert (ViolationCode.INSERTABLE_UNASSIGNED in flags) == (
                mandatory and insertable and (reason not in PRE_CHECKS or not claim)
            ), (item.id, reason, flags)


def test_explicit_matrices_are_read_by_location_index() -> None:
    """Row 2 is far in time from the depot (row 0): the window there is out of reach."""
    request = RoutingRequest.model_validate(
        {
            "stops": [
                {"id": "near", "location_index": 1, "time_windows": [[0, 50]]},
                {"id": "far", "location_index": 2, "time_windows": [[0, 50]]},
            ],
            "vehicles": [{"id": "v", "start_index": 0, "end_index": 0}],
            "matrix": {
                "provider": "explicit",
                "durations_s": [[0, 10, 100], [10, 0, 100], [100, 100, 0]],
            },
        }
    )
    result, verdict = evaluate_routes(request, {"v": ["near"]})
    assert verdict.feasible  # far has truly no room
    claim = _relisted(result, "far", UnassignedReason.TIME_WINDOW_UNREACHABLE)
    assert evaluate(request, claim).feasible
    result, _ = evaluate_routes(request, {})
    assert _flags(request, result) == {"near": {ViolationCode.INSERTABLE_UNASSIGNED}}


def test_a_stop_that_fits_only_with_the_break_moved_is_insertable() -> None:
    """The plan takes its break before ``s1``; ``c`` fits only once the break follows it."""
    stops = [
        {"id": "s1", "x": 100, "time_windows": [[0, 350]]},
        {"id": "c", "x": 150, "time_windows": [[150, 160]]},
    ]

    def van(break_window: list[float]) -> dict[str, Any]:
        rest = {"id": "rest", "time_windows": [break_window], "duration_s": 200}
        return {"id": "v", **DEPOT, "shift": [0, 5000], "breaks": [rest]}

    # a break window of [0, 10] forces the break first; the plan stays valid for [0, 2000]
    plan, _ = evaluate_routes(line_request(stops, [van([0, 10])]), {"v": ["s1"]})
    assert [s.type.value for s in plan.routes[0].steps][1:3] == ["break", "job"]
    request = line_request(stops, [van([0, 2000])])
    assert _flags(request, plan) == {"c": {ViolationCode.INSERTABLE_UNASSIGNED}}
