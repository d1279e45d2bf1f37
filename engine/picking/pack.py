"""Cartonising a committed plan's shipments at a site with :mod:`engine.packing` (CP-SAT).

Three steps, so that no transaction stays open while the solver searches:

1. :func:`prepare` (a read): the site's carton types, the shipments to pack (every one of
   the site's, or those named) and their skus' sizes become one
   :class:`~models.packing.PackRequest`; a sku without a size is a 422 naming the sku and
   its shipments, a site without carton types a 422 on ``carton_types``, a unit that fits no
   carton type the cartoniser's own 422 (``products[sku=...]``) with the shipments added;
   a shipment already marked packed (or past ``picking``) is a 409;
2. :func:`solve`: :func:`engine.packing.pack`, whose answer the packing's independent
   evaluator has judged (an infeasible one is a solver failure, never stored);
3. :func:`store` (one write transaction): the same checks again on the locked plan, the
   shipments' earlier cartons replaced by the new ones, each with a random tracking code,
   and each shipment's carton cost noted.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from engine.packing import pack
from engine.picking import tables as t
from engine.picking.catalogue import get_cartons, pack_products
from engine.picking.shipments import Shipment, committed_plan, site_shipments
from models.errors import ConflictError, ErrorCode, InvalidInputError, SolverError, detail
from models.packing import PackLine, PackOptions, PackRequest, PackResult, PackShipment
from models.picking import CartonItem, CartonRecord, PackIn, PackOutcome, ShipmentPacking
from models.status import OrderStatus

#: Tracking codes: Crockford's base-32 digits (no I, L, O, U).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Random characters of a tracking code after its ``RP`` prefix (60 bits).
TRACKING_LENGTH = 12
#: States whose shipments may still be cartonised.
PACKABLE = frozenset({OrderStatus.ALLOCATED, OrderStatus.PICKING})


def tracking_code() -> str:
    """A new random tracking code, ``RP`` and 12 base-32 characters."""
    return "RP" + "".join(secrets.choice(_ALPHABET) for _ in range(TRACKING_LENGTH))


@dataclass(frozen=True)
class Work:
    """What one pack call packs: the request for the cartoniser and its shipments."""

    plan_id: str
    site_id: str
    request: PackRequest
    shipments: list[Shipment]

    @property
    def units(self) -> int:
        """Units of every shipment together."""
        return sum(line.units for s in self.shipments for line in s.lines)


def packed_ids(conn: Connection, plan_id: str) -> set[str]:
    """The plan's shipments marked packed."""
    p = t.pack_shipments.c
    rows = conn.execute(
        select(p.shipment_id).where(p.plan_id == plan_id, p.packed_at.is_not(None))
    ).all()
    return {row[0] for row in rows}


def _refuse_packed(conn: Connection, plan_id: str, shipments: list[Shipment]) -> None:
    """409 ``invalid_transition`` for a shipment marked packed, or whose order is past
    ``picking`` (or cancelled)."""
    done = packed_ids(conn, plan_id)
    problems = [
        detail(
            f"shipments[{s.shipment_id}]",
            s.order_status.value,
            "is marked packed" if s.shipment_id in done else "its order is past picking",
        )
        for s in shipments
        if s.shipment_id in done or s.order_status not in PACKABLE
    ]
    if problems:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"{len(problems)} shipment(s) cannot be packed again; the first: "
            f"{problems[0]['field']} {problems[0]['message']}",
            problems,
        )


def _chosen(shipments: list[Shipment], wanted: list[str] | None) -> list[Shipment]:
    """The shipments named (422 for one the site's part of the plan has not), else all."""
    if wanted is None:
        return shipments
    by_id = {s.shipment_id: s for s in shipments}
    problems = [
        detail(f"shipment_ids[{i}]", sid, "is not a shipment of this plan at this site")
        for i, sid in enumerate(wanted)
        if sid not in by_id
    ]
    if problems:
        raise InvalidInputError(f"unknown shipment: {problems[0]['value']}", problems)
    return [by_id[sid] for sid in dict.fromkeys(wanted)]


def _sizes(conn: Connection, shipments: list[Shipment]) -> dict[str, Any]:
    """The sizes of the shipments' skus: 422 naming each sku without one, and its shipments."""
    users: dict[str, list[str]] = defaultdict(list)
    for s in shipments:
        for line in s.lines:
            if s.shipment_id not in users[line.sku]:
                users[line.sku].append(s.shipment_id)
    sizes = pack_products(conn, list(users))
    problems = [
        detail(f"products[sku={sku}]", sku, f"has no product size (shipments {', '.join(ids)})")
        for sku, ids in sorted(users.items())
        if sku not in sizes
    ]
    if problems:
        raise InvalidInputError(
            f"{len(problems)} sku(s) have no product size (PUT /v1/products/{{sku}}); the "
            f"first: {problems[0]['value']}",
            problems,
        )
    return sizes


def prepare(conn: Connection, plan_id: str, site_id: str, ask: PackIn) -> Work:
    """Step 1 (see the module's docstring)."""
    plan = committed_plan(conn, plan_id)
    shipments = _chosen(site_shipments(conn, plan, site_id), ask.shipment_ids)
    if not shipments:
        raise InvalidInputError.for_field(
            "site_id", site_id, f"sends no shipment in plan {plan_id}: nothing to pack"
        )
    types = get_cartons(conn, site_id).carton_types
    if not types:
        raise InvalidInputError.for_field(
            "carton_types",
            site_id,
            "the site has no carton types to pack into: PUT /v1/sites/{site_id}/cartons first",
        )
    _refuse_packed(conn, plan_id, shipments)
    sizes = _sizes(conn, shipments)
    request = PackRequest(
        carton_types=types,
        products=list(sizes.values()),
        shipments=[_pack_shipment(s) for s in shipments],
        options=PackOptions(time_limit_s=ask.time_limit_s, fill_factor=ask.fill_factor),
    )
    return Work(plan_id, site_id, request, shipments)


