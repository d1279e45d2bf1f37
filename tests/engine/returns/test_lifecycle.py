"""The return lifecycle table: the issue's path is there, the finals lead nowhere, and a
move the table lacks is a 409 ``invalid_transition`` naming both states."""

from __future__ import annotations

import itertools

import pytest

from engine.returns import lifecycle as lc
from models.errors import ConflictError, ErrorCode
from models.returns import ReturnStatus as S

PATH = [S.REQUESTED, S.APPROVED, S.PICKUP_SCHEDULED, S.RECEIVED, S.RESTOCKED]


def test_every_state_has_a_row() -> None:
    assert set(lc.TRANSITIONS) == set(S)


@pytest.mark.parametrize("current, target", list(itertools.pairwise(PATH)))
def test_the_issue_path_is_allowed(current: S, target: S) -> None:
    assert lc.allowed(current, target)


@pytest.mark.parametrize("final", [S.REJECTED, S.RESTOCKED, S.DISPOSED])
def test_final_states_lead_nowhere(final: S) -> None:
    assert all(not lc.allowed(final, target) for target in S)


@pytest.mark.parametrize(
    "current, target",
    [
        (S.REQUESTED, S.RECEIVED),
        (S.REQUESTED, S.RESTOCKED),
        (S.APPROVED, S.RESTOCKED),
        (S.APPROVED, S.REJECTED),
        (S.PICKUP_SCHEDULED, S.RESTOCKED),
        (S.RECEIVED, S.APPROVED),
        (S.RESTOCKED, S.DISPOSED),
        (S.DISPOSED, S.RESTOCKED),
    ],
)
def test_a_missing_move_is_refused_naming_both_states(current: S, target: S) -> None:
    with pytest.raises(ConflictError) as caught:
        lc.check("ret_x", current, target)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert current.value in str(caught.value) and target.value in str(caught.value)
    assert "ret_x" in str(caught.value)


def test_rejected_returns_do_not_count_against_the_order() -> None:
    assert S.REJECTED not in lc.COUNTED
    assert {S.REQUESTED, S.APPROVED, S.RESTOCKED, S.DISPOSED} <= lc.COUNTED
