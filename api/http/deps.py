"""Typed dependencies shared by the routers (the API-key check is in ``api/http/auth.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from api.http.admission import SolveSlots, WaitingLineFullError
from api.http.errors import ApiError
from api.http.solve_pool import SolvePool
from api.settings import Settings, get_settings
from engine.book.store import BookStore
from engine.jobs import JobRunner, JobStore
from models.errors import ErrorCode

SettingsDep = Annotated[Settings, Depends(get_settings)]

#: Documented in OpenAPI (the "Authorize" button); the check itself is
#: ``api.http.auth.ApiKeyMiddleware``, run before any body is read.
bearer_scheme = HTTPBearer(auto_error=False, description="an API key as a bearer token")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")
#: Dependencies of every protected router: they only declare the schemes for OpenAPI.
API_KEY_SECURITY = [Security(bearer_scheme), Security(api_key_scheme)]


def get_store(request: Request) -> JobStore:
    """The job store opened by the app's lifespan."""
    store: JobStore = request.app.state.store
    return store


def get_runner(request: Request) -> JobRunner | None:
    """The job runner of this server (None when the app runs without one)."""
    runner: JobRunner | None = request.app.state.runner
    return runner


def get_solve_pool(request: Request) -> SolvePool:
    """The worker processes of the synchronous solves (``api/http/solve_pool.py``)."""
    pool: SolvePool = request.app.state.solve_pool
    return pool


def get_book(request: Request) -> BookStore:
    """The order book opened by the app's lifespan."""
    book: BookStore = request.app.state.book
    return book


StoreDep = Annotated[JobStore, Depends(get_store)]
BookDep = Annotated[BookStore, Depends(get_book)]
PoolDep = Annotated[SolvePool, Depends(get_solve_pool)]
RunnerDep = Annotated[JobRunner | None, Depends(get_runner)]


async def sync_solve_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the server's synchronous solve slots while the handler runs: solves are
    CPU-bound, so they take turns. The wait is in the event loop, never in a worker thread
    (``api/http/admission.py``); 429 ``busy`` at once when ``ROUTEPLAN_MAX_SYNC_WAITING``
    requests already wait, or when no slot frees up within ``ROUTEPLAN_SYNC_WAIT_S``."""
    slots: SolveSlots = request.app.state.sync_slots
    try:
        acquired = await slots.acquire_async()
    except WaitingLineFullError:
        raise _busy(
            f"{slots.capacity} synchronous solves are running and {slots.max_waiting} wait; "
        ) from None
    if not acquired:
        raise _busy(f"{slots.capacity} synchronous solves are running; ")
    try:
        yield
    finally:
        slots.release()


def _busy(reason: str) -> ApiError:
    return ApiError(
        429,
        ErrorCode.BUSY,
        reason + "retry, or submit a job (POST /v1/jobs)",
        headers={"Retry-After": "5"},
    )


def solve_slots(settings: Settings) -> SolveSlots:
    """The solve slots and waiting line of one app, sized by the settings."""
    return SolveSlots(settings.max_sync_solves, settings.max_sync_waiting, settings.sync_wait_s)


#: Declared by the synchronous solve endpoints.
#: ``scope="function"``: the slot is freed as soon as the handler returns, before the answer
#: is serialised and sent.
SYNC_SLOT = [Depends(sync_solve_slot, scope="function")]
