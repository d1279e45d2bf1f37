"""The costs a routing solver adds up, in cost ticks, checked so that no sum overflows.

Per vehicle: a fixed cost, a cost per distance tick and per travel tick (an arc's cost is
their sum over the arc), a cost per working tick (the route's span); per stop, a drop
penalty (as priced when optional, dominant when mandatory, see :func:`penalties`). A value
beyond :data:`~engine.units.MAX_TICKS`, or a plan whose costs and penalties could add up
beyond :data:`~engine.units.MAX_OBJECTIVE`, is an :class:`~models.errors.InvalidInputError`
naming the field that makes it so: the solvers never see a number that a cast has wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.units import (
    COST_SCALE,
    DISTANCE_SCALE,
    MAX_OBJECTIVE,
    MAX_TICKS,
    TIME_SCALE,
    check_ticks,
)
from models.errors import InvalidInputError
from models.routing import RoutingRequest, Task, Vehicle


def task_path(request: RoutingRequest, index: int) -> str:
    """The field path of task ``index`` (``stops[3]``, ``shipments[1].delivery``)."""
    if index < len(request.stops):
        return f"stops[{index}]"
    shipment, end = divmod(index - len(request.stops), 2)
    return f"shipments[{shipment}].{'delivery' if end else 'pickup'}"


def owner_path(request: RoutingRequest, index: int) -> str:
    """Where a task's own fields live: the stop, or the shipment of a shipment end."""
    path = task_path(request, index)
    return path if index < len(request.stops) else path.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Costs:
    """Per vehicle, in cost ticks: per distance tick, per travel tick, per working tick, fixed."""

    distance: npt.NDArray[np.float64]
    duration: npt.NDArray[np.float64]
    span: npt.NDArray[np.float64]
    fixed: npt.NDArray[np.int64]


def _too_large(weight: str) -> str:
    return (
        f"times options.objective.{weight}, is beyond the largest cost the solvers can hold "
        f"exactly ({MAX_TICKS / COST_SCALE:.4g} currency units)"
    )


def vehicle_costs(request: RoutingRequest) -> Costs:
    """The vehicles' prices, weighted by the objective, in cost ticks per tick."""
    weights = request.options.objective
    km_to_tick = COST_SCALE / (1000.0 * DISTANCE_SCALE)
    hour_to_tick = COST_SCALE / (3600.0 * TIME_SCALE)
    vehicles = request.vehicles
    fixed = np.asarray([v.fixed_cost * COST_SCALE * weights.fixed for v in vehicles])
    check_ticks(
        fixed, lambda at: f"vehicles[{at[0]}].fixed_cost", _too_large("fixed"), scale=COST_SCALE
    )
    return Costs(
        distance=np.asarray([v.cost_per_km * km_to_tick * weights.distance for v in vehicles]),
        duration=np.asarray([v.cost_per_hour * hour_to_tick * weights.duration for v in vehicles]),
        span=np.asarray(
            [v.cost_per_working_hour * hour_to_tick * weights.duration for v in vehicles]
        ),
        fixed=np.rint(fixed).astype(np.int64).reshape(len(vehicles)),
    )


def longest_span(vehicle: Vehicle, horizon: int) -> int:
    """The longest a route of ``vehicle`` can last, in ticks: its shift, its max duration,
    else the horizon."""
    span = horizon
    if vehicle.shift is not None:
        span = min(span, round((vehicle.shift.end_s - vehicle.shift.start_s) * TIME_SCALE))
    if vehicle.max_duration_s is not None:
        span = min(span, round(vehicle.max_duration_s * TIME_SCALE))
    return span


