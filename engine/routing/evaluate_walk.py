"""The evaluator's walk along a route: tolerances, the running state and the shared checks
(load within capacity, a leg's travel time and distance), used by :mod:`engine.routing.evaluate`
and :mod:`engine.routing.evaluate_reloads`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.routing.evaluate_links import Report
from engine.routing.evaluate_schedule import NOWHERE, Geometry
from engine.units import DISTANCE_SCALE, TIME_SCALE
from models.routing import Break, Id, Step, Vehicle
from models.status import ViolationCode

#: Times and distances are exact to a tick (0.1); half a tick absorbs user-value rounding.
TIME_TOL_S = 0.5 / TIME_SCALE + 1e-6
DIST_TOL_M = 0.5 / DISTANCE_SCALE + 1e-6
COST_RTOL = 1e-6


def check_load(
    load: dict[str, float], capacity: dict[str, float], when: str, vid: Id, report: Report
) -> None:
    """Report a load above the capacity, or below zero (goods dropped before collected)."""
    for name, value in load.items():
        if name in capacity and value > capacity[name] + 1e-9:
            report.add(
                ViolationCode.CAPACITY,
                f"load {value} of {name!r} {when} exceeds {capacity[name]}",
                vid,
            )
        if value < -1e-9:
            report.add(
                ViolationCode.NEGATIVE_LOAD, f"load {value} of {name!r} {when} is below zero", vid
            )


def close(a: float, b: float, tol: float) -> bool:
    """Equal within an absolute tolerance."""
    return abs(a - b) <= tol


def cost_close(a: float, b: float) -> bool:
    """Equal within :data:`COST_RTOL`, relative (absolute below 1)."""
    return abs(a - b) <= COST_RTOL * max(1.0, abs(a), abs(b))


@dataclass
class RouteTotals:
    """What a route (or the whole plan) adds up to, recomputed."""

    distance_m: float = 0.0
    travel_s: float = 0.0
    duration_s: float = 0.0
    service_s: float = 0.0
    waiting_s: float = 0.0
    break_s: float = 0.0
    fixed_cost: float = 0.0
    drop_penalty: float = 0.0
    reassign_cost: float = 0.0
    balance_cost: float = 0.0
    cost: float = 0.0
    stops: int = 0
    #: The largest route's figures (balance): span, distance driven, stops.
    most: dict[str, float] = field(default_factory=dict)

    def add(self, other: RouteTotals) -> None:
        """Add a route's totals to the plan's (and keep the largest route's figures)."""
        for name in (
            "distance_m", "travel_s", "duration_s", "service_s", "waiting_s", "break_s",
            "fixed_cost", "cost", "stops",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for metric, value in (
            ("duration", other.duration_s / 3600),
            ("distance", other.distance_m / 1000),
            ("stops", float(other.stops)),
        ):
            self.most[metric] = max(self.most.get(metric, 0.0), value)


@dataclass
class Walk:
    """One route walked step by step: the vehicle, and the running state after each step."""

    geo: Geometry
    vehicle: Vehicle
    report: Report
    travel: npt.NDArray[np.int64]  # travel ticks at the vehicle's speed
    stop_index: dict[Id | None, int]  # a step without an id finds nothing
    break_specs: dict[Id, Break]
    here: int  # the matrix row the vehicle is at (NOWHERE: anywhere, on an open route)
    end_row: int
    load: dict[str, float]  # on board now
    clock: float  # when the previous step ends
    leg_departure: float  # when the vehicle left the previous visit (or the start)
    leg_breaks: float = 0.0  # breaks taken since then
    distance_m: float = 0.0
    travel_s: float = 0.0
    stops: int = 0
    service_s: float = 0.0  # what the stops need, from the request
    break_s: float = 0.0  # what the breaks taken last, from the request
    delivered: dict[str, float] = field(default_factory=dict)
    breaks_taken: dict[Id, int] = field(default_factory=dict)
    vehicle_index: int = -1
    reloads: int = 0
    reload_s: float = 0.0  # what the reloads taken need, from the request

    def add(self, code: ViolationCode, message: str, stop: Id | None = None) -> None:
        """Report a violation of this route's vehicle."""
        self.report.add(code, message, self.vehicle.id, stop)


def check_travel(walk: Walk, step: Step, row: int, who: Id | None) -> None:
    """The leg to ``row``: not reached before the earliest possible arrival, distance adds up."""
    here = walk.here
    leg_ticks = 0 if NOWHERE in (here, row) else int(walk.travel[here, row])
    leg_s = leg_ticks / TIME_SCALE
    walk.distance_m += (
        0 if NOWHERE in (here, row) else int(walk.geo.distance[here, row]) / DISTANCE_SCALE
    )
    walk.travel_s += leg_s
    earliest = max(walk.clock, walk.leg_departure + leg_s + walk.leg_breaks)
    if step.arrival_s < earliest - TIME_TOL_S:
        walk.add(
            ViolationCode.TRAVEL_TIME,
            f"arrives at {step.arrival_s} s but cannot be there before {earliest} s",
            who,
        )
    if not close(step.distance_m, walk.distance_m, DIST_TOL_M):
        walk.add(
            ViolationCode.DISTANCE_MISMATCH,
            f"reports {step.distance_m} m travelled, recomputed {walk.distance_m} m",
            who,
        )
