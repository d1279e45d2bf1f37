"""Statuses, reason and violation codes, and backend names: the stable vocabulary of results.

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
    NO_ROOM_IN_PLAN = "no_room_in_plan"  # fits no route of the final plan; the search finished
    # fits no route of the final plan, but the search stopped on its time (or solution) limit
    # before finding a plan serving every mandatory stop: a longer time limit may place it
    SEARCH_TIME_EXHAUSTED = "search_time_exhausted"


#: The reasons found before the solve, in the order a (stop, vehicle) pair is examined: a stop
#: no vehicle can take gets the furthest check its best vehicle passes (the engine's pre-checks
#: and the evaluator's proof both follow this order).
PRE_CHECK_REASONS: tuple[UnassignedReason, ...] = (
    UnassignedReason.NO_VEHICLE_WITH_SKILLS,
    UnassignedReason.DEMAND_EXCEEDS_CAPACITY,
    UnassignedReason.NO_STOPS_ALLOWED,
    UnassignedReason.OUTSIDE_EVERY_SHIFT,
    UnassignedReason.TIME_WINDOW_UNREACHABLE,
    UnassignedReason.EXCEEDS_MAX_DISTANCE,
    UnassignedReason.EXCEEDS_MAX_DURATION,
)


class UnfulfilledReason(StrEnum):
    """Why units of an order line are not shipped."""

    NO_STOCK = "no_stock"
    PAYMENT_NOT_AUTHORISED = "payment_not_authorised"
    INVALID_ORDER = "invalid_order"
    CAPACITY = "capacity"
    SLA_UNREACHABLE = "sla_unreachable"
    SHIP_COMPLETE_IMPOSSIBLE = "ship_complete_impossible"
    UNECONOMIC = "uneconomic"


class ViolationCode(StrEnum):
    """What the independent evaluators found wrong with a plan (routing or allocation)."""

    # Both evaluators: a reported figure that does not match its recomputation.
    COST_MISMATCH = "cost_mismatch"
    # Allocation: an unfulfilled reason or an explanation that the input does not bear out.
    FALSE_UNFULFILLED_REASON = "false_unfulfilled_reason"
    EXPLANATION_MISMATCH = "explanation_mismatch"
    DISTANCE_MISMATCH = "distance_mismatch"
    SUMMARY_MISMATCH = "summary_mismatch"

    # Routing: the routes and what they cover.
    UNKNOWN_VEHICLE = "unknown_vehicle"
    VEHICLE_TWICE = "vehicle_twice"
    ROUTE_SHAPE = "route_shape"
    UNKNOWN_STOP = "unknown_stop"
    STEP_TYPE = "step_type"
    SERVED_TWICE = "served_twice"
    SERVED_AND_UNASSIGNED = "served_and_unassigned"
    UNASSIGNED_TWICE = "unassigned_twice"
    MISSING_STOP = "missing_stop"
    SHIPMENT_SPLIT = "shipment_split"
    SHIPMENT_ORDER = "shipment_order"
    LOCKED_PREFIX = "locked_prefix"
    VEHICLE_NOT_ALLOWED = "vehicle_not_allowed"
    # Routing: each visit.
    SKILLS = "skills"
    TIME_WINDOW = "time_window"
    TRAVEL_TIME = "travel_time"
    SERVICE_BEFORE_ARRIVAL = "service_before_arrival"
    SERVICE_TIME = "service_time"
    DEPARTURE = "departure"
    WAITING = "waiting"
    # Routing: loads.
    CAPACITY = "capacity"
    NEGATIVE_LOAD = "negative_load"
    LOAD_MISMATCH = "load_mismatch"
    # Routing: breaks.
    BREAK_UNKNOWN = "break_unknown"
    BREAK_OVERLAP = "break_overlap"
    BREAK_WINDOW = "break_window"
    BREAK_DURATION = "break_duration"
    BREAK_MISSING = "break_missing"
    BREAK_REPEATED = "break_repeated"
    # Routing: reloads (multi-trip).
    RELOAD_PLACE = "reload_place"
    RELOAD_TIME = "reload_time"
    MAX_RELOADS = "max_reloads"
    # Routing: limits of the vehicle and the route's own accounts.
    SHIFT = "shift"
    MAX_DURATION = "max_duration"
    MAX_DISTANCE = "max_distance"
    MAX_STOPS = "max_stops"
    TIME_UNACCOUNTED = "time_unaccounted"
    # Routing: the reasons given for stops left out.
    FALSE_REASON = "false_reason"
    INSERTABLE_UNASSIGNED = "insertable_unassigned"

    # Allocation: every requested unit accounted for.
    LINE_MISSING = "line_missing"
    LINE_QUANTITY_MISMATCH = "line_quantity_mismatch"
    UNKNOWN_LINE = "unknown_line"
    # Allocation: each shipment.
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_SITE = "unknown_site"
    PAYMENT_NOT_AUTHORISED = "payment_not_authorised"
    SITE_OFFLINE = "site_offline"
    CHANNEL_NOT_SERVED = "channel_not_served"
    BAD_SHIPMENT_LINE = "bad_shipment_line"
    NO_LOCATION = "no_location"
    HARD_SLA_LATE = "hard_sla_late"
    EXPECTED_DATE_MISMATCH = "expected_date_mismatch"
    # Allocation: stock, sites and orders.
    STOCK_EXCEEDED = "stock_exceeded"
    SITE_CAPACITY = "site_capacity"
    SITE_SHIPS_ORDER_TWICE = "site_ships_order_twice"
    MAX_SHIPMENTS = "max_shipments"
    SHIP_COMPLETE = "ship_complete"

    # Cartonisation: each carton, and every unit of each shipment packed once.
    CARTON_OVERFILL = "carton_overfill"
    CARTON_OVERWEIGHT = "carton_overweight"
    ITEM_DOES_NOT_FIT = "item_does_not_fit"
    PACKED_QUANTITY_MISMATCH = "packed_quantity_mismatch"
    UNKNOWN_CARTON_TYPE = "unknown_carton_type"


class OrderStatus(StrEnum):
    """Where an order of the book is in its lifecycle (``engine/book/lifecycle.py`` holds
    the table of the moves allowed between them)."""

    RECEIVED = "received"  # captured, not yet checked against payment and the book
    ON_HOLD = "on_hold"  # payment not authorised, or a warning to clear
    READY = "ready"  # paid and valid: waits for a plan
    BACKORDERED = "backordered"  # ready, but the last plan could not serve it (its reason kept)
    ALLOCATED = "allocated"  # stock reserved at a site, shipment known
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"  # out for delivery, or handed to a carrier
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class PaymentState(StrEnum):
    """An order's payment, as its gateway reports it."""

    PENDING = "pending"
    AUTHORISED = "authorised"
    DECLINED = "declined"
    CAPTURED = "captured"
    REFUNDED = "refunded"


class TransitionCause(StrEnum):
    """What made an order change state (kept with every transition)."""

    CAPTURE = "capture"  # the order arrived (API, import)
    API = "api"  # a direct call: cancel, release, a status change
    PAYMENT = "payment"  # its payment changed
    PLAN_COMMIT = "plan_commit"  # a plan was committed
    EVENT = "event"  # an execution event (pick, pack, dispatch, delivery)


class HoldReason(StrEnum):
    """Why an order waits in ``on_hold``."""

    PAYMENT_PENDING = "payment_pending"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_REFUNDED = "payment_refunded"
    VALIDATION = "validation"  # warnings at capture (an unknown sku, no location)
    MANUAL = "manual"


class EventType(StrEnum):
    """What an outbox event says happened (``engine/events/outbox.py``), as webhooks and the
    event stream name it."""

    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    PLAN_COMMITTED = "plan.committed"
    ROUTE_DISPATCHED = "route.dispatched"
    STOP_ARRIVED = "stop.arrived"
    STOP_DELIVERED = "stop.delivered"
    STOP_FAILED = "stop.failed"
    ETA_CHANGED = "eta.changed"
    RETURN_STATUS_CHANGED = "return.status_changed"
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
