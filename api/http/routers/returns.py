"""Returns (RMA): open one for a delivered order, read and list them, and move one through
its lifecycle (approve, reject, receive at the site, restock or dispose). Every change is
one transaction of the order book's store; an approved return is collected by the next plan
made from the book (a pickup stop on a van route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from api.http import returns_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY
from api.http.errors import error_responses
from api.http.examples import json_example
from engine.book.store import BookStore
from engine.returns.store import ReturnsStore
from models.book import BookId
from models.returns import ReceiveIn, ReturnIn, ReturnNote, ReturnPage, ReturnRecord, ReturnStatus

router = APIRouter(prefix="/returns", tags=["returns"], dependencies=API_KEY_SECURITY)

ReturnIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the return's id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="a replay with the same key and body answers the stored return (200)",
    ),
]
NoteBody = Annotated[ReturnNote | None, Body(openapi_examples=ex.NOTE_EXAMPLES)]
_MOVE_ERRORS = error_responses(401, 403, 404, 409, 413, 422, 503)


def get_returns(request: Request) -> ReturnsStore:
    """The returns of the order book opened by the app's lifespan."""
    book: BookStore = request.app.state.book
    return ReturnsStore(book)


ReturnsDep = Annotated[ReturnsStore, Depends(get_returns)]


def _note(body: ReturnNote | None) -> str | None:
    return None if body is None else body.note


@router.post(
    "",
    response_model=ReturnRecord,
    status_code=201,
    summary="Open a return",
    responses={
        201: json_example(ex.RETURN_RECORD),
        200: {"description": "a replay: the return stored before"},
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def create_return(
    body: Annotated[ReturnIn, Body(openapi_examples=ex.RETURN_IN_EXAMPLES)],
    store: ReturnsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReturnRecord:
    """A return (``requested``) of a delivered order (409 otherwise): per line, at most the
    units delivered less those of the order's other returns (422 naming the line)."""
    record, created = store.create(body, actor=creator_name(), idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/returns/{record.id}"
    return record


@router.get(
    "",
    response_model=ReturnPage,
    summary="List returns",
    responses={200: json_example(ex.RETURN_PAGE), **error_responses(401, 403, 422, 503)},
)
def list_returns(
    store: ReturnsDep,
    status: Annotated[ReturnStatus | None, Query()] = None,
    order_id: Annotated[BookId | None, Query(description="returns of this order")] = None,
    cursor: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReturnPage:
    """Returns, oldest first, a page at a time."""
    return store.list_returns(status=status, order_id=order_id, cursor=cursor, limit=limit)


@router.get(
    "/{return_id}",
    response_model=ReturnRecord,
    summary="One return",
    responses={200: json_example(ex.RETURN_RECORD), **error_responses(401, 403, 404, 422, 503)},
)
def get_return(return_id: ReturnIdPath, store: ReturnsDep) -> ReturnRecord:
    """The return, its lines, its pickup and its history."""
    return store.get(return_id)


@router.post(
    "/{return_id}/approve",
    response_model=ReturnRecord,
    summary="Approve a return",
    responses={200: json_example(ex.RETURN_RECORD), **_MOVE_ERRORS},
)
def approve_return(
    return_id: ReturnIdPath, store: ReturnsDep, body: NoteBody = None
) -> ReturnRecord:
    """``requested`` → ``approved``: the next plan from the book collects it."""
    return store.approve(return_id, actor=creator_name(), note=_note(body))


@router.post(
    "/{return_id}/reject",
    response_model=ReturnRecord,
    summary="Reject a return",
    responses={200: json_example(ex.RETURN_RECORD), **_MOVE_ERRORS},
)
def reject_return(
    return_id: ReturnIdPath, store: ReturnsDep, body: NoteBody = None
) -> ReturnRecord:
    """``requested`` → ``rejected`` (final)."""
    return store.reject(return_id, actor=creator_name(), note=_note(body))


@router.post(
    "/{return_id}/receive",
    response_model=ReturnRecord,
    summary="Receive a return at a site",
    responses={200: json_example(ex.RETURN_RECORD), **_MOVE_ERRORS},
)
def receive_return(
    return_id: ReturnIdPath,
    store: ReturnsDep,
    body: Annotated[ReceiveIn | None, Body(openapi_examples=ex.RECEIVE_EXAMPLES)] = None,
) -> ReturnRecord:
    """``approved`` or ``pickup_scheduled`` → ``received`` at ``site_id`` (default the
    return's site; an unknown site is 422)."""
    site_id = None if body is None else body.site_id
    note = None if body is None else body.note
    return store.receive(return_id, site_id=site_id, actor=creator_name(), note=note)


@router.post(
    "/{return_id}/restock",
    response_model=ReturnRecord,
    summary="Restock a received return",
    responses={200: json_example(ex.RETURN_RECORD), **_MOVE_ERRORS},
)
def restock_return(
    return_id: ReturnIdPath, store: ReturnsDep, body: NoteBody = None
) -> ReturnRecord:
    """``received`` → ``restocked``: a stock movement per line at the receiving site
    (``receipt``, reference ``return:<id>``) puts the units back on hand."""
    return store.restock(return_id, actor=creator_name(), note=_note(body))


@router.post(
    "/{return_id}/dispose",
    response_model=ReturnRecord,
    summary="Dispose of a received return",
    responses={200: json_example(ex.RETURN_RECORD), **_MOVE_ERRORS},
)
def dispose_return(
    return_id: ReturnIdPath, store: ReturnsDep, body: NoteBody = None
) -> ReturnRecord:
    """``received`` → ``disposed`` (final; no stock movement)."""
    return store.dispose(return_id, actor=creator_name(), note=_note(body))
