"""The FastAPI application: ``create_app(settings)`` wires routers, errors, keys and jobs.

Run it with ``routeplan serve`` or ``uvicorn --factory api.http.app:create_app``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.admission import EarlyBusyMiddleware
from api.http.auth import ApiKeyMiddleware, Authenticator
from api.http.body_caps import BodyCapsMiddleware
from api.http.deps import solve_slots
from api.http.errors import InternalErrorMiddleware, error_json, install_error_handlers
from api.http.routers import (
    allocations,
    analytics,
    basemap,
    checks,
    dashboard,
    dispatch,
    health,
    jobs,
    orders,
    packing,
    picking,
    plans,
    returns,
    routes,
    stock,
    tracking,
    vroom,
    webhooks,
)
from api.http.solve_pool import SolvePool
from api.settings import Settings, get_settings
from engine.events.delivery import DeliverySettings, DeliveryWorker
from engine.events.store import EventStore
from engine.jobs import JobRunner, JobStore
from engine.jobs.kinds import JobContext
from models.errors import ErrorCode

API_PREFIX = "/v1"
#: The routers, in the order OpenAPI lists them.
ROUTERS = (
    health,
    routes,
    checks,
    allocations,
    plans,
    orders,
    stock,
    jobs,
    vroom,
    webhooks,
    packing,
    dispatch,
    tracking,
    returns,
    picking,
    analytics,
    basemap,
)
#: Paths under the prefix that never need a key.
OPEN_PATHS = {f"{API_PREFIX}/health"}

DESCRIPTION = """
Fulfilment planning over HTTP: route vans now (`POST /v1/routes`), or in the background
(`POST /v1/jobs`, then poll `GET /v1/jobs/{id}`), or send a VROOM problem unchanged
(`POST /v1/vroom`).

Units: seconds from the day start (`_s`), metres (`_m`), `[lon, lat]` coordinates.
Every error has one shape, `{code, message, details[]}`, and each detail names a field.
An unexpected error is a 500 `internal_error` whose message and `X-Request-ID` header carry
a request id to quote.
When the server has API keys (`ROUTEPLAN_API_KEYS`), every `/v1` call except
`/v1/health` needs one, as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
A key's role grants endpoints: `read` every GET and `POST /v1/routes/check`, `plan` also the
solves and jobs, `admin` everything (403 `forbidden` otherwise). A key sees only the jobs it
created unless it is `admin`.
"""


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: at once from Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _too_large()(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTP exceptions met while reading the body.
                    raise HTTPException(413)
            return message

        await self.app(scope, limited, send)


def _too_large() -> JSONResponse:
    return error_json(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        "the request body is larger than this server accepts (ROUTEPLAN_MAX_BODY_BYTES)",
    )


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The API app. ``run_jobs=False`` keeps jobs queued and webhook deliveries pending (no
    runner, no delivery worker: for tests and for servers that only accept work)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = JobStore(
            settings.job_database_url(),
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
            retry_s=settings.db_retry_s,
            lazy=True,  # a database that is away now does not stop the server
        )
        store.ping()  # migrates the database now when it answers (else on first contact)
        runner = None
        if run_jobs:
            runner = JobRunner(
                store,
                workers=settings.workers,
                lease_s=settings.job_lease_s,
                max_attempts=settings.job_max_attempts,
                job_context=JobContext(
                    matrix_cache_dir=settings.graph_cache_dir(),
                    database_url=settings.job_database_url(),
                    max_orders=settings.max_orders,
                ),
            )
            runner.start()
        # the order book, with its dispatch calls: one store, so one SQLite writer lock
        book = dispatch.open_store(settings)
        app.state.store, app.state.runner, app.state.book = store, runner, book
        app.state.dispatch = book
        events = EventStore(
            settings.job_database_url(),
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
            retry_s=settings.db_retry_s,
            lazy=True,
        )
        deliveries = None
        if run_jobs:
            deliveries = DeliveryWorker(
                events,
                DeliverySettings(
                    poll_s=settings.webhook_poll_s,
                    max_attempts=settings.webhook_max_attempts,
                    backoff_base_s=settings.webhook_backoff_base_s,
                    backoff_max_s=settings.webhook_backoff_max_s,
                    timeout_s=settings.webhook_timeout_s,
                ),
            )
            deliveries.start()
        app.state.events, app.state.stopping = events, threading.Event()
        try:
            yield
        finally:
            app.state.stopping.set()  # event streams end
            if deliveries is not None:
                deliveries.stop()
            events.close()
            if runner is not None:
                runner.stop()
            store.close()
            book.close()
            app.state.solve_pool.close()
            if app.state.authenticator.store is not None:
                app.state.authenticator.store.close()

    app = FastAPI(
        title="routeplan",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    app.state.authenticator = Authenticator.from_settings(settings)  # a bad key list stops here
    app.state.sync_slots = solve_slots(settings)  # waiting for one holds no thread
    app.state.solve_pool = SolvePool(
        settings.max_sync_solves, settings.sync_tasks_per_child, settings.sync_solves_in
    )
    install_error_handlers(app)
    app.add_middleware(BodyCapsMiddleware, settings=settings)  # inside the size cap
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(EarlyBusyMiddleware, slots=app.state.sync_slots, prefix=API_PREFIX)
    app.add_middleware(
        ApiKeyMiddleware,
        authenticator=app.state.authenticator,
        prefix=API_PREFIX,
        open_paths=sorted(OPEN_PATHS),
    )
    app.add_middleware(InternalErrorMiddleware)  # outermost: answers what nothing else does
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(tracking.public_router)  # the customer's page: no key, no /v1
    app.include_router(dashboard.router)  # the dashboard at /: no key for the page itself
    app.mount(dashboard.STATIC_PATH, dashboard.static_files(), name="static")
    return app
