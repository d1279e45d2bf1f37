"""The pick list of a committed plan: exactly the plan's shipment lines at the site (compared
with the stored PlanResult), each van's stops in reverse order of its stored route, lines by
bin in natural order, totals per sku recounted here, carrier shipments in their own group."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from engine.dispatch.store import DispatchStore
from engine.picking.catalogue import natural_key
from engine.picking.store import PickingStore
from models.book import PlanRecord
from models.errors import ConflictError, NotFoundError
from models.picking import PickList
from models.plan import PlanResult
from tests.engine.picking.conftest import BINS, catalogue, committed_day

ALL = ["o-1", "o-2", "o-3", "far"]


def _plan_lines(plan: PlanRecord, site_id: str) -> Counter[tuple[str, str, str, int]]:
    """(book order id, line, sku, units) of every shipment line of the plan at the site."""
    book = {ref.plan_order_id: ref.order_id for ref in plan.book_orders}
    return Counter(
        (book[str(s.order_id)], str(line.line_id), line.sku, line.quantity)
        for s in plan.shipments
        if str(s.site_id) == site_id
        for line in s.lines
    )


def _listed(found: PickList) -> Counter[tuple[str, str, str, int]]:
    return Counter(
        (line.order_id, line.line_id, line.sku, line.units)
        for group in found.groups
        for stop in group.stops
        for line in stop.lines
    )


def _bin_key(code: str) -> tuple[str, int]:
    """``A-10`` as ("A", 10): this test's own reading of its bin codes."""
    match = re.fullmatch(r"([A-Z])-(\d+)", code)
    assert match is not None
    return match.group(1), int(match.group(2))


def test_the_pick_list_is_the_plans_lines_last_stop_first_by_bin(book: DispatchStore) -> None:
    plan = committed_day(book, ALL)
    modes = {str(s.order_id): s.mode for s in plan.shipments}
    assert modes["far"] == "carrier" and {modes[o] for o in ALL if o != "far"} == {"van"}
    picking = PickingStore(book)
    catalogue(picking)
    found = picking.picklist(plan.id, "w1")

    assert _listed(found) == _plan_lines(plan, "w1")
    assert found.units == sum(n * k for (*_rest, n), k in _plan_lines(plan, "w1").items())
    van, carrier = found.groups
    assert (van.kind, van.vehicle_id, carrier.kind) == ("van", "van-1", "carrier")
    assert [s.order_id for s in carrier.stops] == ["far"]
    assert carrier.stops[0].mode == "carrier" and carrier.stops[0].position is None

    route = book.get_route(plan.routes[0].route_id)
    positions = {s.stop_id: s.position for s in route.stops}
    loaded = [positions[s.shipment_id] for s in van.stops]
    assert loaded == sorted(loaded, reverse=True)
    assert [s.position for s in van.stops] == loaded
    assert len(van.stops) == 3

    for group in found.groups:
        units: Counter[str] = Counter()
        for stop in group.stops:
            codes = [line.bin_location for line in stop.lines]
            assert codes == [BINS[line.sku] for line in stop.lines]
            assert codes == sorted(codes, key=lambda c: _bin_key(c or ""))
            for line in stop.lines:
                units[line.sku] += line.units
        assert {t.sku: t.units for t in group.totals} == dict(units)
        assert [t.sku for t in group.totals] == sorted(units)
    o1 = next(s for s in van.stops if s.order_id == "o-1")
    assert [line.sku for line in o1.lines] == ["mug", "kettle", "plate"]  # B-1


def test_without_bins_lines_keep_to_sku_order(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    found = PickingStore(book).picklist(plan.id, "w1")
    (stop,) = found.groups[0].stops
    assert [line.sku for line in stop.lines] == ["kettle", "mug", "plate"]
    assert all(line.bin_location is None for line in stop.lines)


def test_a_draft_plan_has_no_pick_list_and_unknowns_are_404(book: DispatchStore) -> None:
    plan = committed_day(book, ["o-1"])
    picking = PickingStore(book)
    with pytest.raises(NotFoundError):
        picking.picklist("no-such-plan", "w1")
    with pytest.raises(NotFoundError):
        picking.picklist(plan.id, "nowhere")
    result = PlanResult.model_validate(plan.model_dump(include=set(PlanResult.model_fields)))
    draft = book.save_plan("book", {"from_book": {"date": "2026-12-02"}}, result, plan.book_orders)
    with pytest.raises(ConflictError) as refused:
        picking.picklist(draft.id, "w1")
    assert refused.value.code == "invalid_transition"
    assert "commit" in refused.value.message


def test_natural_order_of_bin_codes() -> None:
    codes = ["A-10", "A-2", "B-1", "A-1", "10", "9", "a-3"]
    ordered = sorted(codes, key=natural_key)
    assert ordered == ["9", "10", "A-1", "A-2", "a-3", "A-10", "B-1"]
