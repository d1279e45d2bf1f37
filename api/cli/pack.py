"""``routeplan pack``: pack shipments' units into cartons, from a JSON request.

Exit 0 when the evaluator finds the packing feasible, 1 when not, 2 on bad input (a unit
that fits no carton type among them: ``products[sku=X]`` and why).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from api.cli.app import app
from api.cli.common import console
from api.formats.routing_csv import InputFileError, read_json
from engine.packing import pack
from models.errors import describe
from models.packing import PackRequest, PackResult


def load_pack_request(path: Path) -> PackRequest:
    """The request in ``path``; a bad field is an error naming the file and the field."""
    try:
        return PackRequest.model_validate(read_json(path))
    except ValidationError as error:
        details = [{**d, "field": f"{path}: {d['field']}"} for d in describe(error)]
        first = details[0]
        raise InputFileError(
            f"{path} is not a valid pack request: {first['field']}: {first['message']}",
            details,
            file=str(path),
        ) from None


def cartons_table(result: PackResult) -> Table:
    """One row per shipment: its cartons by type, cost, status and bound."""
    table = Table(title="Cartons")
    for column in ("shipment", "cartons", "types", "cost", "status", "lower bound"):
        table.add_column(column, justify="left" if column in ("shipment", "types") else "right")
    for s in result.shipments:
        counts: dict[str, int] = {}
        for carton in s.cartons:
            counts[str(carton.type_id)] = counts.get(str(carton.type_id), 0) + 1
        types = ", ".join(f"{n} x {t}" for t, n in counts.items())
        table.add_row(
            str(s.shipment_id),
            str(s.cartons_count),
            types,
            f"{s.cost:,.2f}",
            s.status,
            f"{s.lower_bound_cost:,.2f}",
        )
    table.add_row(
        "total",
        str(result.cartons_count),
        "",
        f"{result.cost:,.2f}",
        result.status,
        f"{result.lower_bound_cost:,.2f}",
    )
    return table


@app.command("pack")
def pack_command(
    request: Annotated[Path, typer.Argument(help="a pack request as JSON", show_default=False)],
    out: Annotated[Path | None, typer.Option(help="write the result JSON here")] = None,
) -> None:
    """Pack each shipment into the cheapest cartons (volume and weight, each unit fitting)."""
    loaded = load_pack_request(request)
    with console.status(f"packing {len(loaded.shipments)} shipments"):
        result = pack(loaded)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.model_dump_json(indent=2))
        console.print(f"result written to {out}")
    console.print(cartons_table(result))
    verdict = result.evaluation
    console.print(f"evaluation: {'feasible' if verdict.feasible else 'infeasible'}")
    for violation in verdict.violations:
        console.print(f"  {violation.code.value}: {violation.message}")
    if not verdict.feasible:
        raise typer.Exit(1)
