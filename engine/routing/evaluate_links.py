"""The evaluator's checks of what links visits to each other and to vehicles.

* a shipment's two ends on one route, pickup first, or neither served;
* a vehicle's locked prefix (``locked_stops``): its route begins with exactly those stops, in
  that order (a plan that changes a locked prefix is infeasible);
* a stop that names its vehicles is served by one of them;
* the reassign penalty: ``options.reassign_penalty`` for each stop served off its
  ``assigned_vehicle``, recomputed from the routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.routing.evaluate_schedule import Geometry
from models.routing import Id, RoutingResult, Task
from models.status import ViolationCode
from models.verdict import Violation


@dataclass
class Report:
    """Collects violations (every check of the evaluator adds to one)."""

    violations: list[Violation] = field(default_factory=list)

    def add(
        self, code: ViolationCode, message: str, vehicle: Id | None = None, stop: Id | None = None
    ) -> None:
        """Record one violation."""
        self.violations.append(
            Violation(code=code, message=message, vehicle_id=vehicle, stop_id=stop)
        )


def _check_shipments(
    tasks: list[Task], result: RoutingResult, served: dict[Id, Id], report: Report
) -> None:
    """Both ends of a shipment on one route, pickup first; or neither served."""
    position = {
        step.id: k
        for route in result.routes
        for k, step in enumerate(route.steps)
        if step.type.is_visit
    }
    for task in tasks:
        if task.kind != "pickup" or task.partner is None:
            continue
        other = tasks[task.partner]
        if (task.id in served) != (other.id in served):
            report.add(
                ViolationCode.SHIPMENT_SPLIT,
                f"shipment {task.id!r} -> {other.id!r}: one end is served, the other is not",
                stop=task.id,
            )
        elif task.id in served:
            if served[task.id] != served[other.id]:
                report.add(
                    ViolationCode.SHIPMENT_SPLIT,
                    f"shipment {task.id!r} -> {other.id!r} is split between "
                    f"{served[task.id]!r} and {served[other.id]!r}",
                    stop=task.id,
                )
            elif position[task.id] > position[other.id]:
                report.add(
                    ViolationCode.SHIPMENT_ORDER,
                    f"shipment {task.id!r} is delivered at {other.id!r} before it is picked up",
                    served[task.id],
                    task.id,
                )


def _check_locks(geo: Geometry, result: RoutingResult, report: Report) -> None:
    """Each vehicle with locked stops has a route that begins with exactly them, in order."""
    routes = {r.vehicle_id: r for r in result.routes}
    for vehicle in geo.request.vehicles:
        if not vehicle.locked_stops:
            continue
        route = routes.get(vehicle.id)
        visits = [s.id for s in route.steps if s.type.is_visit] if route is not None else []
        first = visits[: len(vehicle.locked_stops)]
        if first != list(vehicle.locked_stops):
            report.add(
                ViolationCode.LOCKED_PREFIX,
                f"route must begin with its locked stops {list(vehicle.locked_stops)}, "
                f"begins with {first}",
                vehicle.id,
            )


def _check_vehicles(geo: Geometry, served: dict[Id, Id], report: Report) -> None:
    """A stop that names the vehicles that may serve it is served by one of them."""
    for task in geo.tasks:
        vid = served.get(task.id)
        if vid is not None and task.vehicles and vid not in task.vehicles:
            report.add(
                ViolationCode.VEHICLE_NOT_ALLOWED,
                f"stop may be served by {sorted(map(str, task.vehicles))} only",
                vid,
                task.id,
            )


def check_links(geo: Geometry, result: RoutingResult, served: dict[Id, Id]) -> list[Violation]:
    """Every link check of this module over a plan (``served``: stop id -> vehicle id)."""
    report = Report()
    _check_shipments(geo.tasks, result, served, report)
    _check_locks(geo, result, report)
    _check_vehicles(geo, served, report)
    return report.violations


def reassign_cost(geo: Geometry, served: dict[Id, Id]) -> float:
    """The reassign penalty of a plan: one per stop served off its assigned vehicle."""
    moved = sum(
        1
        for task in geo.tasks
        if task.assigned_vehicle is not None
        and task.id in served
        and served[task.id] != task.assigned_vehicle
    )
    return moved * geo.request.options.reassign_penalty
