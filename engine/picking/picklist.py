"""A committed plan's pick list at one site (read on an open transaction).

Each van's shipments form a group in loading order, its last stop first (what is delivered
last goes deepest into the van); the site's shipments that no van carries (by carrier, or
left unrouted) form one last group, in the plan's order. Within a shipment the lines are
sorted by bin location in natural order (``A-2`` before ``A-10``) when the site names bins,
lines without a bin last, by sku. Every group ends with its units per sku.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from engine.picking.catalogue import bins_of, natural_key
from engine.picking.shipments import Shipment, committed_plan, site_shipments
from models.picking import PickGroup, PickLine, PickList, PickStop, SkuTotal


def _stop(shipment: Shipment, bins: dict[str, str]) -> PickStop:
    """One shipment's lines, by bin."""
    lines = [
        PickLine(
            order_id=shipment.order_id,
            channel=shipment.channel,
            line_id=line.line_id,
            sku=line.sku,
            units=line.units,
            bin_location=bins.get(line.sku),
        )
        for line in shipment.lines
    ]
    lines.sort(
        key=lambda p: (
            p.bin_location is None,
            natural_key(p.bin_location or ""),
            p.sku,
            p.line_id,
        )
    )
    return PickStop(
        shipment_id=shipment.shipment_id,
        order_id=shipment.order_id,
        channel=shipment.channel,
        order_status=shipment.order_status,
        mode="van" if shipment.route_id is not None else shipment.mode,  # type: ignore[arg-type]
        position=shipment.position,
        lines=lines,
    )


def _totals(stops: Sequence[PickStop]) -> list[SkuTotal]:
    units: dict[str, int] = defaultdict(int)
    for stop in stops:
        for line in stop.lines:
            units[line.sku] += line.units
    return [SkuTotal(sku=sku, units=n) for sku, n in sorted(units.items())]


def build(plan_id: str, site_id: str, shipments: list[Shipment], bins: dict[str, str]) -> PickList:
    """The pick list of these shipments (see the module's docstring)."""
    vans: dict[tuple[str, str], list[Shipment]] = defaultdict(list)
    others: list[Shipment] = []
    for shipment in shipments:
        if shipment.route_id is not None and shipment.vehicle_id is not None:
            vans[(shipment.vehicle_id, shipment.route_id)].append(shipment)
        else:
            others.append(shipment)
    groups: list[PickGroup] = []
    for (vehicle_id, route_id), on_van in sorted(vans.items()):
        on_van.sort(key=lambda s: -(s.position or 0))
        stops = [_stop(s, bins) for s in on_van]
        groups.append(
            PickGroup(
                kind="van",
                vehicle_id=vehicle_id,
                route_id=route_id,
                stops=stops,
                totals=_totals(stops),
            )
        )
    if others:
        stops = [_stop(s, bins) for s in others]
        groups.append(PickGroup(kind="carrier", stops=stops, totals=_totals(stops)))
    units = sum(line.units for s in shipments for line in s.lines)
    return PickList(plan_id=plan_id, site_id=site_id, groups=groups, units=units)


def picklist(conn: Connection, plan_id: str, site_id: str) -> PickList:
    """The committed plan's pick list at the site (404 unknown plan or site, 409 a draft)."""
    plan = committed_plan(conn, plan_id)
    shipments = site_shipments(conn, plan, site_id)
    return build(plan_id, site_id, shipments, bins_of(conn, site_id))
