"""Re-planning: a plan's parent plan.

Revision ID: 0008_replan
Revises: 0007_returns
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_replan"
down_revision: str | Sequence[str] | None = "0007_returns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: this revision's tables land with their feature."""


def downgrade() -> None:
    """Undo :func:`upgrade`."""
