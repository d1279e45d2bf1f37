"""Pick and pack: the catalogue (product sizes, each site's carton types and bins), a
committed plan's pick list per site, cartonising its shipments, their labels, and marking a
shipment picked and packed (which moves its order along the lifecycle). Every change is one
transaction of the book's store (:class:`engine.picking.store.PickingStore`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.formats.labels import MEDIA_TYPES, label_png, labels_pdf
from api.http import picking_examples as ex
from api.http.auth import creator_name
from api.http.deps import API_KEY_SECURITY, SYNC_SLOT, SettingsDep
from api.http.errors import ApiError, error_responses
from api.http.examples import json_example
from engine.picking import pack as packing
from engine.picking.store import PickingStore
from models.book import BookId
from models.errors import ErrorCode, InvalidInputError
from models.packing import CartonType
from models.picking import (
    BinCode,
    BinIn,
    PackIn,
    PackOutcome,
    PickList,
    ProductList,
    ProductSize,
    ProductSizeIn,
    ShipmentMark,
    SiteBins,
    SiteCartons,
    Sku,
)

#: The most units one pack call may cartonise (as ``POST /v1/cartons/pack``).
MAX_PACK_UNITS = 2000

router = APIRouter(tags=["pick and pack"], dependencies=API_KEY_SECURITY)

PlanIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the plan's id")]
SiteIdPath = Annotated[BookId, Path(description="the site's id")]
SkuPath = Annotated[Sku, Path(description="the sku")]
ShipmentIdPath = Annotated[
    str, Path(min_length=3, max_length=200, description="'<plan order id>@<site id>'")
]


def get_picking(request: Request) -> PickingStore:
    """Pick and pack on the book's store opened by the app's lifespan."""
    return PickingStore(request.app.state.book)


PickingDep = Annotated[PickingStore, Depends(get_picking)]


@router.put(
    "/products/{sku}",
    response_model=ProductSize,
    summary="Set a product's size",
    responses={
        200: json_example(ex.PRODUCT),
        201: {"description": "created"},
        **error_responses(401, 403, 422, 503),
    },
)
def put_product(
    sku: SkuPath,
    size: Annotated[ProductSizeIn, Body(openapi_examples=ex.PRODUCT_IN_EXAMPLES)],
    store: PickingDep,
    response: Response,
) -> ProductSize:
    """One unit's outer box (mm) and weight (kg), as cartonisation packs it. 201 when new."""
    record, created = store.put_product(sku, size)
    if created:
        response.status_code = 201
    return record


@router.get(
    "/products",
    response_model=ProductList,
    summary="Every product size",
    responses={200: json_example(ex.PRODUCTS), **error_responses(401, 403, 422, 503)},
)
def list_products(store: PickingDep) -> ProductList:
    """Every sku with a size, by sku."""
    return ProductList(products=store.list_products())


@router.get(
    "/products/{sku}",
    response_model=ProductSize,
    summary="One product's size",
    responses={200: json_example(ex.PRODUCT), **error_responses(401, 403, 404, 422, 503)},
)
def get_product(sku: SkuPath, store: PickingDep) -> ProductSize:
    """One sku's size (404 when it has none)."""
    return store.get_product(sku)


@router.put(
    "/sites/{site_id}/cartons",
    response_model=SiteCartons,
    summary="Set a site's carton types",
    responses={200: json_example(ex.SITE_CARTONS), **error_responses(401, 403, 404, 422, 503)},
)
def put_cartons(
    site_id: SiteIdPath,
    types: Annotated[list[CartonType], Body(openapi_examples=ex.CARTON_TYPES_EXAMPLES)],
    store: PickingDep,
) -> SiteCartons:
    """Replace the carton types the site stocks (at most 50; ids of 1 to 64 characters,
    unique; an empty list: the site packs without cartonisation)."""
    return store.put_cartons(site_id, types)


@router.get(
    "/sites/{site_id}/cartons",
    response_model=SiteCartons,
    summary="A site's carton types",
    responses={200: json_example(ex.SITE_CARTONS), **error_responses(401, 403, 404, 422, 503)},
)
def get_cartons(site_id: SiteIdPath, store: PickingDep) -> SiteCartons:
    """The carton types the site stocks, in the order given."""
    return store.get_cartons(site_id)


@router.put(
    "/sites/{site_id}/bins",
    response_model=SiteBins,
    summary="Set a site's bin locations",
    responses={200: json_example(ex.SITE_BINS), **error_responses(401, 403, 404, 422, 503)},
)
def put_bins(
    site_id: SiteIdPath,
    bins: Annotated[dict[Sku, BinCode] | list[BinIn], Body(openapi_examples=ex.BINS_IN_EXAMPLES)],
    store: PickingDep,
) -> SiteBins:
    """Replace where each sku sits: ``{sku: bin_location}`` or a list of ``{sku,
    bin_location}`` (at most 10,000). Pick lists sort a stop's lines by these codes."""
    entries = (
        [BinIn(sku=sku, bin_location=code) for sku, code in bins.items()]
        if isinstance(bins, dict)
        else bins
    )
    if len(entries) > 10_000:
        raise InvalidInputError.for_field("(request)", len(entries), "bins; at most 10,000")
    return store.put_bins(site_id, entries)


@router.get(
    "/sites/{site_id}/bins",
    response_model=SiteBins,
    summary="A site's bin locations",
    responses={200: json_example(ex.SITE_BINS), **error_responses(401, 403, 404, 422, 503)},
)
def get_bins(site_id: SiteIdPath, store: PickingDep) -> SiteBins:
    """The site's bins, in natural order of their codes."""
    return store.get_bins(site_id)


