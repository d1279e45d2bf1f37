"""The evaluator's checks of reloads (multi-trip): each reload at one of the vehicle's reload
places, reached in time, for its full reload time, within ``max_reloads``; and the load it
leaves on board: what was picked up is unloaded, the next trip's deliveries are loaded (then
checked against the capacity). The route's first trip carries only its own deliveries."""

from __future__ import annotations

from engine.routing.evaluate_schedule import NOWHERE
from engine.routing.evaluate_walk import TIME_TOL_S, Walk, check_load, check_travel, close
from models.routing import Id, Step, StepType
from models.status import ViolationCode


def first_trip(steps: list[Step]) -> list[Step]:
    """The visits of a route's steps up to its first reload (all of them without one)."""
    out = []
    for step in steps:
        if step.type == StepType.RELOAD:
            break
        if step.type.is_visit:
            out.append(step)
    return out


def _place(walk: Walk, step: Step) -> int:
    """The matrix row of the reload place the step names (NOWHERE when none of the vehicle's)."""
    vehicle = walk.vehicle
    rows = walk.geo.reload_row[walk.vehicle_index] if walk.geo.reload_row else []
    places: list[object]
    at: object
    if vehicle.reload_indices:
        places, at = list(vehicle.reload_indices), step.location_index
    else:
        places = [(float(p[0]), float(p[1])) for p in vehicle.reload_locations]
        at = None if step.location is None else (float(step.location[0]), float(step.location[1]))
    return rows[places.index(at)] if at in places and rows else NOWHERE


def check_reload(walk: Walk, step: Step, following: list[Step], reloads_so_far: int) -> None:
    """A reload step: a place of the vehicle's, after travel, its reload time, within the
    limit; the load after it is the next trip's deliveries (``following``: the steps after)."""
    vehicle = walk.vehicle
    where = f"reload {reloads_so_far + 1}"
    if not vehicle.has_reloads:
        walk.add(ViolationCode.RELOAD_PLACE, f"{where}: vehicle {vehicle.id!r} may not reload")
    elif vehicle.max_reloads is not None and reloads_so_far + 1 > vehicle.max_reloads:
        walk.add(
            ViolationCode.MAX_RELOADS,
            f"{where} is more than max_reloads {vehicle.max_reloads}",
        )
    row = _place(walk, step)
    if row == NOWHERE and vehicle.has_reloads:
        walk.add(
            ViolationCode.RELOAD_PLACE,
            f"{where} at {step.location or step.location_index} is none of the vehicle's "
            "reload places",
        )
    else:
        check_travel(walk, step, row, None)
        walk.here = row
    _check_time(walk, step, where, vehicle.reload_service_s)
    walk.reload_s += vehicle.reload_service_s
    _reload(walk, step, following)
    walk.clock = walk.leg_departure = step.departure_s
    walk.leg_breaks = 0.0


def _check_time(walk: Walk, step: Step, where: str, needed_s: float) -> None:
    if step.service_start_s < step.arrival_s - TIME_TOL_S or not close(
        step.waiting_s, step.service_start_s - step.arrival_s, TIME_TOL_S
    ):
        walk.add(ViolationCode.WAITING, f"{where}: waiting does not add up")
    if not close(step.service_s, needed_s, TIME_TOL_S) or not close(
        step.departure_s, step.service_start_s + needed_s, TIME_TOL_S
    ):
        walk.add(
            ViolationCode.RELOAD_TIME,
            f"{where} lasts {step.departure_s - step.service_start_s} s, reload_service_s is "
            f"{needed_s} s",
        )


def _reload(walk: Walk, step: Step, following: list[Step]) -> None:
    """Unload the pickups, load the next trip's deliveries, and compare with the step's load."""
    index = walk.stop_index
    tasks = walk.geo.tasks
    known = [index[s.id] for s in first_trip(following) if s.id in index]
    for name in walk.load:
        walk.load[name] = sum(tasks[i].delivery.get(name, 0.0) for i in known)
    who: Id | None = None
    check_load(walk.load, walk.vehicle.capacity, "after a reload", walk.vehicle.id, walk.report)
    for name, value in walk.load.items():
        if not close(step.load.get(name, 0.0), value, 1e-6):
            walk.add(
                ViolationCode.LOAD_MISMATCH,
                f"reload reports load {step.load.get(name, 0.0)} of {name!r}, recomputed {value}",
                who,
            )
