"""Sites, the stock ledger and reservations of the order book."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from api.http import book_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY, BookDep
from api.http.errors import error_responses
from api.http.examples import json_example
from models.book import (
    BookId,
    Channel,
    Reservation,
    ReservationIn,
    ReservationStatus,
    SafetyStockIn,
    SiteIn,
    SiteRecord,
    StockLevel,
    StockMovement,
    StockMovementIn,
    StockPage,
)

router = APIRouter(tags=["stock"], dependencies=API_KEY_SECURITY)

IdPath = Annotated[str, Path(min_length=1, max_length=64)]
MovementLimit = Annotated[int, Query(ge=1, le=1000)]


@router.put(
    "/sites/{site_id}",
    response_model=SiteRecord,
    summary="Create or replace a site",
    responses={
        200: json_example(ex.SITE_RECORD),
        201: {"description": "created"},
        **error_responses(401, 403, 422, 503),
    },
)
def put_site(
    site_id: Annotated[BookId, Path()],
    site: Annotated[SiteIn, Body(openapi_examples=ex.SITE_IN_EXAMPLES)],
    book: BookDep,
    response: Response,
) -> SiteRecord:
    """A warehouse or store: location, capacities, handling cost, opening hours. 201 when
    it is new, 200 when it replaced one."""
    record, created = book.put_site(site_id, site)
    if created:
        response.status_code = 201
    return record


@router.get(
    "/sites",
    response_model=list[SiteRecord],
    summary="Every site",
    responses={200: json_example([ex.SITE_RECORD]), **error_responses(401, 403, 422, 503)},
)
def list_sites(book: BookDep) -> list[SiteRecord]:
    """The book's sites, by id."""
    return book.list_sites()


@router.get(
    "/sites/{site_id}",
    response_model=SiteRecord,
    summary="One site",
    responses={200: json_example(ex.SITE_RECORD), **error_responses(401, 403, 404, 422, 503)},
)
def get_site(site_id: IdPath, book: BookDep) -> SiteRecord:
    """One site."""
    return book.get_site(site_id)


@router.post(
    "/stock/movements",
    response_model=StockMovement,
    status_code=201,
    summary="Record a stock movement",
    responses={201: json_example(ex.MOVEMENT), **error_responses(401, 403, 422, 503)},
)
def move_stock(
    movement: Annotated[StockMovementIn, Body(openapi_examples=ex.MOVEMENT_EXAMPLES)], book: BookDep
) -> StockMovement:
    """A receipt (units in), an adjustment (units in or out) or a count (units on hand now):
    one entry of the append-only ledger. Leaving fewer units on hand than are reserved is a
    422."""
    return book.move_stock(movement, actor=creator_name())


@router.get(
    "/stock/movements",
    response_model=list[StockMovement],
    summary="Ledger entries, newest first",
    responses={200: json_example([ex.MOVEMENT]), **error_responses(401, 403, 422, 503)},
)
def list_movements(
    book: BookDep,
    site_id: Annotated[BookId | None, Query()] = None,
    sku: Annotated[BookId | None, Query()] = None,
    limit: MovementLimit = 100,
) -> list[StockMovement]:
    """The ledger, newest entry first."""
    return book.movements(site_id=site_id, sku=sku, limit=limit)


@router.get(
    "/stock",
    response_model=StockPage,
    summary="Stock levels",
    responses={200: json_example(ex.STOCK_PAGE), **error_responses(401, 403, 422, 503)},
)
def stock_levels(
    book: BookDep,
    site_id: Annotated[BookId | None, Query()] = None,
    sku: Annotated[BookId | None, Query()] = None,
) -> StockPage:
    """``on_hand, reserved, safety_stock, available`` per site and sku."""
    return StockPage(levels=book.stock(site_id=site_id, sku=sku))


@router.put(
    "/stock/{site_id}/{sku}/safety",
    response_model=StockLevel,
    summary="Set a safety stock",
    responses={200: json_example(ex.LEVEL), **error_responses(401, 403, 404, 422, 503)},
)
def set_safety(
    site_id: IdPath,
    sku: Annotated[BookId, Path()],
    body: Annotated[SafetyStockIn, Body(openapi_examples=ex.SAFETY_EXAMPLES)],
    book: BookDep,
) -> StockLevel:
    """Units of the sku the site keeps back: never reserved, never planned."""
    return book.set_safety_stock(site_id, sku, body.safety_stock)


@router.post(
    "/reservations",
    response_model=Reservation,
    status_code=201,
    summary="Reserve stock for an order line",
    responses={201: json_example(ex.RESERVATION), **error_responses(401, 403, 404, 409, 422, 503)},
)
def reserve(
    want: Annotated[ReservationIn, Body(openapi_examples=ex.RESERVATION_EXAMPLES)], book: BookDep
) -> Reservation:
    """Hold units of a site's stock for one order line: 409 ``insufficient_stock`` with
    what is available when they are not there. Safe under any number of concurrent calls."""
    return book.reserve(want, actor=creator_name())


@router.get(
    "/reservations",
    response_model=list[Reservation],
    summary="Reservations of an order or a site",
    responses={
        200: json_example([ex.RESERVATION]),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def list_reservations(
    book: BookDep,
    order_id: Annotated[BookId | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    site_id: Annotated[BookId | None, Query()] = None,
    status: Annotated[ReservationStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Reservation]:
    """Reservations, oldest first, filtered by order, site or status."""
    return book.list_reservations(
        order_id=order_id, channel=channel, site_id=site_id, status=status, limit=limit
    )


@router.get(
    "/reservations/{reservation_id}",
    response_model=Reservation,
    summary="One reservation",
    responses={200: json_example(ex.RESERVATION), **error_responses(401, 403, 404, 422, 503)},
)
def get_reservation(reservation_id: IdPath, book: BookDep) -> Reservation:
    """A reservation: active, released or consumed."""
    return book.get_reservation(reservation_id)


@router.delete(
    "/reservations/{reservation_id}",
    response_model=Reservation,
    summary="Release a reservation",
    responses={200: json_example(ex.RESERVATION), **error_responses(401, 403, 404, 409, 422, 503)},
)
def release(reservation_id: IdPath, book: BookDep) -> Reservation:
    """Give the units back (409 when it is no longer active)."""
    return book.release(reservation_id, actor=creator_name())
