"""The admin API's inputs and answers, as pydantic models: the OpenAPI document is made from these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

from admin.actor import Role
from admin.api.problems import Issue
from admin.failed_events import BULK_LIMIT, ResendStatus

__all__ = [
    "BulkDeleteResult",
    "BulkRequest",
    "BulkResendResult",
    "CatalogOut",
    "DeleteItem",
    "FailedEventDetail",
    "FailedEventFilterBody",
    "FailedEventOut",
    "FailedEventPage",
    "FailedEventPath",
    "FailedEventQuery",
    "Me",
    "RequestDeleteBody",
    "RequestDeleteItem",
    "RequestDeleteResult",
    "RequestOut",
    "RequestPage",
    "RequestPath",
    "RequestQuery",
    "ResendItem",
    "RotateResult",
    "SubscriptionBody",
    "SubscriptionCountsOut",
    "SubscriptionList",
    "SubscriptionListItem",
    "SubscriptionOut",
    "SubscriptionPath",
    "SubscriptionQuery",
    "SubscriptionValidation",
    "ValidateQuery",
]

MAX_PAGE = 200
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _iso_utc(value: object) -> object:
    """ISO 8601 text only (pydantic alone would take a number as epoch seconds); UTC if no offset,
    as the CLI reads it."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date or time") from None
    else:
        raise ValueError("not an ISO 8601 date or time")
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment


# Text a filter compares with stored text: bounded, and no control characters (PostgreSQL refuses NUL).
Text = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]*$")]
Moment = Annotated[datetime, BeforeValidator(_iso_utc)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- failed events ------------------------------------------------------------------------------


class FailedEventFilterBody(_In):
    subscription: Text | None = None
    entity: Text | None = None
    trigger: Text | None = Field(default=None, description="event type, e.g. OnNew")
    channel: Text | None = None
    subchannel: Text | None = None
    error_code: Text | None = Field(default=None, description="e.g. 503, timeout")
    since: Moment | None = Field(default=None, description="last attempt at or after (UTC if no offset)")
    until: Moment | None = Field(default=None, description="last attempt before (UTC if no offset)")
    state: Literal["open", "closed", "all"] = "open"


class FailedEventQuery(FailedEventFilterBody):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, Field(max_length=512)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


class FailedEventPath(_In):
    id: RowId


class FailedEventOut(_Out):
    """One failed event in the list (the overview of one)."""

    id: int
    webhook_id: str
    state: Literal["open", "closed"]
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
    acted_by: str | None = Field(description="who last resent it")


class FailedEventPage(_Out):
    items: list[FailedEventOut]
    total: int = Field(description="how many match, across all pages")
    next_cursor: str | None


class AttemptOut(_Out):
    number: int
    at: datetime
    status: int | None = Field(description="HTTP status, when an answer came")
    error_code: str | None = Field(description="None: this attempt succeeded")
    error_description: str | None
    duration_ms: float | None
    response_excerpt: str | None
    resent_by: str | None = Field(description="who resent it; None for the automatic attempts")


class RequestSent(_Out):
    url: str
    headers: dict[str, str] = Field(description="as sent, secret values masked")
    body: str = Field(description="the body as sent (the SOAP envelope for SOAP)")


class ResponseGot(_Out):
    status: int | None
    excerpt: str | None


class FailedEventDetail(_Out):
    overview: FailedEventOut
    request: RequestSent
    payload: Any = Field(description="the body as JSON, when it is JSON; else null")
    response: ResponseGot = Field(description="the latest response")
    attempts: list[AttemptOut] = Field(description="the trial history, oldest first")


class BulkRequest(_In):
    """Either ``ids`` or ``filter``: a filter takes at most ``limit`` of the newest matching events."""

    ids: list[RowId] | None = Field(default=None, min_length=1, max_length=BULK_LIMIT)
    filter: FailedEventFilterBody | None = None
    limit: int = Field(default=BULK_LIMIT, ge=1, le=BULK_LIMIT, description="with filter: at most this many")

    @model_validator(mode="after")
    def _one_way(self) -> BulkRequest:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give either ids or filter")
        return self


class ResendItem(_Out):
    id: int
    result: ResendStatus
    http_status: int | None = None
    error_code: str | None = None
    description: str = ""


class BulkResendResult(_Out):
    matched: int = Field(description="how many the ids or the filter named")
    remaining: int = Field(description="matched by the filter but beyond the limit: call again")
    results: list[ResendItem]
    counts: dict[str, int] = Field(description="results by kind")


class DeleteItem(_Out):
    id: int
    deleted: bool = Field(description="false: it did not exist")


class BulkDeleteResult(_Out):
    matched: int
    remaining: int
    results: list[DeleteItem]
    deleted: int


# --- requests -----------------------------------------------------------------------------------

RequestId = Annotated[str, Field(pattern=r"^(successful|rejected)-[1-9][0-9]{0,17}$", max_length=40)]


class RequestQuery(_In):
    state: Literal["Successful", "Rejected"] | None = None
    subscription: Text | None = None
    entity: Text | None = None
    entity_id: Text | None = None
    trigger: Text | None = None
    error_code: Text | None = None
    since: Moment | None = Field(default=None, description="made at or after (UTC if no offset)")
    until: Moment | None = Field(default=None, description="made before (UTC if no offset)")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, Field(max_length=512)] | None = None


