"""Statuses, reason codes and backend names: the stable vocabulary of every result.

Plain enums and literals (no pydantic), so that solvers may use them too. Each value is
part of the contract: clients match on them, so a value is never renamed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

#: Which routing search runs: ``auto`` picks from the request's features.
RoutingBackend = Literal["auto", "ortools", "pyvrp", "hybrid"]
#: Which MIP solver the allocation uses.
MipBackend = Literal["highs", "scip", "cp_sat"]
MIP_BACKENDS: tuple[MipBackend, ...] = ("highs", "scip", "cp_sat")


class SolveStatus(StrEnum):
    """How a routing solve ended."""

    COMPLETE = "complete"  # every stop is served
    PARTIAL = "partial"  # some stops are left out, each with a reason
    FAILED = "failed"  # the search found no plan at all


class UnassignedReason(StrEnum):
    """Why a stop was left out of the plan."""

    NO_VEHICLE_WITH_SKILLS = "no_vehicle_with_skills"
    DEMAND_EXCEEDS_CAPACITY = "demand_exceeds_capacity"
    OUTSIDE_EVERY_SHIFT = "outside_every_shift"
    TIME_WINDOW_UNREACHABLE = "time_window_unreachable"
    EXCEEDS_MAX_DISTANCE = "exceeds_max_distance"
    EXCEEDS_MAX_DURATION = "exceeds_max_duration"
    NO_STOPS_ALLOWED = "no_stops_allowed"
    DROPPED_FOR_COST = "dropped_for_cost"
    NO_ROOM_IN_PLAN = "no_room_in_plan"


class UnfulfilledReason(StrEnum):
    """Why units of an order line are not shipped."""

    NO_STOCK = "no_stock"
    PAYMENT_NOT_AUTHORISED = "payment_not_authorised"
    INVALID_ORDER = "invalid_order"
    CAPACITY = "capacity"
    SLA_UNREACHABLE = "sla_unreachable"
    SHIP_COMPLETE_IMPOSSIBLE = "ship_complete_impossible"
    UNECONOMIC = "uneconomic"
