"""Re-planning during the day: what a dispatcher asks (:class:`ReplanRequest`) and what the
new draft plan says about itself (:class:`ReplanInfo`: the vans' state at ``at``, the locked
stops, the diff against the plan it replaces, and the independent check's verdict).

A van's route is cut at ``at``: stops done (delivered, failed) stay as they happened; the stop
it is at (arrived, not yet done) is *locked* and comes first; goods already on a dispatched
van stay on it (resequenced, never moved). Vans still at their site can swap stops, at
``options.reassign_penalty`` per stop moved off its van.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from models.common import MAX_COUNT, Id, Money, StrictModel, TimeLimit
from models.verdict import Verdict


class OrderKey(StrictModel):
    """An order of the book: its id, and its channel when the id is used in several."""

    order_id: str = Field(min_length=1, max_length=64)
    channel: str | None = Field(None, min_length=1, max_length=64)


def _keys(value: Any) -> Any:
    """Accept plain order ids beside ``{order_id, channel}`` objects."""
    if isinstance(value, list):
        return [{"order_id": v} if isinstance(v, str) else v for v in value]
    return value


class ReplanOptions(StrictModel):
    """How the re-plan searches."""

    reassign_penalty: Money = Field(
        0.0,
        description="cost of moving a stop to another van still at its site: a stop "
        "changes van only when that saves more than this",
    )
    routing_time_limit_s: TimeLimit | None = Field(
        None, description="per site; default: the replaced plan's"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, strict=True)


class ReplanRequest(StrictModel):
    """Re-plan a committed plan at ``at``: add orders of the book, take cancelled ones out."""

    add_orders: list[OrderKey] = Field(default_factory=list, max_length=MAX_COUNT)
    cancel_orders: list[OrderKey] = Field(default_factory=list, max_length=MAX_COUNT)
    at: dt.datetime = Field(description="the time the vans restart from, ISO 8601 with offset")
    options: ReplanOptions = Field(default_factory=ReplanOptions)

    _add = field_validator("add_orders", mode="before")(_keys)
    _cancel = field_validator("cancel_orders", mode="before")(_keys)

    @field_validator("at", mode="after")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a UTC offset, as in 2026-12-02T11:00:00+01:00")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> ReplanRequest:
        added = {(k.order_id, k.channel) for k in self.add_orders}
        both = sorted(k.order_id for k in self.cancel_orders if (k.order_id, k.channel) in added)
        if both:
            raise ValueError(f"orders both added and cancelled: {both}")
        return self


VanState = Literal["dispatched", "at_site"]


class ReplanVan(StrictModel):
    """Where a van's day stands at ``at``, and what the re-plan keeps of it."""

    vehicle_id: Id
    site_id: Id
    route_id: str | None = Field(None, description="its route in the replaced plan")
    state: VanState = Field(description="dispatched: out with its load; at_site: not yet")
    done: list[str] = Field(default_factory=list, description="stops done, kept as they were")
    locked: list[str] = Field(
        default_factory=list, description="the stop under way: the new route begins with it"
    )
    on_board: list[str] = Field(
        default_factory=list, description="stops whose goods are on the van: they stay on it"
    )
    start: tuple[float, float] = Field(description="[lon, lat] it restarts from")
    start_s: float = Field(description="when, in seconds from the day start")


class MovedStop(StrictModel):
    """A stop that changed van."""

    stop_id: str
    from_vehicle: Id
    to_vehicle: Id


class ReplanDiff(StrictModel):
    """What changed against the replaced plan's remaining stops."""

    added: list[str] = Field(default_factory=list, description="stops new to the routes")
    removed: list[str] = Field(
        default_factory=list, description="stops no longer routed (cancelled or left out)"
    )
    moved: list[MovedStop] = Field(default_factory=list)
    resequenced: list[Id] = Field(
        default_factory=list, description="vans that keep their stops in another order"
    )


class ReplanInfo(StrictModel):
    """What a re-planned draft says about itself."""

    parent_plan_id: str
    at: dt.datetime
    at_s: float = Field(description="seconds from the day start")
    added_orders: list[Id] = Field(default_factory=list, description="plan order ids")
    cancelled_orders: list[Id] = Field(default_factory=list, description="plan order ids")
    vans: list[ReplanVan]
    diff: ReplanDiff
    check: Verdict = Field(
        description="the independent check: locked stops first, goods on board on their van, "
        "done stops left alone, every site's routes feasible"
    )