@router.get(
    "/plans/{plan_id}/sites/{site_id}/picklist",
    response_model=PickList,
    summary="A committed plan's pick list at a site",
    responses={
        200: json_example(ex.PICK_LIST),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def get_picklist(plan_id: PlanIdPath, site_id: SiteIdPath, store: PickingDep) -> PickList:
    """Every line to pick (order, sku, units, bin), a group per van in loading order (its
    last stop first), each stop's lines by bin location (natural order), then the site's
    carrier shipments; units per sku per group. A draft plan is a 409
    ``invalid_transition``; an unknown plan or site a 404."""
    return store.picklist(plan_id, site_id)


@router.post(
    "/plans/{plan_id}/sites/{site_id}/pack",
    response_model=PackOutcome,
    summary="Cartonise a committed plan's shipments at a site",
    responses={
        200: json_example(ex.PACK_OUTCOME),
        **error_responses(401, 403, 404, 409, 413, 422, 429, 503),
    },
    dependencies=SYNC_SLOT,
)
async def pack_site(
    plan_id: PlanIdPath,
    site_id: SiteIdPath,
    store: PickingDep,
    settings: SettingsDep,
    ask: Annotated[PackIn | None, Body(openapi_examples=ex.PACK_IN_EXAMPLES)] = None,
) -> PackOutcome:
    """Pack each shipment (every one of the site's, or ``shipment_ids``) into the site's
    carton types with the cartoniser (CP-SAT: cheapest, then fewest cartons; each unit
    fits its carton's inner box, volumes and gross weight within capacity), and store the
    cartons with random tracking codes, replacing earlier ones. 422 for a sku without a
    product size or a unit that fits no carton type (naming the sku and shipment) and for
    a site without carton types; 409 ``invalid_transition`` for a draft plan or a shipment
    already packed. At most 2,000 units per call."""
    ask = ask or PackIn()
    if ask.time_limit_s > settings.max_sync_time_limit_s:
        message = f"time_limit_s is at most {settings.max_sync_time_limit_s:g} s here"
        raise ApiError(
            422,
            ErrorCode.LIMIT_EXCEEDED,
            message,
            [{"field": "time_limit_s", "value": repr(ask.time_limit_s), "message": message}],
        )
    work = await run_in_threadpool(store.prepare_pack, plan_id, site_id, ask)
    if work.units > MAX_PACK_UNITS:
        message = f"at most {MAX_PACK_UNITS:,} units per call; this one has {work.units:,}"
        detail = {"field": "shipment_ids", "value": f"{work.units} units", "message": message}
        raise ApiError(422, ErrorCode.LIMIT_EXCEEDED, message, [detail])
    result = await run_in_threadpool(packing.solve, work)
    return await run_in_threadpool(store.store_pack, work, result)


@router.post(
    "/plans/{plan_id}/shipments/{shipment_id}/picked",
    response_model=ShipmentMark,
    summary="Mark a shipment picked",
    responses={
        200: json_example({**ex.SHIPMENT_MARK, "order_status": "picking", "packed_at": None}),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def mark_picked(
    plan_id: PlanIdPath, shipment_id: ShipmentIdPath, store: PickingDep
) -> ShipmentMark:
    """Its order ``allocated`` → ``picking`` (``order.status_changed``; the key's name as
    the actor). Picked twice, or an order that cannot become ``picking``: 409
    ``invalid_transition``."""
    return store.mark_picked(plan_id, shipment_id, creator_name())


@router.post(
    "/plans/{plan_id}/shipments/{shipment_id}/packed",
    response_model=ShipmentMark,
    summary="Mark a shipment packed",
    responses={
        200: json_example(ex.SHIPMENT_MARK),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def mark_packed(
    plan_id: PlanIdPath, shipment_id: ShipmentIdPath, store: PickingDep
) -> ShipmentMark:
    """The shipment must be picked and, at a site with carton types, cartonised; its order
    ``picking`` → ``packed`` once every shipment of it in the plan is packed. Packed twice,
    not picked or not cartonised: 409 ``invalid_transition``."""
    return store.mark_packed(plan_id, shipment_id, creator_name())


@router.get(
    "/plans/{plan_id}/shipments/{shipment_id}/labels",
    summary="A shipment's carton labels",
    response_class=Response,
    responses={200: ex.LABEL_CONTENT, **error_responses(401, 403, 404, 409, 422, 503)},
)
def get_labels(
    plan_id: PlanIdPath,
    shipment_id: ShipmentIdPath,
    store: PickingDep,
    format: Annotated[Literal["pdf", "png"], Query(description="pdf: every label")] = "pdf",
    carton: Annotated[int | None, Query(ge=1, le=10_000, description="only this one")] = None,
) -> Response:
    """One 100 × 150 mm label per carton: shipment, order, van and stop number, carton n of
    m, the tracking code as text and Code128. ``pdf``: one page per label (exactly 100 ×
    150 mm); ``png``: one label (``carton``, default 1) at 203 dpi, 799 × 1199 pixels. 409
    ``invalid_transition`` for a shipment not cartonised yet."""
    labels = store.labels(plan_id, shipment_id).labels
    if carton is not None:
        if carton > len(labels):
            raise InvalidInputError.for_field(
                "carton", carton, f"is beyond the shipment's {len(labels)} carton(s)"
            )
        labels = [labels[carton - 1]]
    body = labels_pdf(labels) if format == "pdf" else label_png(labels[0])
    return Response(content=body, media_type=MEDIA_TYPES[format])
