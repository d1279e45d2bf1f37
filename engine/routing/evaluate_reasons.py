"""Proving every reason a plan gives for a stop it leaves out.

For each stop (or shipment: both ends, pickup first, one vehicle) listed as unassigned:

* a pre-check reason must hold for every vehicle. The pre-checks come in the engine's order
  (skills, capacity, ``max_stops``, shift, reaching a window, ``max_distance_m``,
  ``max_duration_s``); a reason holds when every vehicle fails that check or an earlier one
  on its own, alone on a route (start, the stop or the shipment's two ends, end; breaks left
  out, which only makes the claim harder to prove);
* ``dropped_for_cost`` holds for optional stops only (their penalty is in the cost);
* ``no_room_in_plan`` holds for a mandatory stop only when it fits in no route of the plan at
  any position, nor alone on an unused vehicle, with the schedule recomputed (see
  :func:`engine.routing.evaluate_schedule.fits`);
* a mandatory stop that fits somewhere is reported whatever its reason.

A route first keeps its breaks where the plan put them and the stop is tried at every position
among stops and breaks; if none fits, the breaks are moved too: for every position of the stop
among the route's stops that fits with the breaks left out (breaks only add time, so no other
position can fit with them), every placement of the breaks (in the plan's order) is tried, up
to :data:`MOVED_BREAKS_BUDGET` schedules per stop. An unused vehicle takes its breaks in the
order of their first windows, the stop at every position among them. What is left beyond the
budget errs on the safe side: the evaluator never claims a stop fits unless it has built the
schedule that proves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations_with_replacement

from engine.routing.evaluate_schedule import (
    Geometry,
    Item,
    fits,
    merged_windows,
    simulate,
)
from engine.units import to_distance_ticks
from models.routing import Id, RoutingResult, StepType, Unassigned
from models.status import PRE_CHECK_REASONS, UnassignedReason, ViolationCode
from models.verdict import Violation

#: The pre-check reasons, in the order the checks run.
PRE_CHECKS = PRE_CHECK_REASONS
#: Most schedules tried per left-out stop with a route's breaks moved.
MOVED_BREAKS_BUDGET = 20_000


def unit_of(geo: Geometry, i: int) -> tuple[int, ...]:
    """The tasks served together with task ``i``: itself, or a shipment's pickup then delivery."""
    task = geo.tasks[i]
    if task.partner is None:
        return (i,)
    return (i, task.partner) if task.kind == "pickup" else (task.partner, i)


def solo_level(geo: Geometry, v: int, unit: tuple[int, ...]) -> int | None:
    """The first pre-check (index into :data:`PRE_CHECKS`) that ``unit`` fails alone on
    vehicle ``v``; None when it passes them all."""
    vehicle = geo.request.vehicles[v]
    tasks = [geo.tasks[i] for i in unit]
    if any(not geo.may_serve(v, i) for i in unit):
        return 0
    for t in tasks:
        if any(
            value > vehicle.capacity[n] + 1e-9
            for n, value in t.demand.items()
            if n in vehicle.capacity
        ):
            return 1
    if vehicle.max_stops is not None and vehicle.max_stops < len(unit):
        return 2
    lo, hi = geo.shift(vehicle)
    for i in unit:
        windows = geo.windows[i]
        if windows and not any(w_lo <= hi and w_hi >= lo for w_lo, w_hi in windows):
            return 3
    # after the vehicle's locked prefix, if it has one (it is served whatever else is)
    items: list[Item] = [("stop", i) for i in geo.prefix(v) if i not in unit]
    items += [("stop", i) for i in unit]
    timed = simulate(geo, v, items, lo)
    if timed is None or timed[-1].arrival > hi:
        return 4
    if vehicle.max_distance_m is not None and timed[-1].distance > int(
        to_distance_ticks(vehicle.max_distance_m)
    ):
        return 5
    if fits(geo, v, items) is None:
        return 6
    return None


