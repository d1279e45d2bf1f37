"""``GET /v1/health``: is the server up, and does its job store answer."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.http.deps import StoreDep
from api.http.examples import HEALTH, json_example
from api.http.routers.jobs import RETRY_AFTER_S
from models.errors import StoreUnavailableError

router = APIRouter(prefix="/health", tags=["health"])


def _version() -> str:
    try:
        return version("routeplan")
    except PackageNotFoundError:
        return "unknown"


class Health(BaseModel):
    """The server's state."""

    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unreachable"]
    jobs: dict[str, int]


@router.get(
    "",
    response_model=Health,
    summary="Health check (no API key needed)",
    responses={200: json_example(HEALTH), 503: {"model": Health, "description": "store down"}},
)
def health(store: StoreDep) -> Health | JSONResponse:
    """``ok`` with job counts per status, or 503 ``degraded`` when the job store is down or
    slow (answered within the store's timeouts, at once while it is known to be down)."""
    try:
        counts = store.counts()
    except StoreUnavailableError:
        body = Health(status="degraded", version=_version(), database="unreachable", jobs={})
        return JSONResponse(
            body.model_dump(), status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
        )
    return Health(status="ok", version=_version(), database="ok", jobs=counts)
