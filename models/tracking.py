"""Order tracking: what the shop's systems see of an order's delivery
(:class:`OrderTracking`, ``GET /v1/orders/{id}/tracking``) and the little a customer's
public page shows (:class:`PublicTracking`, ``GET /track/{token}``).

Times are clock times (the route's day start plus its seconds). An order on no route of a
committed plan has its status and nothing else (the route fields are null).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from models.common import StrictModel
from models.dispatch import Proof, RouteStatus, StopStatus
from models.status import OrderStatus


class OrderTracking(StrictModel):
    """An order's delivery as the shop sees it: its state, its stop on the newest route
    that holds it, the ETAs, the van's last known place, and the proof or the failure."""

    order_id: str
    channel: str
    status: OrderStatus = Field(description="the order's lifecycle state")
    tracking_url: str = Field(description="the customer's page: /track/{token}")
    route_id: str | None = Field(None, description="the newest route holding the order")
    route_status: RouteStatus | None = None
    stop_id: str | None = None
    stop_status: StopStatus | None = None
    stops_before: int | None = Field(
        None, description="stops before this one on the route still to be served"
    )
    eta_start_time: dt.datetime | None = Field(None, description="live ETA of the service")
    planned_start_time: dt.datetime | None = Field(None, description="as the plan had it")
    window_start_time: dt.datetime | None = None
    window_end_time: dt.datetime | None = None
    at_risk: bool | None = Field(None, description="the live start is after the window's end")
    vehicle_position: tuple[float, float] | None = Field(
        None, description="the van's last known [lon, lat]"
    )
    vehicle_position_at: dt.datetime | None = None
    last_event_at: dt.datetime | None = Field(None, description="the stop's last event")
    proof: Proof | None = Field(None, description="once delivered")
    failure_reason: str | None = Field(None, description="once the delivery failed")


class PublicTracking(StrictModel):
    """What a customer's tracking page shows: their own order only, never a place, another
    stop or another customer. ETAs and the window only while the stop is still to be served."""

    order_id: str
    status: OrderStatus
    stop_status: StopStatus | None = None
    stops_before: int | None = Field(None, description="stops before yours still to be served")
    eta_start_time: dt.datetime | None = None
    planned_start_time: dt.datetime | None = None
    window_start_time: dt.datetime | None = None
    window_end_time: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    received_by: str | None = Field(None, description="who signed for the delivery")