def reason_holds(geo: Geometry, reason: UnassignedReason, unit: tuple[int, ...]) -> bool:
    """A pre-check reason holds when every vehicle fails that check, or an earlier one."""
    level = PRE_CHECKS.index(reason)
    for v in range(len(geo.request.vehicles)):
        failed = solo_level(geo, v, unit)
        if failed is None or failed > level:
            return False
    return True


def _insertions(
    items: list[Item], unit: tuple[int, ...], reload_places: int = 0
) -> Iterator[list[Item]]:
    """``items`` with the unit's tasks put in at every position (a pickup before its delivery);
    a single stop also after a new reload at each of ``reload_places`` places."""
    if len(unit) == 1:
        for k in range(len(items) + 1):
            yield [*items[:k], ("stop", unit[0]), *items[k:]]
        for place in range(reload_places):
            for k in range(1, len(items) + 1):
                yield [*items[:k], ("reload", place), ("stop", unit[0]), *items[k:]]
        return
    for k in range(len(items) + 1):
        for m in range(k, len(items) + 1):
            yield [
                *items[:k],
                ("stop", unit[0]),
                *items[k:m],
                ("stop", unit[1]),
                *items[m:],
            ]


def _route_items(geo: Geometry, result: RoutingResult) -> dict[int, list[Item]]:
    """Each route of a known vehicle as items (stops and breaks in the plan's order)."""
    vehicle_index = {v.id: k for k, v in enumerate(geo.request.vehicles)}
    task_index = {t.id: k for k, t in enumerate(geo.tasks)}
    out: dict[int, list[Item]] = {}
    for route in result.routes:
        v = vehicle_index.get(route.vehicle_id)
        if v is None or v in out:
            continue
        vehicle = geo.request.vehicles[v]
        breaks = {b.id: k for k, b in enumerate(vehicle.breaks)}
        places: list[object] = [tuple(p) for p in vehicle.reload_locations] or list(
            vehicle.reload_indices
        )
        items: list[Item] = []
        for step in route.steps:
            if step.type == StepType.BREAK and step.id in breaks:
                items.append(("break", breaks[step.id]))
            elif step.type == StepType.RELOAD:
                at = step.location_index if vehicle.reload_indices else step.location
                if at is not None and (tuple(at) if isinstance(at, tuple) else at) in places:
                    items.append(("reload", places.index(at)))
            elif step.type.is_visit and step.id in task_index:
                items.append(("stop", task_index[step.id]))
        out[v] = items
    return out


def _unused_items(geo: Geometry, v: int) -> list[Item]:
    """An unused vehicle's breaks, in the order of their first windows."""
    breaks = geo.request.vehicles[v].breaks
    order = sorted(range(len(breaks)), key=lambda b: merged_windows(breaks[b].time_windows)[0])
    return [("break", b) for b in order]


def _moved_breaks(
    geo: Geometry, v: int, items: list[Item], unit: tuple[int, ...]
) -> Iterator[list[Item]]:
    """The route with ``unit`` put in and its breaks placed anew (in their order), only at
    stop positions that fit without the breaks."""
    stops = [it for it in items if it[0] == "stop"]
    breaks = [it for it in items if it[0] == "break"]
    if not breaks:
        return
    for seq in _insertions(stops, unit):
        if fits(geo, v, seq) is None:
            continue  # breaks only add time: no placement of them can fit
        for places in combinations_with_replacement(range(len(seq) + 1), len(breaks)):
            out: list[Item] = []
            b = 0
            for k in range(len(seq) + 1):
                while b < len(breaks) and places[b] == k:
                    out.append(breaks[b])
                    b += 1
                if k < len(seq):
                    out.append(seq[k])
            yield out


@dataclass(frozen=True)
class Insertion:
    """Where a left-out unit fits: the vehicle and the route with it put in."""

    vehicle: Id
    items: list[Item]


