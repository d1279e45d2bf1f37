"""The error tree: stable codes, one body ``{code, message, details}`` for any exception,
and no pydantic needed to raise a routeplan error."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.cli.errors import EXIT_CODES
from api.formats.routing_csv import InputFileError
from api.http.errors import STATUS, ApiError
from engine.allocation.validate import AllocationInputError
from engine.jobs.child import error_record
from engine.matrices import MatrixError
from engine.matrices.osrm import OsrmError
from models.errors import (
    ErrorCode,
    InvalidInputError,
    RouteplanError,
    SolverError,
    StoreUnavailableError,
    error_body,
)
from models.routing import RoutingRequest

#: The codes clients match on today: none may change its value.
KNOWN_CODES = {
    "idempotency_conflict",
    "order_exists",
    "ambiguous_order",
    "invalid_transition",
    "insufficient_stock",
    "stale_plan",
    "invalid_input",
    "limit_exceeded",
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "unsupported_media_type",
    "queue_full",
    "busy",
    "job_not_finished",
    "job_finished",
    "job_cancelled",
    "job_failed",
    "solver_failure",
    "store_unavailable",
    "internal_error",
    "unknown_kind",
    "worker_died",
    "job_abandoned",
}


def _validation_error() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        RoutingRequest.model_validate(
            {"stops": [{"id": 1, "location": "here"}], "vehicles": [{"id": "v", "speed": 0}]}
        )
    return caught.value


def test_the_codes_keep_their_values() -> None:
    assert {code.value for code in ErrorCode} == KNOWN_CODES


def test_every_code_has_an_http_status() -> None:
    assert set(STATUS) == set(ErrorCode)
    assert all(400 <= status < 600 for status in STATUS.values())
    assert STATUS[ErrorCode.INVALID_INPUT] == 422
    assert STATUS[ErrorCode.SOLVER_FAILURE] == 500
    assert STATUS[ErrorCode.STORE_UNAVAILABLE] == 503


def test_exit_codes_are_the_documented_ones() -> None:
    assert EXIT_CODES[ErrorCode.INVALID_INPUT] == 2
    assert EXIT_CODES[ErrorCode.SOLVER_FAILURE] == 3
    assert EXIT_CODES[ErrorCode.STORE_UNAVAILABLE] == 4
    assert EXIT_CODES[ErrorCode.STALE_PLAN] == 6  # a conflict with the present state (409)
    assert EXIT_CODES[ErrorCode.INSUFFICIENT_STOCK] == 6
    assert set(EXIT_CODES.values()) <= {2, 3, 4, 6}


@pytest.mark.parametrize(
    ("error", "code", "base"),
    [
        (InvalidInputError("bad"), ErrorCode.INVALID_INPUT, ValueError),
        (AllocationInputError("sites[0].id", "a", "is a duplicate"), "invalid_input", ValueError),
        (InputFileError("stops.csv: no such file"), ErrorCode.INVALID_INPUT, ValueError),
        (MatrixError("durations_s must be square"), ErrorCode.INVALID_INPUT, ValueError),
        (OsrmError("OSRM server is unreachable"), ErrorCode.INVALID_INPUT, ValueError),
        (SolverError("the backend failed"), ErrorCode.SOLVER_FAILURE, RuntimeError),
        (StoreUnavailableError(), ErrorCode.STORE_UNAVAILABLE, RouteplanError),
        (ApiError(429, "busy", "retry"), ErrorCode.BUSY, RouteplanError),
    ],
)
def test_each_class_gives_its_code(error: RouteplanError, code: str, base: type) -> None:
    assert isinstance(error, RouteplanError) and isinstance(error, base)
    assert error.code == code
    body = error_body(error)
    assert body["code"] == code and body["message"] == str(error)
    assert type(body["code"]) is str
    assert all({"field", "value", "message"} <= set(d) for d in body["details"])


def test_a_validation_error_is_invalid_input_naming_each_field() -> None:
    body = error_body(_validation_error())
    assert body["code"] == "invalid_input"
    assert body["message"] == "the request is invalid (2 problems)"
    assert [d["field"] for d in body["details"]] == ["stops[0].location", "vehicles[0].speed"]
    assert body["details"][0]["value"] == "'here'"


def test_from_validation_keeps_a_message_and_the_fields() -> None:
    error = InvalidInputError.from_validation(_validation_error(), "the VROOM problem is bad")
    assert error.message == "the VROOM problem is bad" and len(error.details) == 2


def test_one_field_errors_name_the_field_the_value_and_why() -> None:
    error = InvalidInputError.for_field("stock[0].site_id", "nowhere", "is not a known site")
    assert str(error) == "stock[0].site_id: 'nowhere' is not a known site"
    assert error.details == [
        {"field": "stock[0].site_id", "value": "'nowhere'", "message": "is not a known site"}
    ]
    allocation = AllocationInputError("stock[0].site_id", "nowhere", "is not a known site")
    assert error_body(allocation) == error_body(error)
    assert (allocation.field, allocation.value, allocation.why) == (
        "stock[0].site_id",
        "nowhere",
        "is not a known site",
    )
    assert isinstance(AllocationInputError.for_field("x", 1, "is bad"), AllocationInputError)


def test_a_long_value_is_shortened() -> None:
    error = InvalidInputError.for_field("orders", list(range(100)), "is too long")
    assert len(error.details[0]["value"]) == 80 and error.details[0]["value"].endswith("...")


def test_input_file_errors_name_file_row_and_column() -> None:
    error = InputFileError.cell("stops.csv row 2, demand_kg", "lots", "is not a number")
    assert str(error) == "stops.csv row 2, demand_kg: 'lots' is not a number"
    assert (error.file, error.row, error.column) == ("stops.csv", 2, "demand_kg")
    assert error.details[0]["field"] == "stops.csv row 2, demand_kg"
    whole = InputFileError.in_file(Path("day/stops.csv"), "no such file")
    assert str(whole) == "day/stops.csv: no such file" and whole.file == "day/stops.csv"
    assert whole.row is None and whole.column is None


def test_a_matrix_error_names_the_matrix_field() -> None:
    error = MatrixError("durations_s[0][1] = -1.0 is negative")
    assert error.details == [
        {"field": "matrix", "value": None, "message": "durations_s[0][1] = -1.0 is negative"}
    ]


def test_anything_else_is_an_internal_error_or_a_failed_job() -> None:
    body = error_body(KeyError("stops"))
    assert body == {"code": "internal_error", "message": "KeyError: 'stops'", "details": []}
    assert error_body(ZeroDivisionError("x"), unexpected=ErrorCode.JOB_FAILED)["code"] == (
        "job_failed"
    )


def test_the_job_process_answers_with_the_same_body() -> None:
    assert error_record(SolverError("broke"))["code"] == "solver_failure"
    assert error_record(_validation_error()) == error_body(_validation_error())
    assert error_record(RuntimeError("the flux capacitor broke")) == {
        "code": "job_failed",
        "message": "RuntimeError: the flux capacitor broke",
        "details": [],
    }


@pytest.mark.parametrize(
    "error",
    [
        AllocationInputError("sites[0].id", "a", "is a duplicate"),
        InputFileError.cell("stops.csv row 3, lat", "x", "is not a number"),
        SolverError("broke"),
        StoreUnavailableError(),
        ApiError(404, "not_found", "no job", [{"field": "job_id", "value": "1", "message": "?"}]),
    ],
)
def test_errors_survive_pickling(error: RouteplanError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and error_body(again) == error_body(error)
    assert str(again) == str(error) and vars(again) == vars(error)


def test_models_errors_does_not_import_pydantic() -> None:
    code = (
        "import sys, models.errors as e\n"
        "assert 'pydantic' not in sys.modules\n"
        "assert e.error_body(e.SolverError('x'))['code'] == 'solver_failure'\n"
        "assert 'pydantic' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
