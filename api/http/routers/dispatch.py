"""Dispatch: a committed plan's van routes (read one, send it out), the events its van
reports at each stop, and the van's position; live ETAs follow every one. Every change is
one transaction of the dispatch store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request

from api.http import dispatch_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY
from api.http.errors import error_responses
from api.http.examples import json_example
from api.settings import Settings, get_settings
from engine.dispatch.events import FailurePolicy
from engine.dispatch.store import DispatchStore
from models.dispatch import EventResult, PositionIn, PositionResult, RouteEventIn, RouteRecord

router = APIRouter(tags=["dispatch"], dependencies=API_KEY_SECURITY)

RouteIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the route's id")]
VehicleIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the van's id")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def open_store(settings: Settings) -> DispatchStore:
    """The dispatch store on the server's database (opened by the app's lifespan; it
    reaches the database on first use)."""
    return DispatchStore(
        settings.job_database_url(),
        connect_timeout_s=settings.db_connect_timeout_s,
        statement_timeout_s=settings.db_statement_timeout_s,
        retry_s=settings.db_retry_s,
        lazy=True,
    )


def get_dispatch(request: Request) -> DispatchStore:
    """The dispatch store opened by the app's lifespan."""
    store: DispatchStore = request.app.state.dispatch
    return store


DispatchDep = Annotated[DispatchStore, Depends(get_dispatch)]


@router.get(
    "/routes/{route_id}",
    response_model=RouteRecord,
    summary="A committed plan's van route",
    responses={200: json_example(ex.ROUTE), **error_responses(401, 403, 404, 422, 503)},
)
def get_route(route_id: RouteIdPath, store: DispatchDep) -> RouteRecord:
    """Its stops with their state, planned and live ETAs (seconds from the day start and
    clock times), at-risk flags, and the van's last known position."""
    return store.get_route(route_id)


@router.post(
    "/routes/{route_id}/dispatch",
    response_model=RouteRecord,
    summary="Send a route out",
    responses={200: json_example(ex.ROUTE), **error_responses(401, 403, 404, 409, 422, 503)},
)
def dispatch_route(route_id: RouteIdPath, store: DispatchDep) -> RouteRecord:
    """A committed route leaves: every order on it must be ``packed`` (409 naming the
    others) and becomes ``shipped``, its reservations consumed; ``route.dispatched``."""
    return store.dispatch(route_id, actor=creator_name())


@router.post(
    "/routes/{route_id}/events",
    response_model=EventResult,
    summary="Report an event at a stop",
    responses={
        200: json_example(ex.EVENT_RESULT),
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def report_event(
    route_id: RouteIdPath,
    event: Annotated[RouteEventIn, Body(openapi_examples=ex.EVENT_IN_EXAMPLES)],
    store: DispatchDep,
    settings: SettingsDep,
) -> EventResult:
    """``arrived``, ``departed``, ``delivered`` (the order ``delivered``), ``failed`` (the
    order ``delivery_failed``, then planned again or returned as the server's policy says)
    or ``picked_up`` at a stop of a dispatched route (409 otherwise; an unknown stop is 422).
    An event older than the stop's last one is kept but changes nothing (``applied``
    false). The live ETAs are recomputed after each."""
    policy = FailurePolicy(settings.failed_delivery_policy, settings.max_delivery_attempts)
    return store.report(
        route_id,
        event,
        policy=policy,
        threshold_s=settings.eta_change_threshold_s,
        actor=creator_name(),
    )


@router.post(
    "/vehicles/{vehicle_id}/position",
    response_model=PositionResult,
    summary="Report a van's position",
    responses={
        200: json_example(ex.POSITION_RESULT),
        **error_responses(401, 403, 404, 413, 422, 503),
    },
)
def report_position(
    vehicle_id: VehicleIdPath,
    report: Annotated[PositionIn, Body(openapi_examples=ex.POSITION_IN_EXAMPLES)],
    store: DispatchDep,
    settings: SettingsDep,
) -> PositionResult:
    """Where the van is now: its dispatched routes of the day (404 when it has none) take
    it, and their live ETAs are recomputed."""
    return store.report_position(vehicle_id, report, threshold_s=settings.eta_change_threshold_s)
