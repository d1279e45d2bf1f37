"""Site kind: a store without its own handling cost picks at the store default, dearer."""

from __future__ import annotations

from engine.allocation import allocate, evaluate_allocation
from models.allocation import AllocationRequest, AllocationResult, CostSettings
from tests.allocation_helpers import DAY, RIO, order, request, site, stock


def _checked(req: AllocationRequest) -> AllocationResult:
    result = allocate(req)
    verdict = evaluate_allocation(req, result, DAY)
    assert verdict.feasible, [v.message for v in verdict.violations]
    return result


def _two_sites(**store: object) -> AllocationRequest:
    # the store is listed first and sits exactly where the warehouse does
    return request(
        [site("store", RIO, kind="store", **store), site("wh", RIO, kind="warehouse")],
        [stock("store", "a", 5), stock("wh", "a", 5)],
        [order(1, RIO, ("a", 2))],
    )


def test_a_store_ships_only_when_the_warehouse_cannot() -> None:
    result = _checked(_two_sites())
    assert [sh.site_id for sh in result.shipments] == ["wh"]
    assert result.shipments[0].cost.handling == 0.0


def test_the_store_default_handling_is_charged_and_can_be_overridden() -> None:
    req = _two_sites()
    req.stock[1].on_hand = 0  # only the store holds a
    result = _checked(req)
    assert [sh.site_id for sh in result.shipments] == ["store"]
    assert result.shipments[0].cost.handling == 2 * 0.5  # documented default per unit
    own = _two_sites(handling_cost_per_unit=0.0)
    own.costs = CostSettings(handling_per_unit_by_kind={"warehouse": 0.3, "store": 0.0})
    assert [sh.site_id for sh in _checked(own).shipments] == ["store"]
