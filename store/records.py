"""Plain record types: what callers hand to the store and what it hands back.

store/ imports nothing of ours, so these are its own types; the dead-letter consumer and the admin
API translate their delivery objects into them. Every datetime must carry a time zone (naive
datetimes are refused at construction) and comes back from the store in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

__all__ = [
    "AttemptRecord",
    "FailedEvent",
    "FailedEventFilter",
    "FailedEventRecord",
    "FailedEventState",
    "FailedEventSummary",
    "Page",
    "PruneResult",
    "RecordedFailure",
    "RequestLogRecord",
]

T = TypeVar("T")


def _require_aware(name: str, value: datetime | None) -> None:
    # A naive datetime would be read as local time by one database and as UTC by another.
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


class FailedEventState(StrEnum):
    OPEN = "open"
    """Waiting for an operator: resend or delete."""
    CLOSED = "closed"
    """A resend succeeded; kept (until pruned) so its history stays visible."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRecord:
    """One try of one delivery: the original attempts, its retries and every resend."""

    number: int
    at: datetime
    status: int | None = None
    """HTTP status when a response came back; None for timeouts and connection errors."""
    error_code: str | None = None
    """None when the attempt succeeded."""
    error_description: str | None = None
    duration_ms: float | None = None

    def __post_init__(self) -> None:
        _require_aware("at", self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEventRecord:
    """A delivery whose attempts are exhausted, as the dead-letter consumer hands it over."""

    webhook_id: str
    """Stable for one event and one subscription: the store keeps one failed event per value."""
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    event_id: str
    url: str
    request_headers: Mapping[str, str]
    """Secrets already redacted by the sender; the store redacts credential headers again."""
    request_body: str
    error_code: str
    error_description: str
    attempts: Sequence[AttemptRecord]
    first_attempt_at: datetime
    last_attempt_at: datetime
    channel: str | None = None
    subchannel: str | None = None
    response_status: int | None = None
    response_excerpt: str | None = None

    def __post_init__(self) -> None:
        _require_aware("first_attempt_at", self.first_attempt_at)
        _require_aware("last_attempt_at", self.last_attempt_at)
        if not self.attempts:
            raise ValueError("a failed event needs at least one attempt in its history")
        if self.first_attempt_at > self.last_attempt_at:
            raise ValueError("first_attempt_at is after last_attempt_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEventSummary:
    """One row of the failed-events list: everything but the payload and the trial history."""

    id: int
    webhook_id: str
    state: FailedEventState
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    channel: str | None
    subchannel: str | None
    event_id: str
    url: str
    response_status: int | None
    error_code: str
    error_description: str
    attempt_count: int
    first_attempt_at: datetime
    last_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEvent(FailedEventSummary):
    """A failed event with its latest request, latest response and whole trial history."""

    request_headers: Mapping[str, str]
    request_body: str
    response_excerpt: str | None
    attempts: tuple[AttemptRecord, ...]
    """Oldest first; resends are appended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEventFilter:
    """Which failed events ``list_failed`` returns; None means "any" for every field."""

    subscription: str | None = None
    entity: str | None = None
    trigger: str | None = None
    channel: str | None = None
    subchannel: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    """Last attempt at or after this time."""
    until: datetime | None = None
    """Last attempt strictly before this time."""
    state: FailedEventState | None = FailedEventState.OPEN

    def __post_init__(self) -> None:
        _require_aware("since", self.since)
        _require_aware("until", self.until)


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of results, newest last attempt first."""

    items: tuple[T, ...]
    total: int
    """How many items match the filter across all pages."""
    next_cursor: str | None = None
    """Pass to the next call to continue; None on the last page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestLogRecord:
    """A successful request, logged for subscriptions that set ``log: all``."""

    webhook_id: str
    """The log keeps one entry per value, so a redelivered log record is not logged twice."""
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    event_id: str
    url: str
    status: int
    attempt: int
    """Which attempt succeeded (1 for the first try)."""
    at: datetime
    channel: str | None = None
    subchannel: str | None = None
    duration_ms: float | None = None
    request_body: str | None = None
    response_excerpt: str | None = None

    def __post_init__(self) -> None:
        _require_aware("at", self.at)


@dataclass(frozen=True, slots=True)
class RecordedFailure:
    """What ``record_failure`` did: the failed event's id, whether this call created it, and whether
    it opened again a failed event a resend had closed."""

    id: int
    created: bool
    reopened: bool = False


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What ``prune`` removed."""

    failed_events: int = 0
    requests: int = 0

    @property
    def total(self) -> int:
        return self.failed_events + self.requests
