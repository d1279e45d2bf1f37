"""The independent evaluators' verdicts: what is wrong with a plan, and where.

Shared by the routing and the allocation contracts. A violation names what it concerns:
a vehicle and a stop for a route, an order, a line and a site for an allocation; the ids
that do not apply stay ``None``.
"""

from __future__ import annotations

from pydantic import Field

from models.common import Id, StrictModel
from models.status import ViolationCode


class Violation(StrictModel):
    """A broken constraint or a number that does not add up, found by an evaluator."""

    code: ViolationCode
    message: str
    vehicle_id: Id | None = None
    stop_id: Id | None = None
    order_id: Id | None = None
    line_id: Id | None = None
    site_id: Id | None = None


class Verdict(StrictModel):
    """An evaluator's verdict: feasible when it found no violation."""

    feasible: bool
    violations: list[Violation] = Field(default_factory=list)
