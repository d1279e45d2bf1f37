"""The routing contract: stops, vehicles, requests and results.

Units are part of the names: seconds (``_s``) from the request's day start, metres (``_m``),
money in the request's currency. Names familiar to VROOM users are accepted as aliases
(``jobs``, ``service``, ``time_window``, ``max_tasks``...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from models.common import (
    MAX_COUNT,
    Coordinates,
    Count,
    DateTime,
    Flag,
    Metres,
    Money,
    Quantities,
    Seconds,
    Skills,
    StrictModel,
    TimeLimit,
    TimeWindow,
    Weight,
    merge_windows,
)
from models.common import Id as Id  # re-exported: ids are part of the routing contract
from models.matrices import ExplicitMatrix, MatrixSpec
from models.status import RoutingBackend, SolveStatus, UnassignedReason
from models.verdict import Verdict
from models.verdict import Violation as Violation  # re-exported: part of the routing contract

#: Most reload places one vehicle may list.
MAX_RELOAD_PLACES = 16


class Stop(StrictModel):
    """A place to visit once: a delivery, a pickup or a service call (VROOM's *job*)."""

    id: Id
    location: Coordinates | None = None
    location_index: Count | None = Field(None, description="row of an explicit matrix")
    demand: Quantities = Field(
        default_factory=dict, description="named quantities delivered (loaded at the start)"
    )
    pickup: Quantities = Field(
        default_factory=dict, description="named quantities collected here, to the route's end"
    )
    service_s: Seconds = Field(0.0, alias="service")
    time_windows: list[TimeWindow] = Field(
        default_factory=list, description="service may start in any of these; empty = any time"
    )
    skills: Skills = Field(default_factory=set)
    optional: Flag = False
    drop_penalty: Money | None = Field(
        None, description="cost of leaving an optional stop out (required when optional)"
    )
    priority: int = Field(0, ge=0, le=100, strict=True, description="0-100; higher is served first")
    vehicles: list[Id] = Field(
        default_factory=list,
        max_length=MAX_COUNT,
        description="only these vehicles may serve it (goods already on board); empty = any",
    )
    assigned_vehicle: Id | None = Field(
        None,
        description="the vehicle it was planned on: serving it with another costs "
        "options.reassign_penalty",
    )

    @field_validator("time_windows", mode="after")
    @classmethod
    def _merge(cls, windows: list[TimeWindow]) -> list[TimeWindow]:
        return merge_windows(windows)

    @model_validator(mode="after")
    def _penalty_when_optional(self) -> Stop:
        if self.optional and self.drop_penalty is None:
            raise ValueError(f"stop {self.id!r} is optional but has no drop_penalty")
        return self


class ShipmentStep(StrictModel):
    """Where and when one end of a shipment is served."""

    id: Id
    location: Coordinates | None = None
    location_index: Count | None = Field(None, description="row of an explicit matrix")
    service_s: Seconds = Field(0.0, alias="service")
    time_windows: list[TimeWindow] = Field(default_factory=list)

    @field_validator("time_windows", mode="after")
    @classmethod
    def _merge(cls, windows: list[TimeWindow]) -> list[TimeWindow]:
        return merge_windows(windows)


class Shipment(StrictModel):
    """Goods collected at ``pickup`` and handed over at ``delivery``, by the same vehicle."""

    pickup: ShipmentStep
    delivery: ShipmentStep
    amount: Quantities = Field(default_factory=dict)
    skills: Skills = Field(default_factory=set)
    optional: Flag = False
    drop_penalty: Money | None = Field(None, description="for leaving both ends out")
    priority: int = Field(0, ge=0, le=100, strict=True)

    @model_validator(mode="after")
    def _penalty_when_optional(self) -> Shipment:
        if self.optional and self.drop_penalty is None:
            raise ValueError(
                f"shipment {self.pickup.id!r} -> {self.delivery.id!r} is optional but has no "
                "drop_penalty"
            )
        return self


@dataclass(frozen=True)
class Task:
    """One visit a plan may make: a stop, or one end of a shipment (``partner`` is the other).

    ``delivery`` is loaded at the route's start and handed over here, ``pickup`` is loaded
    here, ``unload`` (a shipment's delivery end) leaves the vehicle here.
    """

    id: Id
    kind: str
    location: tuple[float, float] | None
    location_index: int | None
    service_s: float
    time_windows: list[TimeWindow]
    skills: frozenset[str]
    optional: Flag
    drop_penalty: float | None
    priority: int
    delivery: dict[str, float]
    pickup: dict[str, float]
    unload: dict[str, float]
    partner: int | None = None
    vehicles: frozenset[Id] = frozenset()
    assigned_vehicle: Id | None = None

    def allows(self, vehicle: Vehicle) -> bool:
        """Whether ``vehicle`` may serve this visit: it has the skills and, when the visit
        names the vehicles that may serve it, it is one of them."""
        return self.skills <= vehicle.skills and (not self.vehicles or vehicle.id in self.vehicles)

    @property
    def demand(self) -> dict[str, float]:
        """What the vehicle must have room for at this visit, in each dimension, on its own."""
        names = set(self.delivery) | set(self.pickup) | set(self.unload)
        return {
            n: max(self.delivery.get(n, 0.0), self.pickup.get(n, 0.0), self.unload.get(n, 0.0))
            for n in names
        }


class Break(StrictModel):
    """A driver break: it starts inside one of its windows and lasts ``duration_s``."""

    id: Id
    time_windows: list[TimeWindow] = Field(min_length=1, description="windows for the start")
    duration_s: Seconds = Field(alias="service")

    @field_validator("time_windows", mode="after")
    @classmethod
    def _merge(cls, windows: list[TimeWindow]) -> list[TimeWindow]:
        return merge_windows(windows)


class Vehicle(StrictModel):
    """A vehicle and its driver's shift. A missing start or end makes an open route."""

    id: Id
    start: Coordinates | None = None
    end: Coordinates | None = None
    start_index: Count | None = None
    end_index: Count | None = None
    capacity: Quantities = Field(
        default_factory=dict, description="per named quantity; an unnamed one is unlimited"
    )
    shift: TimeWindow | None = Field(None, alias="time_window")
    max_duration_s: Seconds | None = Field(None, description="route start to end, all included")
    max_distance_m: Metres | None = Field(None, alias="max_distance")
    max_stops: Count | None = Field(None, alias="max_tasks")
    fixed_cost: Money = 0.0
    cost_per_km: Money = 1.0
    cost_per_hour: Money = Field(0.0, description="per hour of travel (VROOM's per_hour)")
    cost_per_working_hour: Money = Field(
        0.0, description="per hour from route start to end: travel, service, waiting, breaks"
    )
    skills: Skills = Field(default_factory=set)
    breaks: list[Break] = Field(default_factory=list)
    speed_factor: float = Field(
        1.0,
        ge=0.01,
        le=5,
        allow_inf_nan=False,
        strict=True,
        description="travel time = base / factor; 0.01 to 5",
    )
    locked_stops: list[Id] = Field(
        default_factory=list,
        max_length=MAX_COUNT,
        description="stops (or shipment steps) the route must begin with, in this order: "
        "done or under way",
    )
    reload_locations: list[Coordinates] = Field(
        default_factory=list,
        max_length=MAX_RELOAD_PLACES,
        description="[lon, lat] of places where the vehicle may load again mid-shift "
        "(multi-trip), usually its start; at a reload what was picked up is unloaded",
    )
    reload_indices: list[Count] = Field(
        default_factory=list,
        max_length=MAX_RELOAD_PLACES,
        description="the reload places as matrix rows, with explicit matrices",
    )
    max_reloads: Count | None = Field(
        None, description="reloads allowed in the shift; null: any number (with reload places)"
    )
    reload_service_s: Seconds = Field(0.0, description="how long one reload takes")

    @model_validator(mode="after")
    def _unique_breaks(self) -> Vehicle:
        duplicated = [k for k, n in Counter(b.id for b in self.breaks).items() if n > 1]
        if duplicated:
            raise ValueError(f"vehicle {self.id!r} has duplicate break ids: {duplicated}")
        return self

    @property
    def has_reloads(self) -> bool:
        """Whether the vehicle may reload mid-shift (a place given, reloads not set to 0)."""
        places = self.reload_locations or self.reload_indices
        return bool(places) and self.max_reloads != 0

    @property
    def has_start(self) -> bool:
        """Whether the route begins at a fixed place."""
        return self.start is not None or self.start_index is not None

    @property
    def has_end(self) -> bool:
        """Whether the route must end at a fixed place."""
        return self.end is not None or self.end_index is not None


BalanceMetric = Literal["duration", "stops", "distance"]


class Balance(StrictModel):
    """Workload balance: a cost on the largest route by one measure (a min-max term), so the
    search spreads the work when that saves more than it costs in driving."""

    metric: BalanceMetric = Field(
        description="duration: start to end (s); stops: visits; distance: driven (m)"
    )
    weight: Money = Field(
        description="cost per hour of the longest route, per stop of the busiest, or per km "
        "of the longest"
    )


class ObjectiveWeights(StrictModel):
    """Multipliers on each part of the cost, to trade them off (1 = as priced)."""

    fixed: Weight = 1.0
    distance: Weight = 1.0
    duration: Weight = 1.0
    drop_penalty: Weight = 1.0


class RoutingOptions(StrictModel):
    """How long and how to search."""

    time_limit_s: TimeLimit = 10.0
    seed: int = Field(0, ge=0, le=2**31 - 1, strict=True)
    solution_limit: int | None = Field(
        None,
        ge=1,
        le=MAX_COUNT,
        strict=True,
        description="deterministic stop: after this many solutions (OR-Tools) or "
        "iterations (PyVRP), if the time limit is not reached first; when set, one "
        "search runs whatever 'workers' says, so a seed reproduces the plan",
    )
    backend: RoutingBackend = Field(
        "auto",
        description="auto: PyVRP when it supports every feature; with breaks, the hybrid "
        "(PyVRP plans, OR-Tools fits the breaks); else OR-Tools",
    )
    workers: int = Field(
        0,
        ge=0,
        le=64,
        strict=True,
        description="parallel searches; 0 = one per core for limits >= 5 s; "
        "always one when solution_limit is set",
    )
    objective: ObjectiveWeights = Field(default_factory=ObjectiveWeights)
    reassign_penalty: Money = Field(
        0.0,
        description="cost of serving a stop on another vehicle than its assigned_vehicle",
    )
    balance: Balance | None = Field(
        None, description="workload balance: weight x the largest route's metric, in the cost"
    )
    geometry: Flag = Field(
        False,
        description="also answer each route's path as routes[].geometry (an encoded "
        "polyline, like VROOM's -g / options.g)",
    )


class RoutingRequest(StrictModel):
    """Everything needed to plan routes: stops, vehicles, where travel times come from."""

    stops: list[Stop] = Field(alias="jobs")
    shipments: list[Shipment] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(min_length=1)
    matrix: MatrixSpec | None = Field(
        None, description="default: haversine when locations are coordinates"
    )
    options: RoutingOptions = Field(default_factory=RoutingOptions)
    day_start: DateTime | None = Field(
        None, description="ISO 8601; when given, results also carry clock times"
    )

    def tasks(self) -> list[Task]:
        """Every visit: the stops in order, then each shipment's pickup and delivery ends.

        A shipment's drop penalty sits on its pickup end, so leaving it out costs it once.
        """
        out = [
            Task(
                id=s.id,
                kind="job",
                location=s.location,
                location_index=s.location_index,
                service_s=s.service_s,
                time_windows=s.time_windows,
                skills=frozenset(s.skills),
                optional=s.optional,
                drop_penalty=s.drop_penalty,
                priority=s.priority,
                delivery=dict(s.demand),
                pickup=dict(s.pickup),
                unload={},
                vehicles=frozenset(s.vehicles),
                assigned_vehicle=s.assigned_vehicle,
            )
            for s in self.stops
        ]
        for shipment in self.shipments:
            first = len(out)
            for end, partner in ((shipment.pickup, first + 1), (shipment.delivery, first)):
                is_pickup = end is shipment.pickup
                out.append(
                    Task(
                        id=end.id,
                        kind="pickup" if is_pickup else "delivery",
                        location=end.location,
                        location_index=end.location_index,
                        service_s=end.service_s,
                        time_windows=end.time_windows,
                        skills=frozenset(shipment.skills),
                        optional=shipment.optional,
                        drop_penalty=(shipment.drop_penalty if is_pickup else 0.0)
                        if shipment.optional
                        else None,
                        priority=shipment.priority,
                        delivery={},
                        pickup=dict(shipment.amount) if is_pickup else {},
                        unload={} if is_pickup else dict(shipment.amount),
                        partner=partner,
                    )
                )
        return out

    @model_validator(mode="after")
    def _consistent(self) -> RoutingRequest:
        visit_ids = [s.id for s in self.stops] + [
            end.id for sh in self.shipments for end in (sh.pickup, sh.delivery)
        ]
        visits = "stop and shipment step" if self.shipments else "stops"
        for kind, ids in ((visits, visit_ids), ("vehicles", [v.id for v in self.vehicles])):
            duplicated = [k for k, n in Counter(ids).items() if n > 1]
            if duplicated:
                raise ValueError(f"duplicate {kind} ids: {duplicated}")
        self._check_vehicle_links(set(visit_ids))
        if isinstance(self.matrix, ExplicitMatrix):
            self._check_indices(self.matrix.size)
            self._check_reload_places(True, self.matrix.size)
        else:
            self._check_coordinates()
            self._check_reload_places(False, 0)
        return self

    def _check_vehicle_links(self, visit_ids: set[Id]) -> None:
        """Stops' vehicles and assigned vehicle exist; locked stops exist, are locked once,
        and may be served by the vehicle that locks them."""
        vehicle_ids = {v.id for v in self.vehicles}
        for i, stop in enumerate(self.stops):
            unknown = [v for v in stop.vehicles if v not in vehicle_ids]
            if unknown:
                raise ValueError(f"stops[{i}].vehicles names unknown vehicles {unknown}")
            if stop.assigned_vehicle is not None and stop.assigned_vehicle not in vehicle_ids:
                raise ValueError(
                    f"stops[{i}].assigned_vehicle {stop.assigned_vehicle!r} is not a vehicle"
                )
        allowed: dict[Id, set[Id]] = {s.id: set(s.vehicles) for s in self.stops}
        locked: dict[Id, Id] = {}
        for i, vehicle in enumerate(self.vehicles):
            for k, stop_id in enumerate(vehicle.locked_stops):
                where = f"vehicles[{i}].locked_stops[{k}]"
                if stop_id not in visit_ids:
                    raise ValueError(f"{where} = {stop_id!r} is not a stop or shipment step")
                if stop_id in locked:
                    raise ValueError(
                        f"{where} = {stop_id!r} is already locked by vehicle {locked[stop_id]!r}"
                    )
                if allowed.get(stop_id) and vehicle.id not in allowed[stop_id]:
                    raise ValueError(
                        f"{where} = {stop_id!r} may not be served by vehicle {vehicle.id!r} "
                        "(not in the stop's vehicles)"
                    )
                locked[stop_id] = vehicle.id

    def locked_by(self) -> dict[Id, int]:
        """The index of the vehicle whose route is locked to begin with each locked visit."""
        return {s: i for i, v in enumerate(self.vehicles) for s in v.locked_stops}

    def _visits(self) -> list[tuple[str, Stop | ShipmentStep]]:
        """Every located visit with the path of its field, for error messages."""
        out: list[tuple[str, Stop | ShipmentStep]] = [
            (f"stops[{i}]", s) for i, s in enumerate(self.stops)
        ]
        for i, sh in enumerate(self.shipments):
            out += [
                (f"shipments[{i}].pickup", sh.pickup),
                (f"shipments[{i}].delivery", sh.delivery),
            ]
        return out

    def _check_indices(self, size: int) -> None:
        for where, stop in self._visits():
            if stop.location_index is None:
                raise ValueError(
                    f"{where} (id {stop.id!r}) has no location_index; it is required "
                    "with explicit matrices"
                )
            if stop.location_index >= size:
                raise ValueError(
                    f"{where}.location_index = {stop.location_index} is out of range for a "
                    f"{size}x{size} matrix"
                )
        for i, vehicle in enumerate(self.vehicles):
            for name in ("start_index", "end_index"):
                index = getattr(vehicle, name)
                if index is not None and index >= size:
                    raise ValueError(
                        f"vehicles[{i}].{name} = {index} is out of range for a {size}x{size} matrix"
                    )
                if getattr(vehicle, name.removesuffix("_index")) is not None and index is None:
                    raise ValueError(
                        f"vehicles[{i}] (id {vehicle.id!r}) gives {name.removesuffix('_index')} "
                        f"as coordinates; explicit matrices need {name}"
                    )

    def _check_reload_places(self, explicit: bool, size: int) -> None:
        for i, vehicle in enumerate(self.vehicles):
            if explicit and vehicle.reload_locations:
                raise ValueError(
                    f"vehicles[{i}] (id {vehicle.id!r}) gives reload_locations as coordinates; "
                    "explicit matrices need reload_indices"
                )
            if not explicit and vehicle.reload_indices:
                raise ValueError(
                    f"vehicles[{i}].reload_indices is only valid with explicit matrices; "
                    "give reload_locations as [lon, lat]"
                )
            for k, index in enumerate(vehicle.reload_indices):
                if index >= size:
                    raise ValueError(
                        f"vehicles[{i}].reload_indices[{k}] = {index} is out of range for a "
                        f"{size}x{size} matrix"
                    )

    def _check_coordinates(self) -> None:
        for where, stop in self._visits():
            if stop.location is None:
                raise ValueError(
                    f"{where} (id {stop.id!r}) has no location; coordinates are required "
                    "unless matrix.provider is 'explicit'"
                )
        for i, vehicle in enumerate(self.vehicles):
            for name in ("start", "end"):
                if getattr(vehicle, f"{name}_index") is not None and getattr(vehicle, name) is None:
                    raise ValueError(
                        f"vehicles[{i}].{name}_index is only valid with explicit matrices; "
                        f"give {name} as [lon, lat]"
                    )


# --------------------------------------------------------------------------- results


class StepType(StrEnum):
    """What happens at a step of a route."""

    START = "start"
    STOP = "job"
    PICKUP = "pickup"
    DELIVERY = "delivery"
    BREAK = "break"
    RELOAD = "reload"
    END = "end"

    @property
    def is_visit(self) -> bool:
        """A stop or a shipment end (not the start, the end or a break)."""
        return self in (StepType.STOP, StepType.PICKUP, StepType.DELIVERY)


class Step(StrictModel):
    """One event of a route, with its times (s from day start) and running totals."""

    type: StepType
    id: Id | None = None
    location: Coordinates | None = None
    location_index: int | None = None
    arrival_s: float
    service_start_s: float
    departure_s: float
    waiting_s: float = 0.0
    service_s: float = 0.0
    load: dict[str, float] = Field(default_factory=dict, description="on board after this step")
    distance_m: float = Field(0.0, description="cumulative since the route start")
    duration_s: float = Field(0.0, description="cumulative since the route start")
    arrival_time: datetime | None = None


class RouteSummary(StrictModel):
    """Totals of one route."""

    stops: int
    distance_m: float
    duration_s: float
    travel_s: float
    service_s: float
    waiting_s: float
    break_s: float
    reload_s: float = Field(0.0, description="time spent reloading (multi-trip)")
    reloads: int = Field(0, description="reloads on the way: trips - 1")
    start_s: float
    end_s: float
    delivered: Quantities = Field(default_factory=dict)
    capacity: Quantities = Field(
        default_factory=dict,
        description="the vehicle's capacity per named quantity (keys as in steps' load); "
        "empty in plans stored before it was reported",
    )
    cost: float


class Route(StrictModel):
    """The sequence of steps of one vehicle."""

    vehicle_id: Id
    steps: list[Step]
    summary: RouteSummary
    geometry: str | None = Field(
        None,
        description="only with options.geometry: the route's path as a Google encoded "
        "polyline (precision 5, lat/lon pairs, as VROOM and OSRM give it). With the osm "
        "provider it follows the roads from each step's snapped point to the next; with "
        "other providers it is the straight lines between the steps' locations; null "
        "without locations (explicit matrices)",
    )


class Unassigned(StrictModel):
    """A stop that is not in any route, and why."""

    id: Id
    reason: UnassignedReason
    message: str


class Summary(StrictModel):
    """Totals of the whole plan, recomputed from its routes in the user's units.

    ``cost`` = ``travel_cost`` + ``fixed_cost`` + ``drop_penalty`` + ``reassign_cost`` +
    ``balance_cost``: what the plan costs by the vehicles' rates and the options' penalties.
    It differs from ``stats.objective`` (the search's own figure), see there.
    """

    cost: float = Field(
        description="travel_cost + fixed_cost + drop_penalty + reassign_cost + balance_cost, "
        "recomputed from the final routes"
    )
    travel_cost: float
    fixed_cost: float
    drop_penalty: float
    reassign_cost: float = Field(
        0.0, description="options.reassign_penalty for each stop served off its assigned vehicle"
    )
    balance_cost: float = Field(
        0.0, description="options.balance: its weight times the largest route's metric"
    )
    routes: int
    stops_served: int
    unassigned: int
    distance_m: float
    duration_s: float
    travel_s: float
    service_s: float
    waiting_s: float


class RoutingStats(StrictModel):
    """How the search went.

    ``objective`` is the search's own figure for the plan it returned, before the repair step:
    fixed, distance and time costs each times its weight in ``options.objective``, plus the
    search's penalty for each stop it dropped (optional: ``drop_penalty`` times its weight;
    mandatory: a dominant penalty), on integer ticks. With the hybrid backend it is PyVRP's
    figure for its plan without breaks (the breaks, fitted in afterwards, lengthen the routes),
    or OR-Tools' when OR-Tools' plan wins. ``summary.cost`` is the final plan's cost by the
    vehicles' rates, recomputed from its routes, with unit weights: the two differ whenever
    weights, mandatory drops, breaks, the repair step or rounding play a part. Compare plans
    by ``summary.cost``.

    ``time_limit_reached`` is True when the search was cut short with mandatory stops left
    out: it found no plan at all in its time, stopped on ``options.solution_limit``, or got
    only its floor share of the time because building the matrices took more than half the
    limit. The mandatory stops still left out after the repair step then carry
    ``search_time_exhausted`` (no route of this plan has room, a longer search may find one);
    otherwise ``no_room_in_plan``. ``repaired`` counts the mandatory stops (shipment ends
    counted one by one) the repair step inserted after the search.
    """

    status: SolveStatus
    backend: str
    solver_status: str
    objective: float | None = Field(
        None,
        description="the search's own weighted objective incl. its drop penalties, cost units, "
        "before the repair step; not summary.cost",
    )
    first_solution_s: float | None = None
    solve_s: float
    matrix_s: float = 0.0
    worker_errors: list[str] = Field(
        default_factory=list,
        description="why parallel searches in child processes gave no plan (one per failure)",
    )
    time_limit_reached: Flag = Field(
        False, description="the search stopped on its limit with mandatory stops left out"
    )
    repaired: int = Field(0, ge=0, description="mandatory stops the repair step inserted")


class Evaluation(Verdict):
    """The independent evaluator's verdict on a plan, with the totals it recomputed.

    Its violations name the vehicle and the stop they concern.
    """

    cost: float
    distance_m: float
    duration_s: float


class RoutingResult(StrictModel):
    """A plan: routes, what was left out and why, totals, and the evaluator's verdict."""

    summary: Summary
    routes: list[Route]
    unassigned: list[Unassigned]
    stats: RoutingStats
    evaluation: Evaluation | None = None
    day_start: datetime | None = None
