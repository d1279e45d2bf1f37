"""``routeplan check``: judge a plan made anywhere with the independent evaluator.

The result may be a routeplan ``RoutingResult`` (with a routing request), or VROOM's output
(with the VROOM problem it answers; told apart by shape, see ``api.formats.vroom_output``).
A hand-written result may give only ``routes[].vehicle_id`` and ``steps[].type``/``id``
(VROOM: ``routes[].vehicle`` and ``steps[].type``/``id``, no ``arrival``): the routes are
then scheduled at their earliest (``engine.routing.evaluate_routes``) and stops in no route
count as unassigned. Exit 0 feasible, 1 not, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from rich.table import Table

from api.cli.app import app
from api.cli.common import console
from api.formats.routing_csv import InputFileError, read_json
from api.formats.vroom import translate
from api.formats.vroom_output import (
    from_vroom_output,
    is_vroom_output,
    parse_vroom_output,
    vroom_sequences,
)
from engine.routing.evaluate import evaluate, evaluate_routes
from models.errors import InvalidInputError, describe
from models.routing import Evaluation, Id, RoutingRequest, RoutingResult, StepType
from models.vroom import VroomProblem

#: The search time given to the VROOM translation (unused: nothing is solved).
_UNUSED_TIME_LIMIT_S = 1.0


class _BareStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: StepType
    id: Id | None = None


class _BareRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vehicle_id: Id
    steps: list[_BareStep]


class _BareResult(BaseModel):
    """A result written by hand: routes of typed steps with ids, nothing else."""

    model_config = ConfigDict(extra="ignore")
    routes: list[_BareRoute]


def _validate(model: type[Any], data: Any, path: Path, what: str) -> Any:
    """``model.model_validate(data)``; a bad field is an error naming the file and the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = [{**d, "field": f"{path}: {d['field']}"} for d in describe(error)]
        first = details[0]
        raise InputFileError(
            f"{path} is not a valid {what}: {first['field']}: {first['message']}",
            details,
            file=str(path),
        ) from None


def _in_file(error: InvalidInputError, path: Path) -> InputFileError:
    """``error`` with the file it is about named in its message and fields."""
    details = [{**d, "field": f"{path}: {d['field']}"} for d in error.details]
    return InputFileError(f"{path}: {error.message}", details, file=str(path))


def _is_bare(data: Any) -> bool:
    """Whether a routeplan result gives only the routes' steps, without times or summary."""
    if not isinstance(data, dict) or "summary" in data:
        return False
    routes = data.get("routes")
    return isinstance(routes, list) and all(
        isinstance(r, dict)
        and all(isinstance(s, dict) and "arrival_s" not in s for s in r.get("steps") or [])
        for r in routes
    )


def _bare_sequences(bare: _BareResult) -> dict[Id, list[Id]]:
    sequences: dict[Id, list[Id]] = {}
    for i, route in enumerate(bare.routes):
        visits = sequences.setdefault(route.vehicle_id, [])
        for k, step in enumerate(route.steps):
            if step.type.is_visit:
                if step.id is None:
                    raise InvalidInputError(f"routes[{i}].steps[{k}].id: a visit step needs an id")
                visits.append(step.id)
    return sequences


def judge_vroom(problem_json: Path, output: Any, output_json: Path) -> Evaluation:
    """The verdict on a VROOM output for the VROOM problem in ``problem_json``."""
    problem = _validate(VroomProblem, read_json(problem_json), problem_json, "VROOM problem")
    try:
        tr = translate(problem, _UNUSED_TIME_LIMIT_S)
    except InvalidInputError as error:
        raise _in_file(error, problem_json) from None
    try:
        parsed = parse_vroom_output(output)
        if parsed.scheduled:
            return evaluate(tr.request, from_vroom_output(tr, parsed))
        return evaluate_routes(tr.request, vroom_sequences(parsed))[1]
    except InvalidInputError as error:
        raise _in_file(error, output_json) from None


def judge(request_json: Path, result_json: Path) -> Evaluation:
    """The evaluator's verdict on the result in ``result_json`` for ``request_json``."""
    data = read_json(result_json)
    if is_vroom_output(data):
        return judge_vroom(request_json, data, result_json)
    request = _validate(RoutingRequest, read_json(request_json), request_json, "routing request")
    try:
        if _is_bare(data):
            bare = _validate(_BareResult, data, result_json, "routing result")
            return evaluate_routes(request, _bare_sequences(bare))[1]
        result = _validate(RoutingResult, data, result_json, "routing result")
        return evaluate(request, result)
    except InputFileError:
        raise
    except InvalidInputError as error:
        raise _in_file(error, result_json) from None


def _print_verdict(verdict: Evaluation) -> None:
    if verdict.feasible:
        console.print("[bold green]feasible[/]: every constraint holds and every number adds up")
    else:
        console.print(f"[bold red]infeasible[/]: {len(verdict.violations)} violations")
        table = Table(title="Violations")
        for name in ("code", "vehicle", "stop", "message"):
            table.add_column(name, overflow="fold")
        for v in verdict.violations:
            table.add_row(
                v.code.value,
                "" if v.vehicle_id is None else str(v.vehicle_id),
                "" if v.stop_id is None else str(v.stop_id),
                v.message,
            )
        console.print(table)
    console.print(
        f"recomputed: cost {verdict.cost:,.2f}  distance {verdict.distance_m / 1000:,.1f} km  "
        f"duration {verdict.duration_s / 3600:,.2f} h"
    )


@app.command()
def check(
    request_json: Annotated[
        Path, typer.Argument(help="the routing request (or VROOM problem) as JSON")
    ],
    result_json: Annotated[
        Path, typer.Argument(help="the plan: a routeplan result, or VROOM's output")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
) -> None:
    """Check a plan against its request; exit 0 feasible, 1 not, 2 bad input."""
    verdict = judge(request_json, result_json)
    if as_json:
        typer.echo(verdict.model_dump_json(indent=2))
    else:
        _print_verdict(verdict)
    if not verdict.feasible:
        raise typer.Exit(1)
