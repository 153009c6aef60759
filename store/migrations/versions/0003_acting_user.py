"""Who acted: the operator behind each resend, on the attempt, the failed event and the logged request.

The automatic attempts have none; a resend through the CLI or the admin API records its actor, so
the trial history and the request log say who sent what again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("failed_event_attempts") as batch:
        batch.add_column(sa.Column("resent_by", sa.String(255), nullable=True))
    with op.batch_alter_table("failed_events") as batch:
        batch.add_column(sa.Column("acted_by", sa.String(255), nullable=True))
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("resent_by", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("resent_by")
    with op.batch_alter_table("failed_events") as batch:
        batch.drop_column("acted_by")
    with op.batch_alter_table("failed_event_attempts") as batch:
        batch.drop_column("resent_by")
