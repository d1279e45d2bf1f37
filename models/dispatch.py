"""Dispatch and live ETAs: a committed plan's van routes (:class:`RouteRecord`, each stop a
:class:`RouteStopRecord`), the events a driver's app sends (:class:`RouteEventIn`), a van's
position (:class:`PositionIn`), and what the server answers to them.

Times of the day are seconds from the plan's day start (``_s``), and the same instant as a
clock time (``_time``: ``day_start + s``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from models.common import StrictModel

#: A route's state: stored at commit, out with its van, every stop done.
RouteStatus = Literal["committed", "dispatched", "completed"]
#: A stop's state.
StopStatus = Literal["pending", "arrived", "delivered", "failed", "skipped"]
#: What a driver's app reports at a stop.
RouteEventType = Literal["departed", "arrived", "delivered", "failed", "picked_up"]


def _aware(value: dt.datetime) -> dt.datetime:
    """Refuse a time without a UTC offset (it names no instant)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a UTC offset, as in 2026-12-02T09:30:00+01:00")
    return value


def _lon_lat(value: tuple[float, float] | None) -> tuple[float, float] | None:
    """Refuse a position off the globe."""
    if value is None:
        return None
    lon, lat = value
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is not between -180 and 180")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is not between -90 and 90")
    return value


class RouteRef(StrictModel):
    """A committed plan's van route, by id."""

    route_id: str
    site_id: str
    vehicle_id: str


class Proof(StrictModel):
    """What proves a delivery: who signed, a photo's reference, a note."""

    signature_name: str | None = Field(None, max_length=200)
    photo_ref: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=2000)


class RouteEventIn(StrictModel):
    """One event of a dispatched route, at one stop."""

    type: RouteEventType
    stop_id: str = Field(min_length=1, max_length=200)
    at: dt.datetime = Field(description="when it happened, ISO 8601 with a UTC offset")
    position: tuple[float, float] | None = Field(None, description="[lon, lat] of the van then")
    proof: Proof | None = None
    reason: str | None = Field(None, max_length=500, description="why a delivery failed")

    _at = field_validator("at", mode="after")(_aware)
    _position = field_validator("position", mode="after")(_lon_lat)

    @field_validator("position", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return _finite_pair(value)


class PositionIn(StrictModel):
    """Where a van is, and when."""

    at: dt.datetime = Field(description="ISO 8601 with a UTC offset")
    position: tuple[float, float] = Field(description="[lon, lat]")

    _at = field_validator("at", mode="after")(_aware)
    _position = field_validator("position", mode="after")(_lon_lat)

    @field_validator("position", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return _finite_pair(value)


def _finite_pair(value: Any) -> Any:
    """Refuse NaN and infinite coordinates, and strings or bools for numbers."""
    if value is None:
        return value
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("is [lon, lat]: two numbers")
    for x in value:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise ValueError("is [lon, lat]: two numbers")
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError("has a coordinate that is not a finite number")
    return value


class RouteStopRecord(StrictModel):
    """One stop of a route: the plan's times, the live ETA, and what happened."""

    position: int = Field(description="1 for the first step after the start")
    stop_id: str
    kind: str = Field(description="delivery, pickup, job, break, end")
    order_id: str | None = None
    channel: str | None = None
    status: StopStatus
    window_start_s: float | None = None
    window_end_s: float | None = None
    service_s: float
    travel_s: float = Field(description="from the previous stop, as planned")
    planned_arrival_s: float
    planned_start_s: float
    eta_arrival_s: float
    eta_start_s: float
    planned_arrival_time: dt.datetime
    eta_arrival_time: dt.datetime
    eta_start_time: dt.datetime
    at_risk: bool = Field(description="the live start is after the window's end")
    last_event_at: dt.datetime | None = None
    proof: Proof | None = None
    reason: str | None = None


class RouteRecord(StrictModel):
    """A committed plan's van route, with its stops and the van's last known place."""

    route_id: str
    plan_id: str
    site_id: str
    vehicle_id: str
    status: RouteStatus
    day_start: dt.datetime
    dispatched_at: dt.datetime | None = None
    position: tuple[float, float] | None = Field(None, description="last [lon, lat]")
    position_at: dt.datetime | None = None
    stops: list[RouteStopRecord]


class EventResult(StrictModel):
    """What an event did: ``applied`` False when it was older than the stop's last event
    (stored, but the newer state stands)."""

    applied: bool
    route: RouteRecord


class PositionResult(StrictModel):
    """The van's dispatched routes of the day, their ETAs recomputed."""

    vehicle_id: str
    routes: list[RouteRecord]