def _arc_parts(
    costs: Costs,
    distance: npt.NDArray[np.int64],
    durations: list[npt.NDArray[np.int64]],
    profile: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per vehicle, the dearest arc's distance part and travel-time part, in cost ticks."""
    longest_m = float(distance.max(initial=0))
    by_vehicle = [float(durations[int(p)].max(initial=0)) for p in profile]
    return costs.distance * longest_m, costs.duration * np.asarray(by_vehicle, dtype=np.float64)


def _check_arcs(
    request: RoutingRequest,
    distance_part: npt.NDArray[np.float64],
    time_part: npt.NDArray[np.float64],
) -> None:
    """No arc may cost more than :data:`MAX_TICKS`: name the price that makes one do."""
    for v, (by_distance, by_time) in enumerate(zip(distance_part, time_part, strict=True)):
        if by_distance + by_time <= MAX_TICKS:
            continue
        vehicle = request.vehicles[v]
        name, weight = (
            ("cost_per_km", "distance") if by_distance >= by_time else ("cost_per_hour", "duration")
        )
        raise InvalidInputError.for_field(
            f"vehicles[{v}].{name}",
            getattr(vehicle, name),
            f"times the longest trip of the matrix and options.objective.{weight}, makes one "
            f"trip cost more than the solvers can hold exactly "
            f"({MAX_TICKS / COST_SCALE:.4g} currency units)",
        )


def penalties(
    request: RoutingRequest, tasks: list[Task], stops: list[int], arc_max: int, fixed_max: int
) -> list[int]:
    """Drop penalties in cost ticks: as priced for optional stops, dominant for the rest.

    A mandatory stop costs more to drop than any single insertion can cost, and more than any
    optional stop; its priority (0-100) multiplies that, so higher priorities are kept first.
    Python integers: the caller checks their sum before they become solver arrays.
    """
    weight = request.options.objective.drop_penalty
    priced = np.asarray(
        [
            (tasks[i].drop_penalty or 0.0) * COST_SCALE * weight if tasks[i].optional else 0.0
            for i in stops
        ]
    )
    check_ticks(
        priced,
        lambda at: f"{owner_path(request, stops[at[0]])}.drop_penalty",
        _too_large("drop_penalty"),
        scale=COST_SCALE,
    )
    optional = [round(float(p)) for p, i in zip(priced, stops, strict=True) if tasks[i].optional]
    big = 10 * (2 * arc_max + fixed_max + 1) + 10 * max(optional, default=0)
    out = []
    for node, i in enumerate(stops):
        stop = tasks[i]
        if stop.kind == "delivery":
            out.append(0)  # a shipment's penalty sits on its pickup end
        elif stop.optional:
            out.append(round(float(priced[node])))
        else:
            out.append(big * (1 + stop.priority))
    return out


def _culprit(
    request: RoutingRequest,
    tasks: list[Task],
    stops: list[int],
    parts: dict[str, npt.NDArray[np.float64]],
    dearest_optional: float,
) -> tuple[str, float]:
    """The field (and its value) that contributes most to a total that is too large."""
    name, v = max(
        ((n, v) for n, values in parts.items() for v in range(len(values))),
        key=lambda item: float(parts[item[0]][item[1]]),
    )
    if dearest_optional > 2 * float(parts[name][v]):
        i = max((i for i in stops if tasks[i].optional), key=lambda i: tasks[i].drop_penalty or 0.0)
        return f"{owner_path(request, i)}.drop_penalty", tasks[i].drop_penalty or 0.0
    return f"vehicles[{v}].{name}", getattr(request.vehicles[v], name)


def penalty_ticks(
    request: RoutingRequest,
    tasks: list[Task],
    candidates: list[int],
    costs: Costs,
    matrices: tuple[npt.NDArray[np.int64], list[npt.NDArray[np.int64]], npt.NDArray[np.int64]],
    horizon: int,
) -> npt.NDArray[np.int64]:
    """Drop penalties, scaled above the dearest arc and route (see :func:`penalties`).

    ``matrices`` are the node distance matrix, the duration matrix of each speed profile and
    each vehicle's profile. Refused, naming the field, when any arc costs more than
    :data:`MAX_TICKS`, or when every route's worst cost plus every drop penalty could add up
    beyond :data:`MAX_OBJECTIVE`.
    """
    distance, durations, profile = matrices
    by_distance, by_time = _arc_parts(costs, distance, durations, profile)
    _check_arcs(request, by_distance, by_time)
    arcs = [
        int(np.rint(costs.distance[v] * distance + costs.duration[v] * durations[int(p)]).max())
        if distance.size
        else 0
        for v, p in enumerate(profile)
    ]
    lengths = [longest_span(v, horizon) for v in request.vehicles]
    spans = [int(np.ceil(float(s) * n)) for s, n in zip(costs.span, lengths, strict=True)]
    fixed = [int(f) for f in costs.fixed]
    out = penalties(
        request,
        tasks,
        candidates,
        max(arcs, default=0) + max(spans, default=0),
        max(fixed, default=0),
    )
    n_arcs = distance.shape[0] + 1
    total = sum(out) + sum(f + n_arcs * a + s for f, a, s in zip(fixed, arcs, spans, strict=True))
    if total > MAX_OBJECTIVE:
        parts = {
            "fixed_cost": costs.fixed.astype(np.float64),
            "cost_per_km": by_distance * n_arcs,
            "cost_per_hour": by_time * n_arcs,
            "cost_per_working_hour": costs.span * np.asarray(lengths, dtype=np.float64),
        }
        dearest = max(
            (p for p, i in zip(out, candidates, strict=True) if tasks[i].optional), default=0
        )
        field, value = _culprit(request, tasks, candidates, parts, float(dearest))
        raise InvalidInputError.for_field(
            field,
            value,
            "makes the routes' costs and drop penalties add up to more than the solvers can "
            f"count ({total / COST_SCALE:.4g} > {MAX_OBJECTIVE / COST_SCALE:.4g} currency units, "
            "mandatory stops' penalties included); lower it, or count money in a larger unit",
        )
    return np.asarray(out, dtype=np.int64).reshape(len(candidates))
