"""The order book's orders: capture (one, or a CSV import), read, list, history, payment,
cancel and direct status changes. Every change is one transaction of the book's store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

import api.formats.book_orders as book_orders_format
from api.http import book_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY, BookDep
from api.http.errors import error_responses
from api.http.examples import json_example
from models.book import (
    BookId,
    CancelRequest,
    Channel,
    ImportReport,
    OrderHistory,
    OrderIn,
    OrderPage,
    OrderRecord,
    PaymentUpdate,
    StatusChange,
)
from models.status import OrderStatus

router = APIRouter(prefix="/orders", tags=["orders"], dependencies=API_KEY_SECURITY)

OrderIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the order's id")]
ChannelQuery = Annotated[
    Channel | None, Query(description="the order's channel, when its id is used by several")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="a replay with the same key and body answers the stored order (200)",
    ),
]


@router.post(
    "",
    response_model=OrderRecord,
    status_code=201,
    summary="Capture an order",
    responses={
        201: json_example(ex.ORDER_RECORD),
        200: {"description": "a replay: the order stored before"},
        **error_responses(401, 403, 409, 413, 422, 503),
    },
)
def capture_order(
    order: Annotated[OrderIn, Body(openapi_examples=ex.ORDER_IN_EXAMPLES)],
    book: BookDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderRecord:
    """Store an order; 201 means it is stored. It becomes ``ready`` when its payment is
    authorised and nothing needs a look, else ``on_hold`` with the reason."""
    record, created = book.capture(order, actor=creator_name(), idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/orders/{record.id}?channel={record.channel}"
    return record


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Import orders from CSV",
    responses={
        200: {
            "description": "what was stored and what was refused",
            **json_example(ex.IMPORT_REPORT),
        },
        **error_responses(401, 403, 413, 415, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "order_id,line_id,sku,quantity,lat,lon,payment_status\n"
                    "1001,1,mug,2,41.16,-8.60,authorised\n",
                }
            },
        }
    },
)
async def import_orders_csv(
    request: Request,
    book: BookDep,
    mode: Annotated[
        str,
        Query(
            pattern="^(all_or_nothing|per_row)$",
            description="refuse all on one bad row, or store the good orders",
        ),
    ] = "all_or_nothing",
    channel: Annotated[Channel, Query(description="for rows without a channel column")] = "csv",
) -> ImportReport:
    """The allocation order format (one row per line: ``order_id, line_id, sku, quantity,
    lat, lon``, and optional order columns). Every row is checked; ``all_or_nothing`` stores
    nothing when a row is bad (422 with every problem), ``per_row`` stores the good orders and
    reports the others. An order already in the book with the same content is a replay."""
    body = await request.body()
    actor = creator_name()
    return await run_in_threadpool(
        book_orders_format.import_orders,
        book,
        body,
        "request body",
        mode=mode,
        channel=channel,
        actor=actor,
    )


@router.get(
    "",
    response_model=OrderPage,
    summary="List orders",
    responses={200: json_example(ex.ORDER_PAGE), **error_responses(401, 403, 422, 503)},
)
def list_orders(
    book: BookDep,
    status: Annotated[OrderStatus | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    site_id: Annotated[BookId | None, Query(description="orders holding stock there")] = None,
    cursor: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrderPage:
    """Orders, oldest first, a page at a time."""
    return book.list_orders(
        status=status, channel=channel, site_id=site_id, cursor=cursor, limit=limit
    )


@router.get(
    "/{order_id}",
    response_model=OrderRecord,
    summary="One order",
    responses={200: json_example(ex.ORDER_RECORD), **error_responses(401, 403, 404, 409, 422, 503)},
)
def get_order(order_id: OrderIdPath, book: BookDep, channel: ChannelQuery = None) -> OrderRecord:
    """The order as it now is: state, lines with what is reserved and shipped, payment."""
    return book.get_order(order_id, channel)


@router.get(
    "/{order_id}/history",
    response_model=OrderHistory,
    summary="An order's transitions",
    responses={200: json_example(ex.HISTORY), **error_responses(401, 403, 404, 409, 422, 503)},
)
def order_history(
    order_id: OrderIdPath, book: BookDep, channel: ChannelQuery = None
) -> OrderHistory:
    """Every change of state, oldest first, with its time, cause and actor."""
    return book.history(order_id, channel)


@router.post(
    "/{order_id}/payment",
    response_model=OrderRecord,
    summary="Record a payment update",
    responses={200: json_example(ex.ORDER_RECORD), **error_responses(401, 403, 404, 409, 422, 503)},
)
def order_payment(
    order_id: OrderIdPath,
    update: Annotated[PaymentUpdate, Body(openapi_examples=ex.PAYMENT_EXAMPLES)],
    book: BookDep,
    channel: ChannelQuery = None,
) -> OrderRecord:
    """What the payment gateway says: an authorised (or captured) payment releases an order
    held for it; a decline or refund before shipping holds the order and gives its stock
    back."""
    return book.set_payment(order_id, update, channel=channel, actor=creator_name())


@router.post(
    "/{order_id}/cancel",
    response_model=OrderRecord,
    summary="Cancel an order",
    responses={200: json_example(ex.ORDER_RECORD), **error_responses(401, 403, 404, 409, 422, 503)},
)
def cancel_order(
    order_id: OrderIdPath,
    book: BookDep,
    channel: ChannelQuery = None,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> OrderRecord:
    """Cancel before shipping; its reservations are given back. Again: 409
    ``invalid_transition``."""
    reason = None if body is None else body.reason
    return book.cancel(order_id, channel=channel, actor=creator_name(), reason=reason)


@router.post(
    "/{order_id}/status",
    response_model=OrderRecord,
    summary="Move an order to a state",
    responses={200: json_example(ex.ORDER_RECORD), **error_responses(401, 403, 404, 409, 422, 503)},
)
def change_status(
    order_id: OrderIdPath,
    change: Annotated[StatusChange, Body(openapi_examples=ex.STATUS_EXAMPLES)],
    book: BookDep,
    channel: ChannelQuery = None,
) -> OrderRecord:
    """As the lifecycle table allows (409 ``invalid_transition`` naming both states
    otherwise): hold, release (``ready``), picking, packed, shipped (consumes the
    reservations), delivered, delivery_failed, returned, cancelled."""
    return book.change_status(
        order_id, change.status, channel=channel, actor=creator_name(), reason=change.reason
    )
