"""The allocation contract: defaults, spelling, and what is rejected."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models.allocation import CostSettings, Order, ShippingCost, Site, StockRecord


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Site(id="a", location=(0, 0), colour="red")


def test_payment_status_accepts_us_spelling() -> None:
    order = Order(id=1, lines=[], payment_status="Authorized")
    assert order.payment_status == "authorised"


def test_negative_stock_is_rejected() -> None:
    with pytest.raises(ValidationError, match="on_hand"):
        StockRecord(site_id="a", sku="x", on_hand=-1)


def test_bands_in_any_order_are_sorted_and_transit_needs_one() -> None:
    # The schema allows bands in any order, so validation sorts them instead of refusing.
    shipping = ShippingCost(bands=[{"max_km": 100, "fixed": 1}, {"max_km": 50, "fixed": 2}])
    assert [(b.max_km, b.fixed) for b in shipping.bands] == [(50, 2), (100, 1)]
    costs = CostSettings(transit=[{"max_km": 100, "days": 1}, {"max_km": 50, "days": 2}])
    assert [(b.max_km, b.days) for b in costs.transit] == [(50, 2), (100, 1)]
    assert ShippingCost(bands=[]).bands == []
    with pytest.raises(ValidationError, match="at least 1"):
        CostSettings(transit=[])


def test_penalty_by_priority_with_default() -> None:
    costs = CostSettings(unfulfilled_penalty={1: 10.0}, unfulfilled_penalty_default=3.0)
    assert (costs.penalty_for(1), costs.penalty_for(7)) == (10.0, 3.0)


def test_orders_accept_bad_quantities_for_the_engine_to_reject() -> None:
    order = Order(id="o", lines=[{"id": 1, "sku": "x", "quantity": 0}])
    assert order.lines[0].quantity == 0 and order.location is None