def _pack_shipment(shipment: Shipment) -> PackShipment:
    units: dict[str, int] = defaultdict(int)
    for line in shipment.lines:
        units[line.sku] += line.units
    return PackShipment(
        id=shipment.shipment_id,
        lines=[PackLine(sku=sku, quantity=n) for sku, n in units.items()],
    )


def solve(work: Work) -> PackResult:
    """Step 2: the cartoniser's answer, judged feasible by its evaluator."""
    try:
        result = pack(work.request)
    except InvalidInputError as error:  # a unit that fits no carton type: name its shipments
        skus = {line.sku: s.shipment_id for s in work.shipments for line in s.lines}
        for record in error.details:
            field = str(record.get("field", ""))
            sku = field.removeprefix("products[sku=").removesuffix("]")
            if sku in skus:
                record["shipment_id"] = skus[sku]
                record["sku"] = sku
        raise
    if not result.evaluation.feasible:
        first = result.evaluation.violations[0].message
        raise SolverError(f"the cartonisation failed its check: {first}")
    return result


def store(conn: Connection, work: Work, result: PackResult, now: datetime) -> PackOutcome:
    """Step 3 (see the module's docstring)."""
    plan = committed_plan(conn, work.plan_id, lock=True)
    fresh = {s.shipment_id: s for s in site_shipments(conn, plan, work.site_id)}
    current = [fresh.get(s.shipment_id, s) for s in work.shipments]
    _refuse_packed(conn, work.plan_id, current)
    types = {str(c.id): c for c in work.request.carton_types}
    out: list[ShipmentPacking] = []
    for shipment, packed in zip(current, result.shipments, strict=True):
        c = t.cartons.c
        conn.execute(
            delete(t.cartons).where(
                c.plan_id == work.plan_id, c.shipment_id == shipment.shipment_id
            )
        )
        records = [
            CartonRecord(
                carton_index=k,
                type_id=str(carton.type_id),
                items=[CartonItem(sku=i.sku, quantity=i.quantity) for i in carton.items],
                weight_kg=carton.weight_kg,
                volume_l=carton.volume_used_l,
                fill_share=carton.fill_share,
                cost=types[str(carton.type_id)].cost,
                tracking_code=tracking_code(),
            )
            for k, carton in enumerate(packed.cartons, start=1)
        ]
        conn.execute(
            t.cartons.insert(),
            [
                {
                    "plan_id": work.plan_id,
                    "shipment_id": shipment.shipment_id,
                    "created_at": now,
                    **r.model_dump(mode="json", exclude={"items"}),
                    "items": [i.model_dump() for i in r.items],
                }
                for r in records
            ],
        )
        cost = sum(r.cost for r in records)
        note_shipment(conn, work.plan_id, shipment, cartonised_at=now, carton_cost=cost)
        out.append(_packing(shipment, packed.status, records, cost))
    return PackOutcome(
        plan_id=work.plan_id,
        site_id=work.site_id,
        shipments=out,
        carton_cost=sum(s.carton_cost for s in out),
        cartons_count=sum(s.cartons_count for s in out),
    )


def _packing(
    shipment: Shipment, status: Any, records: list[CartonRecord], cost: float
) -> ShipmentPacking:
    return ShipmentPacking(
        shipment_id=shipment.shipment_id,
        order_id=shipment.order_id,
        channel=shipment.channel,
        status=status,
        cartons=records,
        cartons_count=len(records),
        carton_cost=cost,
        shipment_cost=shipment.shipment_cost,
        total_cost=shipment.shipment_cost + cost,
    )


def note_shipment(conn: Connection, plan_id: str, shipment: Shipment, **values: Any) -> None:
    """Set these columns of the shipment's pick-and-pack row (made when it has none)."""
    p = t.pack_shipments.c
    done = conn.execute(
        update(t.pack_shipments)
        .where(p.plan_id == plan_id, p.shipment_id == shipment.shipment_id)
        .values(**values)
    )
    if done.rowcount == 0:
        conn.execute(
            t.pack_shipments.insert().values(
                plan_id=plan_id,
                shipment_id=shipment.shipment_id,
                site_id=shipment.site_id,
                order_seq=shipment.order_seq,
                **values,
            )
        )


def cartons_of(conn: Connection, plan_id: str, shipment_id: str) -> list[CartonRecord]:
    """A shipment's stored cartons, in order."""
    c = t.cartons.c
    rows = conn.execute(
        select(t.cartons)
        .where(c.plan_id == plan_id, c.shipment_id == shipment_id)
        .order_by(c.carton_index)
    ).all()
    return [
        CartonRecord(
            carton_index=m["carton_index"],
            type_id=m["type_id"],
            items=[CartonItem.model_validate(i) for i in m["items"]],
            weight_kg=m["weight_kg"],
            volume_l=m["volume_l"],
            fill_share=m["fill_share"],
            cost=m["cost"],
            tracking_code=m["tracking_code"],
        )
        for m in (row._mapping for row in rows)
    ]
