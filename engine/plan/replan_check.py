"""A re-plan's own account: its diff against the replaced plan, and the independent check.

The check reads the vans' state at ``at`` (what the routes recorded, not the routing
request built from it) and the new routes only:

* a van with a stop under way begins its new route with it (``locked_prefix``);
* goods on board a dispatched van are served by that van, or not at all
  (``vehicle_not_allowed``);
* a stop done is in no new route (``served_twice``);
* every site's routes pass the routing evaluator (its violations, as they are).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.plan.replan_sites import DONE, RouteNow
from models.replan import MovedStop, ReplanDiff, ReplanVan
from models.routing import RoutingResult
from models.status import ViolationCode
from models.verdict import Verdict, Violation


def _new_routes(routed: dict[str, RoutingResult]) -> dict[str, list[str]]:
    """Each van's new visits, in order."""
    return {
        str(route.vehicle_id): [str(s.id) for s in route.steps if s.type.is_visit]
        for result in routed.values()
        for route in result.routes
    }


def diff_routes(
    routes: Sequence[RouteNow], routed: dict[str, RoutingResult], cancelled: frozenset[str]
) -> ReplanDiff:
    """Stops added, removed, moved between vans and vans resequenced, against what the
    replaced plan had left to do."""
    before = {r.vehicle_id: [s.stop_id for s in r.visits() if s.status not in DONE] for r in routes}
    after = _new_routes(routed)
    was_on = {stop: vid for vid, stops in before.items() for stop in stops}
    now_on = {stop: vid for vid, stops in after.items() for stop in stops}
    moved = [
        MovedStop(stop_id=stop, from_vehicle=was_on[stop], to_vehicle=vid)
        for stop, vid in sorted(now_on.items())
        if stop in was_on and was_on[stop] != vid
    ]
    resequenced = []
    for vid, stops in sorted(after.items()):
        old = [s for s in before.get(vid, []) if now_on.get(s) == vid]
        new = [s for s in stops if was_on.get(s) == vid]
        if old != new:
            resequenced.append(vid)
    return ReplanDiff(
        added=sorted(s for s in now_on if s not in was_on),
        removed=sorted(s for s in was_on if s not in now_on),
        moved=moved,
        resequenced=resequenced,
    )


def check_replan(vans: Sequence[ReplanVan], routed: dict[str, RoutingResult]) -> Verdict:
    """The independent check of a re-plan (see the module doc)."""
    after = _new_routes(routed)
    now_on = {stop: vid for vid, stops in after.items() for stop in stops}
    violations: list[Violation] = []
    for van in vans:
        mine = after.get(str(van.vehicle_id), [])
        if van.locked and mine[: len(van.locked)] != van.locked:
            violations.append(
                Violation(
                    code=ViolationCode.LOCKED_PREFIX,
                    message=f"the new route must begin with {van.locked}, begins with "
                    f"{mine[: len(van.locked)]}",
                    vehicle_id=van.vehicle_id,
                )
            )
        for stop in van.on_board:
            if stop in now_on and now_on[stop] != van.vehicle_id:
                violations.append(
                    Violation(
                        code=ViolationCode.VEHICLE_NOT_ALLOWED,
                        message=f"goods on board {van.vehicle_id!r} moved to {now_on[stop]!r}",
                        vehicle_id=now_on[stop],
                        stop_id=stop,
                    )
                )
        for stop in van.done:
            if stop in now_on:
                violations.append(
                    Violation(
                        code=ViolationCode.SERVED_TWICE,
                        message=f"done by {van.vehicle_id!r} before the re-plan, routed again",
                        vehicle_id=now_on[stop],
                        stop_id=stop,
                    )
                )
    for result in routed.values():
        if result.evaluation is not None:
            violations.extend(result.evaluation.violations)
    return Verdict(feasible=not violations, violations=violations)
