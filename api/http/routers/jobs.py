"""Async jobs: submit (202 + Location), poll, fetch the result, cancel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse

from api.http.auth import can_see, creator_name, current_principal
from api.http.book_examples import BOOK_PLAN_REQUEST
from api.http.deps import API_KEY_SECURITY, RunnerDep, SettingsDep, StoreDep
from api.http.errors import ApiError, error_responses
from api.http.examples import JOB_SUBMISSION_EXAMPLES, JOB_VIEW, ROUTES_RESULT, json_example
from api.http.limits import check_allocation_limits, check_book_plan, check_plan, check_routing
from engine.jobs import JobRecord
from models.errors import ErrorCode, QueueFullError, StoreUnavailableError
from models.jobs import (
    BookPlanJob,
    JobError,
    JobStatus,
    JobSubmission,
    JobView,
    PlanJob,
    RoutesJob,
)

_SUBMISSION_EXAMPLES = {
    **JOB_SUBMISSION_EXAMPLES,
    "book_plan": {
        "summary": "Plan a day from the order book in the background",
        "value": {"kind": "book_plan", "request": BOOK_PLAN_REQUEST},
    },
}

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=API_KEY_SECURITY)

#: Seconds a client is asked to wait before retrying when the queue is full.
RETRY_AFTER_S = 5

JobId = Annotated[uuid.UUID, Path(description="the id returned by POST /v1/jobs")]

#: What ``/v1/jobs/{job_id}`` answers (OPTIONS lists them; any other method is a 405).
JOB_METHODS = "GET, DELETE, OPTIONS"


@contextmanager
def _store_answers() -> Iterator[None]:
    """Answer 503 ``store_unavailable`` with ``Retry-After`` when the job store cannot be
    reached, or does not answer in time."""
    try:
        yield
    except StoreUnavailableError as error:
        raise ApiError(
            503,
            ErrorCode.STORE_UNAVAILABLE,
            str(error),
            error.details,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from error


def _view(record: JobRecord) -> JobView:
    link = f"/v1/jobs/{record.id}"
    return JobView(
        id=record.id,
        kind=record.kind,
        status=record.status,
        progress=record.progress,
        best_cost=record.best_cost,
        attempts=record.attempts,
        created_at=record.created_at,
        updated_at=record.updated_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        error=None if record.error is None else JobError.model_validate(record.error),
        links={"self": link, "result": f"{link}/result"},
    )


def _get(store: StoreDep, job_id: uuid.UUID) -> JobRecord:
    with _store_answers():
        record = store.get(str(job_id))
    if record is None or not can_see(current_principal(), record.created_by):
        # another key's job answers as an unknown one: its existence does not leak
        raise ApiError(
            404,
            ErrorCode.NOT_FOUND,
            f"no job {job_id}",
            [{"field": "job_id", "value": str(job_id), "message": "unknown job id"}],
        )
    return record


def _check(submission: JobSubmission, settings: SettingsDep) -> None:
    if isinstance(submission, RoutesJob):
        check_routing(submission.request, settings, sync=False, prefix="request.")
    elif isinstance(submission, PlanJob):
        check_plan(submission.request, settings, sync=False, prefix="request.")
    elif isinstance(submission, BookPlanJob):
        check_book_plan(submission.request, settings, sync=False, prefix="request.")
    else:
        check_allocation_limits(submission.request, settings, sync=False, prefix="request.")


@router.post(
    "",
    status_code=202,
    response_model=JobView,
    summary="Submit a job",
    responses={
        202: {
            **json_example({**JOB_VIEW, "status": "queued", "progress": None, "best_cost": None}),
            "headers": {"Location": {"description": "the job's URL", "schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 413, 422, 429, 503),
    },
)
def submit_job(
    submission: Annotated[JobSubmission, Body(openapi_examples=_SUBMISSION_EXAMPLES)],
    settings: SettingsDep,
    store: StoreDep,
    runner: RunnerDep,
    response: Response,
) -> JobView:
    """Queue a job (``kind``: ``routes``, ``allocation`` or ``plan``); 202 with the job and its
    ``Location``.

    The request is validated now (422 names the fields); the job persists in the store and
    survives a restart of the server. 429 when ``ROUTEPLAN_MAX_QUEUED_JOBS`` jobs wait.
    """
    _check(submission, settings)
    try:
        with _store_answers():
            record = store.submit(
                submission.kind,
                submission.request.model_dump(mode="json"),
                max_queued=settings.max_queued_jobs,
                created_by=creator_name(),
            )
    except QueueFullError as error:
        raise ApiError(
            429, ErrorCode.QUEUE_FULL, str(error), headers={"Retry-After": str(RETRY_AFTER_S)}
        ) from error
    if runner is not None:
        runner.wake()
    response.headers["Location"] = f"/v1/jobs/{record.id}"
    return _view(record)


@router.get(
    "/{job_id}",
    response_model=JobView,
    summary="A job's status and progress",
    responses={200: json_example(JOB_VIEW), **error_responses(401, 404, 422, 503)},
)
def get_job(job_id: JobId, store: StoreDep) -> JobView:
    """``queued``, ``running`` (with ``progress`` 0-1 and ``best_cost``), ``succeeded``,
    ``failed`` (with ``error``) or ``cancelled``."""
    return _view(_get(store, job_id))


@router.get(
    "/{job_id}/result",
    summary="A finished job's result",
    responses={200: json_example(ROUTES_RESULT), **error_responses(401, 404, 409, 422, 503)},
)
def get_job_result(job_id: JobId, store: StoreDep) -> JSONResponse:
    """The result (``routes``: a routing result; ``allocation``: an allocation result;
    ``plan``: a day plan);
    409 while the job has not succeeded."""
    record = _get(store, job_id)
    if record.status is JobStatus.SUCCEEDED and record.result is not None:
        return JSONResponse(record.result)
    details: list[dict[str, Any]] = [
        {"field": "status", "value": record.status.value, "message": "the job has no result"}
    ]
    if record.status is JobStatus.FAILED:
        error = record.error or {}
        raise ApiError(
            409,
            ErrorCode.JOB_FAILED,
            f"the job failed: {error.get('message', 'no message')}",
            details + list(error.get("details", [])),
        )
    if record.status is JobStatus.CANCELLED:
        raise ApiError(409, ErrorCode.JOB_CANCELLED, "the job was cancelled", details)
    raise ApiError(
        409,
        ErrorCode.JOB_NOT_FINISHED,
        f"the job is {record.status.value}; poll /v1/jobs/{job_id}",
        details,
    )


@router.delete(
    "/{job_id}",
    response_model=JobView,
    summary="Cancel a job",
    responses={
        200: json_example({**JOB_VIEW, "status": "cancelled"}),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def cancel_job(job_id: JobId, store: StoreDep) -> JobView:
    """Cancel a queued or running job (a running search is stopped); 409 if it already ended."""
    record = _get(store, job_id)
    if record.status.finished:
        raise ApiError(
            409,
            ErrorCode.JOB_FINISHED,
            f"the job already ended ({record.status.value})",
            [{"field": "status", "value": record.status.value, "message": "cannot cancel"}],
        )
    with _store_answers():
        cancelled = store.cancel(str(job_id))
    assert cancelled is not None
    if cancelled.status is not JobStatus.CANCELLED and cancelled.status.finished:
        raise ApiError(
            409,
            ErrorCode.JOB_FINISHED,
            f"the job ended ({cancelled.status.value}) before it could be cancelled",
            [{"field": "status", "value": cancelled.status.value, "message": "cannot cancel"}],
        )
    return _view(cancelled)


#: The 422 of a job id that is not a UUID (the example of the OPTIONS answer).
_BAD_ID = {
    "code": "invalid_input",
    "message": "the request is invalid (1 problem)",
    "details": [
        {"field": "job_id", "value": "42", "message": "Input should be a valid UUID"},
    ],
}


@router.options(
    "/{job_id}",
    status_code=204,
    summary="The methods a job allows",
    responses={
        204: {
            "description": "no body; `Allow` lists the methods",
            "headers": {"Allow": {"description": JOB_METHODS, "schema": {"type": "string"}}},
        },
        **error_responses(401, 503),
        422: {**error_responses(422)[422], **json_example(_BAD_ID)},
    },
)
def job_options(job_id: JobId) -> Response:
    """``Allow: GET, DELETE, OPTIONS``; the job store is not asked."""
    return Response(status_code=204, headers={"Allow": JOB_METHODS})


@router.api_route(
    "/{job_id}", methods=["HEAD", "POST", "PUT", "PATCH", "TRACE"], include_in_schema=False
)
def job_method_not_allowed(job_id: str) -> Response:
    """405 with every method the job allows (Starlette's own 405 names the first route's)."""
    raise ApiError(
        405,
        ErrorCode.METHOD_NOT_ALLOWED,
        f"/v1/jobs/{{job_id}} allows {JOB_METHODS}",
        headers={"Allow": JOB_METHODS},
    )
