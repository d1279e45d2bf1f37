"""``pack``: every shipment's units into the cheapest cartons, checked by the evaluator."""

from __future__ import annotations

import time

from engine.packing.compile import (
    COST_PER_UNIT,
    CompiledShipment,
    check_request,
    compile_shipment,
    inner_volume_mm3,
)
from engine.packing.evaluate import evaluate_packing
from models.packing import (
    PackedCarton,
    PackedItem,
    PackedShipment,
    PackEvaluation,
    PackRequest,
    PackResult,
)
from solvers.packing.cartons import pack_bins
from solvers.packing.data import PackingParams, PackingSolution

#: No shipment's search gets less than this, whatever is left of the time limit.
MIN_SHIPMENT_TIME_S = 0.05


def pack(request: PackRequest, params: PackingParams | None = None) -> PackResult:
    """Pack each shipment (the time limit shared by the shipments not yet packed).

    Raises :class:`~models.errors.InvalidInputError` for a bad request, among others a unit
    that fits no carton type (``products[sku=X]``, saying why).
    """
    started = time.perf_counter()
    check_request(request)
    limit_s = request.options.time_limit_s
    base = params or PackingParams(time_limit_s=limit_s)
    packed: list[PackedShipment] = []
    for i, shipment in enumerate(request.shipments):
        compiled = compile_shipment(request, shipment)
        left_s = limit_s - (time.perf_counter() - started)
        share_s = max(left_s / (len(request.shipments) - i), MIN_SHIPMENT_TIME_S)
        run = PackingParams(
            time_limit_s=min(share_s, base.time_limit_s),
            num_workers=base.num_workers,
            random_seed=base.random_seed,
            use_hint=base.use_hint,
        )
        packed.append(decode(request, compiled, pack_bins(compiled.data, run)))
    result = PackResult(
        shipments=packed,
        cost=sum(s.cost for s in packed),
        cartons_count=sum(s.cartons_count for s in packed),
        status="optimal" if all(s.status == "optimal" for s in packed) else "feasible",
        lower_bound_cost=sum(s.lower_bound_cost for s in packed),
        solve_time_s=time.perf_counter() - started,
        evaluation=PackEvaluation(feasible=True),
    )
    return result.model_copy(update={"evaluation": evaluate_packing(request, result)})


def decode(
    request: PackRequest, compiled: CompiledShipment, solution: PackingSolution
) -> PackedShipment:
    """The solver's cartons as a shipment's packing, with volumes, weights and costs."""
    by_sku = {p.sku: p for p in request.products}
    cartons: list[PackedCarton] = []
    shipment_id = compiled.shipment.id
    for c in range(solution.n_cartons):
        carton = request.carton_types[int(solution.carton_type[c])]
        items = [
            PackedItem(sku=sku, quantity=int(n))
            for sku, n in zip(compiled.skus, solution.contents[c], strict=True)
            if n > 0
        ]
        volume_mm3 = sum(
            by_sku[i.sku].length_mm * by_sku[i.sku].width_mm * by_sku[i.sku].height_mm * i.quantity
            for i in items
        )
        weight_kg = sum(by_sku[i.sku].weight_kg * i.quantity for i in items)
        cartons.append(
            PackedCarton(
                carton_id=f"{shipment_id}-{c + 1}",
                type_id=carton.id,
                items=items,
                volume_used_l=volume_mm3 / 1e6,
                weight_kg=weight_kg + carton.tare_weight_kg,
                fill_share=volume_mm3 / inner_volume_mm3(carton),
            )
        )
    cost = sum(request.carton_types[int(t)].cost for t in solution.carton_type)
    return PackedShipment(
        shipment_id=shipment_id,
        cartons=cartons,
        cost=cost,
        cartons_count=len(cartons),
        status=solution.status,
        lower_bound_cost=min(solution.bound / COST_PER_UNIT, cost),
    )
