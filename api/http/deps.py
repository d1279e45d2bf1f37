"""Typed dependencies shared by the routers, and the API-key check."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.datastructures import Headers

from api.http.errors import ApiError
from api.settings import Settings, get_settings
from engine.jobs import JobRunner, JobStore
from models.errors import ErrorCode

SettingsDep = Annotated[Settings, Depends(get_settings)]

#: Documented in OpenAPI (the "Authorize" button); the check itself is :func:`check_api_key`,
#: run by a middleware before any body is read.
bearer_scheme = HTTPBearer(auto_error=False, description="an API key as a bearer token")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")
#: Dependencies of every protected router: they only declare the schemes for OpenAPI.
API_KEY_SECURITY = [Security(bearer_scheme), Security(api_key_scheme)]


def check_api_key(keys: list[str], headers: Headers) -> ApiError | None:
    """The 401 to answer, or None when the key is right (or none is configured)."""
    if not keys:
        return None
    given = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if given is None and authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            given = token.strip()
    challenge = {"WWW-Authenticate": "Bearer"}
    if not given:
        return ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>",
            headers=challenge,
        )
    matched = False
    for key in keys:  # compare with every key, in constant time, without stopping early
        matched |= hmac.compare_digest(given.encode(), key.encode())
    if not matched:
        return ApiError(401, ErrorCode.UNAUTHORIZED, "the API key is not valid", headers=challenge)
    return None


def get_store(request: Request) -> JobStore:
    """The job store opened by the app's lifespan."""
    store: JobStore = request.app.state.store
    return store


def get_runner(request: Request) -> JobRunner | None:
    """The job runner of this server (None when the app runs without one)."""
    runner: JobRunner | None = request.app.state.runner
    return runner


StoreDep = Annotated[JobStore, Depends(get_store)]
RunnerDep = Annotated[JobRunner | None, Depends(get_runner)]


def sync_solve_slot(request: Request, settings: SettingsDep) -> Iterator[None]:
    """Hold one of the server's synchronous solve slots for the request (429 when none frees
    up within ``ROUTEPLAN_SYNC_WAIT_S``): solves are CPU-bound, so they take turns."""
    slots: threading.BoundedSemaphore = request.app.state.sync_slots
    if not slots.acquire(timeout=settings.sync_wait_s):
        raise ApiError(
            429,
            ErrorCode.BUSY,
            f"{settings.max_sync_solves} synchronous solves are running; retry, or submit a job "
            "(POST /v1/jobs)",
            headers={"Retry-After": "5"},
        )
    try:
        yield
    finally:
        slots.release()


#: Declared by the synchronous solve endpoints.
SYNC_SLOT = [Depends(sync_solve_slot)]
