"""Failed events with their trial history, and the successful-request log.

Revision ID: 0001
Revises:
Create Date: 2024-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "failed_events",
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("subscription", sa.String(255), nullable=False),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("trigger", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("subchannel", sa.String(64), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("error_description", sa.Text(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_failed_events"),
        sa.UniqueConstraint("webhook_id", name="uq_failed_events_webhook_id"),
    )
    op.create_index(
        "ix_failed_events_state_last_attempt_at", "failed_events", ["state", "last_attempt_at", "id"]
    )
    op.create_index(
        "ix_failed_events_subscription_last_attempt_at", "failed_events", ["subscription", "last_attempt_at"]
    )
    op.create_index("ix_failed_events_last_attempt_at", "failed_events", ["last_attempt_at"])

    op.create_table(
        "failed_event_attempts",
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("failed_event_id", ID_TYPE, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_description", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_failed_event_attempts"),
        sa.ForeignKeyConstraint(
            ["failed_event_id"],
            ["failed_events.id"],
            name="fk_failed_event_attempts_failed_event_id_failed_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_failed_event_attempts_failed_event_id", "failed_event_attempts", ["failed_event_id"])

    op.create_table(
        "request_log",
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(255), nullable=False),
        sa.Column("subscription", sa.String(255), nullable=False),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("trigger", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("subchannel", sa.String(64), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_log"),
        sa.UniqueConstraint("webhook_id", name="uq_request_log_webhook_id"),
    )
    op.create_index("ix_request_log_at", "request_log", ["at"])
    op.create_index("ix_request_log_subscription_at", "request_log", ["subscription", "at"])


def downgrade() -> None:
    op.drop_table("request_log")
    op.drop_table("failed_event_attempts")
    op.drop_table("failed_events")
