"""Pick and pack: each site's carton types and bin locations, packed shipments and their cartons.

Revision ID: 0006_pick_pack
Revises: 0005_tracking
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_pick_pack"
down_revision: str | Sequence[str] | None = "0005_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: this revision's tables land with their feature."""


def downgrade() -> None:
    """Undo :func:`upgrade`."""
