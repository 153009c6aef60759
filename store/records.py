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
from typing import Generic, Protocol, TypedDict, TypeVar

__all__ = [
    "AttemptRecord",
    "AttemptResult",
    "Delivery",
    "FailedEvent",
    "FailedEventFilter",
    "FailedEventRecord",
    "FailedEventState",
    "FailedEventSummary",
    "Page",
    "PruneResult",
    "RecordedFailure",
    "RequestEntry",
    "RequestFilter",
    "RequestLogRecord",
    "RequestState",
    "SubscriptionCounts",
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


class AttemptResult(Protocol):
    """How one attempt went, as the sender reports it (``sender.Outcome``; store imports nothing of ours)."""

    @property
    def ok(self) -> bool: ...
    @property
    def status(self) -> int | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def duration(self) -> float: ...
    @property
    def response_excerpt(self) -> str: ...


class Delivery(Protocol):
    """Which delivery, of which event, to where: what a failed event and a logged request share."""

    @property
    def webhook_id(self) -> str: ...
    @property
    def subscription(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def subchannel(self) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRecord:
    """One try of one delivery: the original attempts, its retries and every resend.

    The one type of an attempt: the retry and dead-letter records carry these,
    the store keeps them, the CLI and the API show them.
    """

    number: int
    at: datetime
    status: int | None = None
    """HTTP status when a response came back; None for timeouts and connection errors."""
    error_code: str | None = None
    """None when the attempt succeeded."""
    error_description: str | None = None
    duration_ms: float | None = None
    response_excerpt: str | None = None
    """The start of the response body, if one came back."""
    resent_by: str | None = None
    """Who resent it (an operator's name); None for the automatic attempts."""

    def __post_init__(self) -> None:
        _require_aware("at", self.at)

    @classmethod
    def of(
        cls, number: int, at: datetime, result: AttemptResult, *, resent_by: str | None = None
    ) -> AttemptRecord:
        """The attempt the sender reported as ``result`` (a resend by ``resent_by``, if given)."""
        if not result.ok and not result.error_code:
            raise ValueError("a failed attempt needs an error code")
        return cls(
            number=number,
            at=at,
            status=result.status,
            error_code=None if result.ok else result.error_code,
            error_description=None if result.ok else result.description or None,
            duration_ms=result.duration * 1000,
            response_excerpt=result.response_excerpt or None,
            resent_by=resent_by,
        )


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

    @classmethod
    def exhausted(
        cls,
        delivery: Delivery,
        attempts: Sequence[AttemptRecord],
        *,
        request_headers: Mapping[str, str],
        request_body: str,
        first_attempt_at: datetime,
    ) -> FailedEventRecord:
        """The failed event of ``delivery``, whose last attempt is the last of ``attempts``."""
        last = attempts[-1] if attempts else None
        if last is None or last.error_code is None:
            raise ValueError(f"{delivery.webhook_id} has no failed attempt to record")
        return cls(
            **_delivery_fields(delivery),
            request_headers=request_headers,
            request_body=request_body,
            error_code=last.error_code,
            error_description=last.error_description or "",
            attempts=attempts,
            first_attempt_at=first_attempt_at,
            last_attempt_at=last.at,
            response_status=last.status,
            response_excerpt=last.response_excerpt,
        )


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
    acted_by: str | None = None
    """The operator whose resend last changed it."""


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


class RequestState(StrEnum):
    """A request as the request log shows it (the CRM.COM Webhook Requests view)."""

    SUCCESSFUL = "successful"
    """Delivered; logged because its subscription logs all requests."""
    REJECTED = "rejected"
    """An open failed event: its delivery failed for good and waits for a resend or a delete."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFilter:
    """Which requests ``list_requests`` returns; None means "any" for every field."""

    state: RequestState | None = None
    subscription: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    trigger: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    """Made (last attempted, for a rejected one) at or after this time."""
    until: datetime | None = None
    """Made strictly before this time."""

    def __post_init__(self) -> None:
        _require_aware("since", self.since)
        _require_aware("until", self.until)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEntry:
    """One row of the request log: a logged successful request, or an open failed event (rejected).

    ``id`` is the request log entry's id for a successful one, the failed event's id for a
    rejected one: the pair (state, id) names it.
    """

    state: RequestState
    id: int
    webhook_id: str
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    channel: str | None
    subchannel: str | None
    event_id: str
    url: str
    status: int | None
    error_code: str | None
    error_description: str | None
    attempts: int
    at: datetime
    """When it was made (its last attempt, for a rejected one)."""
    request_body: str | None
    response_excerpt: str | None
    created_at: datetime
    updated_at: datetime
    acted_by: str | None


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
    resent_by: str | None = None
    """Who resent the failed event this request delivered; None for a delivery of the pipeline."""

    def __post_init__(self) -> None:
        _require_aware("at", self.at)

    @classmethod
    def succeeded(
        cls, delivery: Delivery, attempt: AttemptRecord, request_body: str, *, url: str | None = None
    ) -> RequestLogRecord:
        """The log entry of ``delivery``, which ``attempt`` delivered (to ``url`` if it has moved since)."""
        if attempt.error_code is not None or attempt.status is None:
            raise ValueError(f"attempt {attempt.number} of {delivery.webhook_id} did not succeed")
        fields = _delivery_fields(delivery)
        if url is not None:
            fields["url"] = url
        return cls(
            **fields,
            status=attempt.status,
            attempt=attempt.number,
            at=attempt.at,
            duration_ms=attempt.duration_ms,
            request_body=request_body,
            response_excerpt=attempt.response_excerpt,
            resent_by=attempt.resent_by,
        )


class _DeliveryFields(TypedDict):
    webhook_id: str
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    event_id: str
    url: str
    channel: str | None
    subchannel: str | None


def _delivery_fields(delivery: Delivery) -> _DeliveryFields:
    return {
        "webhook_id": delivery.webhook_id,
        "subscription": delivery.subscription,
        "entity": delivery.entity,
        "entity_id": delivery.entity_id,
        "trigger": delivery.trigger,
        "event_id": delivery.event_id,
        "url": delivery.url,
        "channel": delivery.channel,
        "subchannel": delivery.subchannel,
    }


@dataclass(frozen=True, slots=True)
class RecordedFailure:
    """What ``record_failure`` did: the failed event's id, whether this call created it, and whether
    it opened again a failed event a resend had closed."""

    id: int
    created: bool
    reopened: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionCounts:
    """One subscription's figures in the store (``Store.count_by_subscription``).

    ``successful`` and ``rejected`` are the request log's (the Requests view's): logged successful
    requests made since the time asked for, and open failed events last attempted since then.
    ``open_failed`` counts every open failed event, however old.
    """

    open_failed: int = 0
    successful: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What ``prune`` removed."""

    failed_events: int = 0
    requests: int = 0

    @property
    def total(self) -> int:
        return self.failed_events + self.requests
