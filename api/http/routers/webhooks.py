"""Webhooks (subscribe, list, disable, see their deliveries: admin) and the outbox's events
(a page after a place, or a server-sent event stream of new ones: read)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.http import event_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY
from api.http.errors import error_responses
from api.http.examples import json_example
from engine.events.store import EventStore
from models.errors import NotFoundError, StoreUnavailableError
from models.events import DeliveryList, Event, EventPage, Webhook, WebhookIn, WebhookList

router = APIRouter(dependencies=API_KEY_SECURITY)

#: How often the event stream reads the outbox, in seconds.
STREAM_POLL_S = 0.5
#: A comment line is sent when nothing else was for this long (it also finds a client gone).
KEEPALIVE_S = 10.0
#: Events read from the outbox at once by the stream.
STREAM_BATCH = 100

HookIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the webhook's id")]


def get_events(request: Request) -> EventStore:
    """The event store opened by the app's lifespan."""
    store: EventStore = request.app.state.events
    return store


@router.post(
    "/webhooks",
    response_model=Webhook,
    status_code=201,
    tags=["webhooks"],
    summary="Subscribe a webhook",
    responses={201: json_example(ex.WEBHOOK), **error_responses(401, 403, 413, 422, 503)},
)
def create_webhook(
    hook: Annotated[WebhookIn, Body(openapi_examples=ex.WEBHOOK_IN_EXAMPLES)], request: Request
) -> Webhook:
    """Events of the listed types (or ``["*"]``) emitted from now on are POSTed to ``url``
    as ``{id, type, created_at, data}``, signed with ``secret`` in the
    ``Routeplan-Signature`` header (``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``);
    any answer but a 2xx is tried again later, with the same event id."""
    return get_events(request).create_webhook(hook, actor=creator_name())


@router.get(
    "/webhooks",
    response_model=WebhookList,
    tags=["webhooks"],
    summary="List webhooks",
    responses={200: json_example(ex.WEBHOOK_LIST), **error_responses(401, 403, 422, 503)},
)
def list_webhooks(request: Request) -> WebhookList:
    """Every webhook, oldest first, disabled ones included (never their secrets)."""
    return WebhookList(webhooks=get_events(request).list_webhooks())


@router.get(
    "/webhooks/{webhook_id}",
    response_model=Webhook,
    tags=["webhooks"],
    summary="One webhook",
    responses={200: json_example(ex.WEBHOOK), **error_responses(401, 403, 404, 422, 503)},
)
def get_webhook(webhook_id: HookIdPath, request: Request) -> Webhook:
    """The webhook (without its secret)."""
    return get_events(request).get_webhook(webhook_id)


@router.delete(
    "/webhooks/{webhook_id}",
    response_model=Webhook,
    tags=["webhooks"],
    summary="Disable a webhook",
    responses={
        200: json_example(ex.DISABLED_WEBHOOK),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def disable_webhook(webhook_id: HookIdPath, request: Request) -> Webhook:
    """It gets no more events; its deliveries not yet made are given up (``dead``)."""
    return get_events(request).disable_webhook(webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    tags=["webhooks"],
    summary="A webhook's deliveries and their tries",
    responses={200: json_example(ex.DELIVERY_LIST), **error_responses(401, 403, 404, 422, 503)},
)
def webhook_deliveries(
    webhook_id: HookIdPath,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500, description="most deliveries")] = 100,
) -> DeliveryList:
    """The newest deliveries first: status (``pending``, ``delivered``, ``failed`` and
    waiting for its next try, ``dead``), and every try with its answer and duration."""
    return get_events(request).deliveries(webhook_id, limit)


@router.get(
    "/events",
    response_model=EventPage,
    tags=["events"],
    summary="Events of the outbox",
    responses={200: json_example(ex.EVENT_PAGE), **error_responses(401, 403, 422, 503)},
)
def list_events(
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**62, description="the seq of the last seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Events after ``seq`` ``after``, oldest first; ask again with ``next_after``."""
    return get_events(request).events(after, limit)


def _frame(event: Event) -> str:
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n"


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    tags=["events"],
    summary="A stream of new events (server-sent events)",
    responses={
        200: {
            "description": "`text/event-stream`: `id:` the event id, `event:` its type, "
            "`data:` the event as JSON; comment lines keep the connection alive",
            "content": {
                "text/event-stream": {"schema": {"type": "string"}, "example": ex.STREAM_EXAMPLE}
            },
        },
        **error_responses(401, 403, 404, 422, 503),
    },
)
async def stream_events(
    request: Request,
    timeout_s: Annotated[
        float, Query(ge=1, le=300, description="the stream ends after this many seconds")
    ] = 60.0,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="start after this seq (default: now)")
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=64,
            description="resume after this event (what a reconnecting EventSource sends)",
        ),
    ] = None,
) -> StreamingResponse:
    """New events as they are committed, read from the outbox every half second, until
    ``timeout_s`` has passed, the client goes or the server stops. A reconnecting client
    sends ``Last-Event-ID`` and gets what it missed."""
    events = get_events(request)
    stopping = request.app.state.stopping
    if last_event_id is not None:
        start = await run_in_threadpool(events.event_seq, last_event_id)
        if start is None:
            raise NotFoundError(
                f"no event {last_event_id!r} to resume after",
                [{"field": "Last-Event-ID", "value": last_event_id, "message": "no such event"}],
            )
    elif after is not None:
        start = after
    else:
        start = await run_in_threadpool(events.last_seq)

    async def frames() -> AsyncIterator[str]:
        seq = start
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        yield ": routeplan events\n\n"
        while not stopping.is_set() and time.monotonic() < deadline:
            try:
                page = await run_in_threadpool(events.events, seq, STREAM_BATCH)
            except StoreUnavailableError:
                page = EventPage(events=[], next_after=seq)  # try again next round
            for event in page.events:
                yield _frame(event)
            seq = page.next_after
            if page.events:
                quiet_since = time.monotonic()
                if len(page.events) == STREAM_BATCH:
                    continue
            elif time.monotonic() - quiet_since >= KEEPALIVE_S:
                yield ": keepalive\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(max(0.0, min(STREAM_POLL_S, deadline - time.monotonic())))

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