class RequestPath(_In):
    id: RequestId


class RequestOut(_Out):
    """One request: successful (logged, for subscriptions with ``log: all``) or rejected (an open
    failed event: resend it through /failed-events/{failed_event_id})."""

    id: str = Field(description="successful-<n> or rejected-<n>")
    state: Literal["Successful", "Rejected"]
    failed_event_id: int | None
    subscription: str
    entity: str
    entity_id: str
    trigger: str
    channel: str | None
    subchannel: str | None
    event_id: str
    webhook_id: str
    url: str
    request: str | None = Field(description="the body as sent")
    response_status: int | None
    response: str | None = Field(description="the start of the response body")
    error_code: str | None
    error_description: str | None
    attempts: int
    at: datetime = Field(description="when it was made (its last attempt, for a rejected one)")
    created_at: datetime
    updated_at: datetime
    acted_by: str | None = Field(description="who resent it, if someone did")


class RequestPage(_Out):
    items: list[RequestOut]
    total: int
    next_cursor: str | None


class RequestDeleteBody(_In):
    ids: list[RequestId] = Field(min_length=1, max_length=BULK_LIMIT)


class RequestDeleteItem(_Out):
    id: str
    deleted: bool


class RequestDeleteResult(_Out):
    results: list[RequestDeleteItem]
    deleted: int


# --- subscriptions ------------------------------------------------------------------------------

# The rule of router.model.Subscription.name: a name that cannot be a subscription's is refused
# here, before the service is asked.
SubscriptionName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
]


class SubscriptionPath(_In):
    name: SubscriptionName


class SubscriptionQuery(_In):
    entity: Text | None = Field(default=None, description="catalog entity, e.g. Object")
    active: bool | None = Field(default=None, description="delivering now (configured active, not suspended)")
    source: Literal["file", "api"] | None = None
    name_contains: Text | None = Field(default=None, description="part of the name, any case")


class ValidateQuery(_In):
    name: SubscriptionName | None = Field(
        default=None,
        description="check as a replace of this API-managed subscription (a secret may be "
        "[redacted] to keep the stored one); without it, as a create",
    )


class SubscriptionBody(RootModel[dict[str, Any]]):
    """A subscription as in a subscriptions file, as JSON (`hookstream validate`'s rules). Secrets may
    be typed in (they are stored encrypted) or given as `${ENV_VAR}` or file references."""


class SubscriptionOut(_Out):
    """One subscription; never a secret (each shows as `[redacted]`; a reference shows as written)."""

    name: str
    source: Literal["file", "api"] = Field(description="file: read-only here, change its file")
    entity: str
    active: bool = Field(description="delivering now: configured active and not suspended")
    suspended: bool
    config: dict[str, Any] = Field(description="the subscription as written (api) or loaded (file)")
    created_at: datetime | None = Field(description="api only")
    created_by: str | None
    modified_at: datetime | None = Field(description="api only")
    modified_by: str | None
    suspended_at: datetime | None
    suspended_by: str | None
    problems: list[str] = Field(description="why this process cannot deliver with it (empty when it can)")


class SubscriptionCountsOut(_Out):
    open_failed_events: int = Field(description="open failed events, however old")
    successful_24h: int | None = Field(
        description="logged successful requests of the last 24 h; null unless the subscription has "
        "`log: all` (only then does the request log hold them)"
    )
    rejected_24h: int = Field(description="open failed events last attempted in the last 24 h")


class SubscriptionListItem(SubscriptionOut):
    counts: SubscriptionCountsOut


class SubscriptionList(_Out):
    items: list[SubscriptionListItem] = Field(
        description="files first in their order, then API-managed by name"
    )
    since: datetime = Field(description="the start of the 24 hours counted")


class SubscriptionValidation(_Out):
    valid: bool
    errors: list[Issue] = Field(description="every error with its JSON path in the body")


class RotateResult(_Out):
    rewritten: int = Field(description="API-managed subscriptions written again with the newest key")


# --- catalog and caller --------------------------------------------------------------------------


class ValueOut(_Out):
    id: int | str
    name: str


class TriggerComponentOut(_Out):
    name: str
    description: str
    values: list[ValueOut] | None = Field(description="the values offered; null: any text (brands)")
    refines: dict[str, list[int | str]] | None = Field(
        description="applies only to events whose <component> is one of these"
    )
    unique_across_triggers: bool
    once_per_subscription: bool


class TriggerOut(_Out):
    name: str
    description: str
    components: list[TriggerComponentOut]


class EntityOut(_Out):
    name: str
    description: str
    data_fields: list[str] = Field(description="the trimmed data sent unless a subscription asks for more")
    triggers: list[TriggerOut]


class CatalogOut(_Out):
    entities: list[EntityOut]


class Me(_Out):
    name: str
    role: Role
    via: Literal["token", "proxy", "cli"]
