"""What each carton's label of a committed plan's shipment says (read on an open
transaction); the drawing is at the edge (``api/formats/labels.py``)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.picking.pack import cartons_of
from engine.picking.shipments import committed_plan, one_shipment
from models.errors import ConflictError, ErrorCode, detail
from models.picking import CartonLabel, ShipmentLabels


def labels(conn: Connection, plan_id: str, shipment_id: str) -> ShipmentLabels:
    """One label per carton of the shipment, in carton order: 404 for an unknown plan or
    shipment, 409 for a draft or a shipment not cartonised yet."""
    plan = committed_plan(conn, plan_id)
    shipment = one_shipment(conn, plan, shipment_id)
    cartons = cartons_of(conn, plan_id, shipment_id)
    if not cartons:
        raise ConflictError(
            ErrorCode.INVALID_TRANSITION,
            f"shipment {shipment_id!r} has no cartons yet: POST "
            f"/v1/plans/{plan_id}/sites/{shipment.site_id}/pack first",
            [detail("shipment_id", shipment_id, "not cartonised")],
        )
    mode = "van" if shipment.route_id is not None else shipment.mode
    return ShipmentLabels(
        labels=[
            CartonLabel(
                plan_id=plan_id,
                shipment_id=shipment_id,
                order_id=shipment.order_id,
                channel=shipment.channel,
                site_id=shipment.site_id,
                mode=mode,  # type: ignore[arg-type]
                vehicle_id=shipment.vehicle_id,
                stop_position=shipment.position,
                carton_index=carton.carton_index,
                cartons_count=len(cartons),
                type_id=carton.type_id,
                weight_kg=carton.weight_kg,
                tracking_code=carton.tracking_code,
                address=shipment.address,
            )
            for carton in cartons
        ]
    )
