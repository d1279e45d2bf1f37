"""Order tracking: each order's public tracking token.

Revision ID: 0005_tracking
Revises: 0004_dispatch
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_tracking"
down_revision: str | Sequence[str] | None = "0004_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: this revision's tables land with their feature."""


def downgrade() -> None:
    """Undo :func:`upgrade`."""