def find_insertion(
    geo: Geometry, routes: dict[int, list[Item]], unit: tuple[int, ...]
) -> Insertion | None:
    """A feasible route with ``unit`` put in, on a used or an unused vehicle; None if none."""
    for v, vehicle in enumerate(geo.request.vehicles):
        if solo_level(geo, v, unit) in (0, 1, 2, 3):
            continue  # skills, capacity, max_stops or shift rule the vehicle out for good
        base = routes.get(v)
        places = len(vehicle.reload_locations or vehicle.reload_indices) * vehicle.has_reloads
        given = base if base is not None else _unused_items(geo, v)
        for items in _insertions(given, unit, places):
            if fits(geo, v, items) is not None:
                return Insertion(vehicle.id, items)
    budget = MOVED_BREAKS_BUDGET
    for v, vehicle in enumerate(geo.request.vehicles):
        base = routes.get(v)
        if base is None or solo_level(geo, v, unit) in (0, 1, 2, 3):
            continue
        for items in _moved_breaks(geo, v, base, unit):
            budget -= 1
            if budget < 0:
                return None  # on the safe side: no schedule built, no claim made
            if fits(geo, v, items) is not None:
                return Insertion(vehicle.id, items)
    return None


def check_reasons(geo: Geometry, result: RoutingResult) -> list[Violation]:
    """Prove each unassigned stop's reason, and that no mandatory one fits in the plan."""
    task_index = {t.id: k for k, t in enumerate(geo.tasks)}
    routes = _route_items(geo, result)
    served = {geo.tasks[i].id for items in routes.values() for kind, i in items if kind == "stop"}
    fits_at: dict[tuple[int, ...], Insertion | None] = {}
    out: list[Violation] = []
    for item in result.unassigned:
        i = task_index.get(item.id)
        if i is None:
            continue  # coverage reports unknown ids
        unit = unit_of(geo, i)
        if any(geo.tasks[k].id in served for k in unit):
            continue  # half a shipment served: the shipment check reports the split
        mandatory = not all(geo.tasks[k].optional for k in unit)
        proven = _claim_proven(geo, item, unit, mandatory)
        if proven is not None:
            out.append(proven)
        if item.reason in PRE_CHECKS and proven is None:
            continue  # a true pre-check claim: no vehicle can take it at all
        if unit not in fits_at:
            fits_at[unit] = find_insertion(geo, routes, unit)
        found = fits_at[unit]
        if found is None:
            continue
        if mandatory:
            out.append(
                Violation(
                    code=ViolationCode.INSERTABLE_UNASSIGNED,
                    message=(
                        f"mandatory stop {item.id!r} is left out ({item.reason.value}) but fits "
                        f"on vehicle {found.vehicle!r}"
                    ),
                    vehicle_id=found.vehicle,
                    stop_id=item.id,
                )
            )
        elif item.reason == UnassignedReason.NO_ROOM_IN_PLAN:
            out.append(
                Violation(
                    code=ViolationCode.FALSE_REASON,
                    message=(
                        f"optional stop {item.id!r} is said to have no room, but fits on "
                        f"vehicle {found.vehicle!r}"
                    ),
                    vehicle_id=found.vehicle,
                    stop_id=item.id,
                )
            )
    return out


def _claim_proven(
    geo: Geometry, item: Unassigned, unit: tuple[int, ...], mandatory: bool
) -> Violation | None:
    """A violation when the stated reason is false on its face (pre-checks, cost drops)."""
    if item.reason == UnassignedReason.DROPPED_FOR_COST and mandatory:
        return Violation(
            code=ViolationCode.FALSE_REASON,
            message=f"stop {item.id!r} is mandatory: it cannot be dropped_for_cost",
            stop_id=item.id,
        )
    if item.reason in PRE_CHECKS and not reason_holds(geo, item.reason, unit):
        return Violation(
            code=ViolationCode.FALSE_REASON,
            message=(
                f"stop {item.id!r} is left out as {item.reason.value}, but some vehicle passes "
                "that pre-check"
            ),
            stop_id=item.id,
        )
    return None
