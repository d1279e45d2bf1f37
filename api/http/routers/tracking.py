"""Order tracking: the shop's view of an order's delivery (``GET
/v1/orders/{order_id}/tracking``, with the API's keys), and the customer's public page
(``GET /track/{token}``, HTML, and ``GET /track/{token}.json``), which needs no key: its
random token is the customer's only credential, and it shows that one order alone.

The public routes are on :data:`public_router`, mounted at the root (not under ``/v1``,
where the key check applies). An unknown token and a malformed one get the same 404: the
HTML page when the caller asks for HTML (a browser), else the error in the one JSON shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.http import tracking_examples as ex
from api.http.deps import API_KEY_SECURITY
from api.http.errors import error_responses
from api.http.examples import json_example
from api.http.routers.orders import ChannelQuery, OrderIdPath
from engine.dispatch.store import DispatchStore
from engine.tracking import page
from models.errors import NotFoundError
from models.tracking import OrderTracking, PublicTracking

router = APIRouter(tags=["tracking"], dependencies=API_KEY_SECURITY)
#: The customer's routes: no key (mounted by the app at the root).
public_router = APIRouter(prefix="/track", tags=["tracking"])

TokenPath = Annotated[str, Path(description="the order's tracking token")]
#: Headers of every public answer: not cached, not indexed, no referrer sent on.
_PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


def get_tracking_store(request: Request) -> DispatchStore:
    """The store of the order book and dispatch, opened by the app's lifespan."""
    store: DispatchStore = request.app.state.dispatch
    return store


TrackingDep = Annotated[DispatchStore, Depends(get_tracking_store)]


def _unknown() -> NotFoundError:
    """The one answer to a token that is not one, whatever it looks like."""
    return NotFoundError(
        "no tracking page for this token",
        [{"field": "token", "value": None, "message": "unknown"}],
    )


@router.get(
    "/orders/{order_id}/tracking",
    response_model=OrderTracking,
    summary="An order's tracking",
    responses={
        200: {
            "description": "the order's delivery, and its customer's page",
            "content": {
                "application/json": {
                    "examples": {
                        "out_for_delivery": {"value": ex.ORDER_TRACKING},
                        "delivered": {"value": ex.ORDER_DELIVERED},
                    }
                }
            },
        },
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def order_tracking(
    order_id: OrderIdPath, store: TrackingDep, channel: ChannelQuery = None
) -> OrderTracking:
    """Its lifecycle state; on its newest route (none: nulls): the stop's state, the live and
    planned ETAs, the window, the stops before it still to be served, the van's last known
    place; the proof once delivered, the reason once failed; and ``tracking_url``, the
    customer's page (``/track/{token}``; the token is made on the first call, then kept)."""
    return store.order_tracking(order_id, channel)


@public_router.get(
    "/{token}.json",
    response_model=PublicTracking,
    summary="A customer's tracking, as JSON (no key)",
    responses={
        200: json_example(ex.PUBLIC_TRACKING),
        **error_responses(404, 422, 503),
    },
)
def public_tracking_json(token: TokenPath, store: TrackingDep, response: Response) -> Any:
    """What the page of ``/track/{token}`` shows: the order's state, the ETA and window
    while it is still to be served, the stops before it, and who received it. 404 for a
    token that is not one."""
    view = store.public_tracking(token)
    if view is None:
        raise _unknown()
    response.headers.update(_PUBLIC_HEADERS)
    return view


@public_router.get(
    "/{token}",
    response_class=HTMLResponse,
    summary="A customer's tracking page (no key)",
    responses={
        200: {
            "description": "the page (it reloads itself every minute)",
            "content": {"text/html": {"example": ex.PAGE}},
        },
        404: {
            "description": "no such token: the not-found page for a browser, else the error",
            "content": {
                "application/json": {"schema": _ERROR_SCHEMA},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **{
            code: {
                "description": entry["description"],
                "content": {"application/json": {"schema": _ERROR_SCHEMA}},
            }
            for code, entry in error_responses(422, 503).items()
        },
    },
)
def public_tracking_page(token: TokenPath, store: TrackingDep, request: Request) -> Response:
    """A small page, with no script and no outside asset, of the customer's own order."""
    headers = {
        **_PUBLIC_HEADERS,
        "Content-Security-Policy": page.CONTENT_SECURITY_POLICY,
    }
    view = store.public_tracking(token)
    if view is not None:
        return HTMLResponse(page.render(view), headers=headers)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(page.not_found(), status_code=404, headers=headers)
    raise _unknown()
