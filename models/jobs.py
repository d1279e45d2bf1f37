"""The async job contract: what is submitted, and what a job's status looks like."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from models.allocation import AllocationRequest
from models.book import BookPlanRequest
from models.common import StrictModel
from models.plan import PlanRequest
from models.routing import RoutingRequest


class JobStatus(StrEnum):
    """Where a job is in its life: queued → running → succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class RoutesJob(StrictModel):
    """Plan routes (the body of ``POST /v1/routes``, run in the background)."""

    kind: Literal["routes"] = "routes"
    request: RoutingRequest


class AllocationJob(StrictModel):
    """Allocate order lines to sites (the body of ``POST /v1/allocations``, in the background)."""

    kind: Literal["allocation"] = "allocation"
    request: AllocationRequest


class PlanJob(StrictModel):
    """Plan a whole day: allocation, then routes per site (``POST /v1/plans``, in the
    background)."""

    kind: Literal["plan"] = "plan"
    request: PlanRequest


class BookPlanJob(StrictModel):
    """Plan a day from the order book (``POST /v1/plans`` with ``from_book``, in the
    background); the result is the stored draft plan."""

    kind: Literal["book_plan"] = "book_plan"
    request: BookPlanRequest


#: A job submission, told apart by ``kind``.
JobSubmission = Annotated[
    RoutesJob | AllocationJob | PlanJob | BookPlanJob, Field(discriminator="kind")
]
#: The job kinds that can be submitted.
JOB_KINDS = frozenset({"routes", "allocation", "plan", "book_plan"})


class JobError(StrictModel):
    """Why a job failed, in the API's error shape."""

    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class JobView(StrictModel):
    """A job's status, progress and links."""

    id: str
    kind: str
    status: JobStatus
    progress: float | None = Field(None, description="0-1, share of the time limit used")
    best_cost: float | None = Field(None, description="best cost found so far")
    attempts: int = Field(description="how many times the job was started")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: JobError | None = None
    links: dict[str, str] = Field(default_factory=dict)
