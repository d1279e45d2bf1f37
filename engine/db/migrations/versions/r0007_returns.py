"""Returns (RMA): each return, its lines and its history.

Revision ID: 0007_returns
Revises: 0006_pick_pack
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_returns"
down_revision: str | Sequence[str] | None = "0006_pick_pack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: this revision's tables land with their feature."""


def downgrade() -> None:
    """Undo :func:`upgrade`."""
