"""Each attempt of a failed event keeps its own response excerpt (the trial history shows it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("failed_event_attempts") as batch:
        batch.add_column(sa.Column("response_excerpt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("failed_event_attempts") as batch:
        batch.drop_column("response_excerpt")
