"""The tables, as SQLAlchemy 2 declarative models; store/migrations/ creates and evolves them.

A test compares these models with the schema the migrations build, on SQLite and PostgreSQL, so
a change here without a migration (or the reverse) fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AttemptRow", "Base", "FailedEventRow", "RequestLogRow", "UTCDateTime"]

# Explicit constraint names, so migrations can refer to them and they are the same on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC datetimes out, on every database.

    PostgreSQL stores timestamptz; SQLite has no time zones, so UTC is stored without an offset
    (which also keeps its text comparisons in time order).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class FailedEventRow(Base):
    __tablename__ = "failed_events"
    __table_args__ = (
        # The failed-events view: open ones, most recent attempt first.
        Index("ix_failed_events_state_last_attempt_at", "state", "last_attempt_at", "id"),
        Index("ix_failed_events_subscription_last_attempt_at", "subscription", "last_attempt_at"),
        # Retention and time-range filters across states.
        Index("ix_failed_events_last_attempt_at", "last_attempt_at"),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    subscription: Mapped[str] = mapped_column(String(255))
    entity: Mapped[str] = mapped_column(String(128))
    entity_id: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    subchannel: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    request_body: Mapped[str] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str] = mapped_column(String(64))
    error_description: Mapped[str] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer)
    first_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The operator whose resend last changed it (None until someone acts on it).
    acted_by: Mapped[str | None] = mapped_column(String(255))


class AttemptRow(Base):
    __tablename__ = "failed_event_attempts"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    failed_event_id: Mapped[int] = mapped_column(
        ID_TYPE, ForeignKey("failed_events.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    # Who resent it; None for the automatic attempts.
    resent_by: Mapped[str | None] = mapped_column(String(255))


class RequestLogRow(Base):
    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_subscription_at", "subscription", "at"),)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    subscription: Mapped[str] = mapped_column(String(255))
    entity: Mapped[str] = mapped_column(String(128))
    entity_id: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    subchannel: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(index=True)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    request_body: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Who resent it, when a resend of a failed event made this request.
    resent_by: Mapped[str | None] = mapped_column(String(255))
