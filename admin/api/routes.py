"""The admin API's operations: subscriptions, catalog, failed events, requests, and who the caller is.

Each is a thin adapter: validated input in, one call of the service layer (admin/subscriptions.py,
admin/failed_events.py, admin/request_log.py), the answer out.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import orjson
from aiohttp import web

from admin.api.framework import Api, Context
from admin.api.problems import Issue, ProblemError, issue_at
from admin.api.schemas import (
    AttemptOut,
    BulkDeleteResult,
    BulkRequest,
    BulkResendResult,
    CatalogOut,
    DeleteItem,
    EntityOut,
    FailedEventDetail,
    FailedEventFilterBody,
    FailedEventOut,
    FailedEventPage,
    FailedEventPath,
    FailedEventQuery,
    Me,
    RequestDeleteBody,
    RequestDeleteItem,
    RequestDeleteResult,
    RequestOut,
    RequestPage,
    RequestPath,
    RequestQuery,
    RequestSent,
    ResendItem,
    ResponseGot,
    RotateResult,
    SubscriptionBody,
    SubscriptionCountsOut,
    SubscriptionList,
    SubscriptionListItem,
    SubscriptionOut,
    SubscriptionPath,
    SubscriptionQuery,
    SubscriptionValidation,
    TriggerComponentOut,
    TriggerOut,
    ValidateQuery,
    ValueOut,
)
from admin.failed_events import FailedEvents, ResendResult
from admin.request_log import RequestKey, RequestLog
from admin.subscriptions import (
    NameTaken,
    ReadOnlySubscription,
    SubscriptionNotFound,
    SubscriptionService,
    SubscriptionView,
)
from router import ConfigIssue, Router, SubscriptionError
from router.catalog import Catalog
from store import (
    FailedEventFilter,
    FailedEventState,
    FailedEventSummary,
    RequestEntry,
    RequestFilter,
    RequestState,
    Store,
    SubscriptionCounts,
    redact_headers,
)

__all__ = ["API", "SERVICES", "Services"]

API = Api(
    title="hookstream admin API",
    version="1",
    description="Subscriptions, failed events, the request log and the event catalog of hookstream. "
    "Every operation needs `Authorization: Bearer <token>` (or a trusted proxy's headers); errors "
    "are RFC 9457 problem details.",
)


@dataclass(frozen=True, slots=True)
class Services:
    """What the operations work with; the admin role builds it once."""

    failed_events: FailedEvents
    requests: RequestLog
    router: Callable[[], Router]
    subscriptions: SubscriptionService
    store: Store


SERVICES = web.AppKey("services", Services)


def _services(ctx: Context) -> Services:
    return ctx.request.app[SERVICES]


# --- caller and catalog ---------------------------------------------------------------------------


@API.operation("GET", "/me", role="viewer", summary="Who am I", tag="access")
async def get_me(ctx: Context) -> Me:
    """The caller's name and role, as the API sees them."""
    return Me(name=ctx.actor.name, role=ctx.actor.role, via=ctx.actor.via)


@API.operation("GET", "/catalog", role="viewer", summary="Entities, triggers and components", tag="catalog")
async def get_catalog(ctx: Context) -> CatalogOut:
    """What a subscription may listen to: each entity's triggers and the components they filter on."""
    return _catalog(_services(ctx).router().catalog)


def _catalog(catalog: Catalog) -> CatalogOut:
    entities = []
    for entity_name, entity in catalog.entities.items():
        triggers = []
        for trigger_name in entity.triggers:
            components = []
            for name, usage in catalog.trigger_components(entity_name, trigger_name).items():
                definition = catalog.components[name]
                offered = definition.by_id()
                if usage.allowed is not None:
                    allowed = {definition.resolve(value) for value in usage.allowed}
                    offered = {ident: label for ident, label in offered.items() if ident in allowed}
                components.append(
                    TriggerComponentOut(
                        name=name,
                        description=definition.description,
                        values=None
                        if definition.values is None
                        else [ValueOut(id=ident, name=label) for ident, label in offered.items()],
                        refines=None
                        if usage.refines is None
                        else {parent: list(values) for parent, values in usage.refines.items()},
                        unique_across_triggers=usage.unique_across_triggers,
                        once_per_subscription=usage.once_per_subscription,
                    )
                )
            trigger = entity.triggers[trigger_name]
            triggers.append(
                TriggerOut(name=trigger_name, description=trigger.description, components=components)
            )
        entities.append(
            EntityOut(
                name=entity_name,
                description=entity.description,
                data_fields=list(entity.data_fields),
                triggers=triggers,
            )
        )
    return CatalogOut(entities=entities)


# --- failed events --------------------------------------------------------------------------------


def _criteria(query: FailedEventFilterBody) -> FailedEventFilter:
    return FailedEventFilter(
        subscription=query.subscription,
        entity=query.entity,
        trigger=query.trigger,
        channel=query.channel,
        subchannel=query.subchannel,
        error_code=query.error_code,
        since=query.since,
        until=query.until,
        state=None if query.state == "all" else FailedEventState(query.state),
    )


def _failed_out(item: FailedEventSummary) -> FailedEventOut:
    fields = {name: getattr(item, name) for name in FailedEventOut.model_fields}
    return FailedEventOut.model_validate({**fields, "state": item.state.value})


@API.operation("GET", "/failed-events", role="viewer", summary="List failed events", tag="failed events")
async def list_failed_events(ctx: Context, query: FailedEventQuery) -> FailedEventPage:
    """Newest last attempt first; the filters are the CLI's (`hookstream failed list`). Open ones by
    default. Page on with `cursor` = the previous page's `next_cursor`."""
    page = await _services(ctx).failed_events.page(_criteria(query), limit=query.limit, cursor=query.cursor)
    return FailedEventPage(
        items=[_failed_out(item) for item in page.items], total=page.total, next_cursor=page.next_cursor
    )


@API.operation(
    "GET",
    "/failed-events/{id}",
    role="viewer",
    summary="One failed event",
    tag="failed events",
    errors=(404,),
)
async def get_failed_event(ctx: Context, path: FailedEventPath) -> FailedEventDetail:
    """Overview, the request as sent (payload), the latest response and the trial history."""
    failed = await _services(ctx).failed_events.get(path.id)
    if failed is None:
        raise ProblemError(404, f"failed event {path.id} does not exist")
    try:
        payload = orjson.loads(failed.request_body)
    except orjson.JSONDecodeError:
        payload = None
    return FailedEventDetail(
        overview=_failed_out(failed),
        request=RequestSent(
            url=failed.url, headers=redact_headers(failed.request_headers), body=failed.request_body
        ),
        payload=payload,
        response=ResponseGot(status=failed.response_status, excerpt=failed.response_excerpt),
        attempts=[AttemptOut.model_validate(asdict(attempt)) for attempt in failed.attempts],
    )


def _resend_item(result: ResendResult) -> ResendItem:
    return ResendItem(
        id=result.id,
        result=result.status,
        http_status=result.http_status,
        error_code=result.error_code,
        description=result.description,
    )


@API.operation(
    "POST",
    "/failed-events/{id}/resend",
    role="operator",
    summary="Resend a failed event",
    tag="failed events",
    errors=(404,),
)
async def resend_failed_event(ctx: Context, path: FailedEventPath) -> ResendItem:
    """A new attempt now, under the subscription as it is. Delivered: the failed event is closed (and
    the request logged where its subscription logs all). Failed: it takes the new error. The answer
    says which (`result`); 404 only when there is no such failed event."""
    result = await _services(ctx).failed_events.resend(path.id, ctx.actor)
    if result.status.value == "not_found":
        raise ProblemError(404, f"failed event {path.id} does not exist")
    return _resend_item(result)


@API.operation(
    "DELETE",
    "/failed-events/{id}",
    role="operator",
    summary="Delete a failed event",
    tag="failed events",
    status=204,
    errors=(404,),
)
async def delete_failed_event(ctx: Context, path: FailedEventPath) -> None:
    """Deletes it with its trial history."""
    [result] = await _services(ctx).failed_events.delete([path.id], ctx.actor)
    if not result.deleted:
        raise ProblemError(404, f"failed event {path.id} does not exist")


async def _bulk_ids(service: FailedEvents, body: BulkRequest) -> tuple[list[int], int]:
    if body.ids is not None:
        ids = list(dict.fromkeys(body.ids))
        return ids, len(ids)
    assert body.filter is not None  # the model requires one of them
    return await service.matching(_criteria(body.filter), bound=body.limit)


@API.operation(
    "POST", "/failed-events/bulk-resend", role="operator", summary="Resend many", tag="failed events"
)
async def bulk_resend_failed_events(ctx: Context, body: BulkRequest) -> BulkResendResult:
    """Resend the failed events named by `ids`, or the newest `limit` (at most 500) matching `filter`;
    each follows the resend rule, and the answer says what happened to each."""
    service = _services(ctx).failed_events
    ids, matched = await _bulk_ids(service, body)
    results = await service.resend_many(ids, ctx.actor)
    return BulkResendResult(
        matched=matched,
        remaining=matched - len(ids),
        results=[_resend_item(result) for result in results],
        counts=dict(Counter(result.status.value for result in results)),
    )


@API.operation(
    "POST", "/failed-events/bulk-delete", role="operator", summary="Delete many", tag="failed events"
)
async def bulk_delete_failed_events(ctx: Context, body: BulkRequest) -> BulkDeleteResult:
    """Delete the failed events named by `ids`, or the newest `limit` (at most 500) matching `filter`."""
    service = _services(ctx).failed_events
    ids, matched = await _bulk_ids(service, body)
    results = await service.delete(ids, ctx.actor)
    return BulkDeleteResult(
        matched=matched,
        remaining=matched - len(ids),
        results=[DeleteItem(id=result.id, deleted=result.deleted) for result in results],
        deleted=sum(result.deleted for result in results),
    )


# --- requests -------------------------------------------------------------------------------------

_STATE_OUT: dict[RequestState, Literal["Successful", "Rejected"]] = {
    RequestState.SUCCESSFUL: "Successful",
    RequestState.REJECTED: "Rejected",
}


def _request_out(entry: RequestEntry) -> RequestOut:
    return RequestOut(
        id=str(RequestKey(entry.state, entry.id)),
        state=_STATE_OUT[entry.state],
        failed_event_id=entry.id if entry.state is RequestState.REJECTED else None,
        subscription=entry.subscription,
        entity=entry.entity,
        entity_id=entry.entity_id,
        trigger=entry.trigger,
        channel=entry.channel,
        subchannel=entry.subchannel,
        event_id=entry.event_id,
        webhook_id=entry.webhook_id,
        url=entry.url,
        request=entry.request_body,
        response_status=entry.status,
        response=entry.response_excerpt,
        error_code=entry.error_code,
        error_description=entry.error_description,
        attempts=entry.attempts,
        at=entry.at,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        acted_by=entry.acted_by,
    )


@API.operation("GET", "/requests", role="viewer", summary="List requests", tag="requests")
async def list_requests(ctx: Context, query: RequestQuery) -> RequestPage:
    """Successful requests (of subscriptions with `log: all`) and rejected ones (open failed events)
    in one list, newest first."""
    criteria = RequestFilter(
        state=None if query.state is None else RequestState(query.state.lower()),
        subscription=query.subscription,
        entity=query.entity,
        entity_id=query.entity_id,
        trigger=query.trigger,
        error_code=query.error_code,
        since=query.since,
        until=query.until,
    )
    page = await _services(ctx).requests.page(criteria, limit=query.limit, cursor=query.cursor)
    return RequestPage(
        items=[_request_out(entry) for entry in page.items], total=page.total, next_cursor=page.next_cursor
    )


@API.operation(
    "DELETE",
    "/requests/{id}",
    role="operator",
    summary="Delete a request",
    tag="requests",
    status=204,
    errors=(404,),
)
async def delete_request(ctx: Context, path: RequestPath) -> None:
    """Deleting a rejected request deletes its failed event."""
    key = RequestKey.parse(path.id)
    if not (await _services(ctx).requests.delete([key], ctx.actor))[key]:
        raise ProblemError(404, f"request {path.id} does not exist")


@API.operation(
    "POST", "/requests/bulk-delete", role="operator", summary="Delete many requests", tag="requests"
)
async def bulk_delete_requests(ctx: Context, body: RequestDeleteBody) -> RequestDeleteResult:
    """Up to 500 at once; the answer says for each whether it existed."""
    keys = [RequestKey.parse(text) for text in dict.fromkeys(body.ids)]
    done = await _services(ctx).requests.delete(keys, ctx.actor)
    return RequestDeleteResult(
        results=[RequestDeleteItem(id=str(key), deleted=deleted) for key, deleted in done.items()],
        deleted=sum(done.values()),
    )


# --- subscriptions --------------------------------------------------------------------------------

#: The window of the list's request counts.
COUNT_WINDOW = timedelta(hours=24)
# A part of router.yamldoc.format_path's text: key, .key, [index] or ['key'] (a repr).
_PATH_PART = re.compile(r"""(?:^|\.)([A-Za-z0-9_-]+)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")


def _body_loc(path: str) -> list[int | str] | None:
    """``auth.headers['X-Key']`` -> ``["auth", "headers", "X-Key"]``; None if it is not such a path."""
    loc: list[int | str] = []
    at = 0
    while at < len(path):
        found = _PATH_PART.match(path, at)
        if found is None:
            return None
        key, index, quoted = found.groups()
        loc.append(
            key if key is not None else int(index) if index is not None else str(ast.literal_eval(quoted))
        )
        at = found.end()
    return loc


def _issue(issue: ConfigIssue) -> Issue:
    loc = _body_loc(issue.path)
    if loc is None:  # not a path of the body: keep its text in the message rather than lose it
        return issue_at("body", [], f"{issue.path}: {issue.message}", "invalid_subscription")
    return issue_at("body", loc, issue.message, "invalid_subscription")


@contextmanager
def _refusals() -> Iterator[None]:
    """The service layer's refusals as problems: 422 with every issue, 409, 404."""
    try:
        yield
    except SubscriptionError as exc:
        raise ProblemError(
            422, "the subscription is not valid", errors=[_issue(issue) for issue in exc.issues]
        ) from None
    except (NameTaken, ReadOnlySubscription) as exc:
        raise ProblemError(409, str(exc)) from None
    except SubscriptionNotFound as exc:
        raise ProblemError(404, f"no subscription is named {exc.args[0]!r}") from None


def _subscription_out(view: SubscriptionView) -> SubscriptionOut:
    return SubscriptionOut(
        name=view.name,
        source=view.source,
        entity=view.entity,
        active=view.active,
        suspended=view.suspended,
        config=dict(view.config),
        created_at=view.created_at,
        created_by=view.created_by,
        modified_at=view.modified_at,
        modified_by=view.modified_by,
        suspended_at=view.suspended_at,
        suspended_by=view.suspended_by,
        problems=list(view.problems),
    )


def _counts_out(view: SubscriptionView, counts: SubscriptionCounts | None) -> SubscriptionCountsOut:
    counts = counts or SubscriptionCounts()
    return SubscriptionCountsOut(
        open_failed_events=counts.open_failed,
        # Only a subscription that logs all has its successful requests in the store.
        successful_24h=counts.successful if view.config.get("log") == "all" else None,
        rejected_24h=counts.rejected,
    )


@API.operation("GET", "/subscriptions", role="viewer", summary="List subscriptions", tag="subscriptions")
async def list_subscriptions(ctx: Context, query: SubscriptionQuery) -> SubscriptionList:
    """Both sources (files, read-only here, and API-managed), each with who made it and when, whether it
    is suspended, and its open failed events and requests of the last 24 hours."""
    services = _services(ctx)
    views = services.subscriptions.list(
        entity=query.entity, active=query.active, source=query.source, name_contains=query.name_contains
    )
    since = datetime.now(UTC) - COUNT_WINDOW
    counts = await services.store.count_by_subscription(since)
    return SubscriptionList(
        items=[
            SubscriptionListItem(
                **_subscription_out(view).model_dump(), counts=_counts_out(view, counts.get(view.name))
            )
            for view in views
        ],
        since=since,
    )


@API.operation(
    "GET",
    "/subscriptions/{name}",
    role="viewer",
    summary="One subscription",
    tag="subscriptions",
    errors=(404,),
)
async def get_subscription(ctx: Context, path: SubscriptionPath) -> SubscriptionOut:
    """As written, with every secret shown as `[redacted]`."""
    with _refusals():
        return _subscription_out(_services(ctx).subscriptions.get(path.name))


@API.operation(
    "POST",
    "/subscriptions",
    role="admin",
    summary="Create a subscription",
    tag="subscriptions",
    status=201,
    errors=(409,),
)
async def create_subscription(ctx: Context, body: SubscriptionBody) -> SubscriptionOut:
    """Checked like a file's (422 with every error and its path); 409 when a file or another
    API-managed subscription has the name. Every process applies it within a second."""
    with _refusals():
        view = await _services(ctx).subscriptions.create(body.root, actor=ctx.actor.name)
    return _subscription_out(view)


@API.operation(
    "PUT",
    "/subscriptions/{name}",
    role="admin",
    summary="Replace a subscription",
    tag="subscriptions",
    errors=(404, 409),
)
async def replace_subscription(
    ctx: Context, path: SubscriptionPath, body: SubscriptionBody
) -> SubscriptionOut:
    """The whole subscription anew (`name` may be left out); a secret written back as `[redacted]`
    keeps the stored one. A file subscription is changed through its file (409)."""
    with _refusals():
        view = await _services(ctx).subscriptions.replace(path.name, body.root, actor=ctx.actor.name)
    return _subscription_out(view)


@API.operation(
    "DELETE",
    "/subscriptions/{name}",
    role="admin",
    summary="Delete a subscription",
    tag="subscriptions",
    status=204,
    errors=(404, 409),
)
async def delete_subscription(ctx: Context, path: SubscriptionPath) -> None:
    """An API-managed one only (a file subscription is removed from its file: 409)."""
    with _refusals():
        await _services(ctx).subscriptions.delete(path.name, actor=ctx.actor.name)


@API.operation(
    "POST",
    "/subscriptions/{name}/suspend",
    role="operator",
    summary="Suspend a subscription",
    tag="subscriptions",
    errors=(404,),
)
async def suspend_subscription(ctx: Context, path: SubscriptionPath) -> SubscriptionOut:
    """Stop delivering to it, whichever its source; a retry that comes due meanwhile is stored as failed."""
    with _refusals():
        return _subscription_out(await _services(ctx).subscriptions.suspend(path.name, actor=ctx.actor.name))


@API.operation(
    "POST",
    "/subscriptions/{name}/resume",
    role="operator",
    summary="Resume a subscription",
    tag="subscriptions",
    errors=(404,),
)
async def resume_subscription(ctx: Context, path: SubscriptionPath) -> SubscriptionOut:
    """Deliver again (a file subscription's `active: false` still holds)."""
    with _refusals():
        return _subscription_out(await _services(ctx).subscriptions.resume(path.name, actor=ctx.actor.name))


@API.operation(
    "POST", "/subscriptions/validate", role="admin", summary="Check a subscription", tag="subscriptions"
)
async def validate_subscription(
    ctx: Context, query: ValidateQuery, body: SubscriptionBody
) -> SubscriptionValidation:
    """A dry run of create (or, with `name`, of replace): every error with its path; nothing is written."""
    issues = _services(ctx).subscriptions.validate(body.root, name=query.name)
    return SubscriptionValidation(valid=not issues, errors=[_issue(issue) for issue in issues])


@API.operation(
    "POST",
    "/subscriptions/rotate-secrets",
    role="admin",
    summary="Encrypt secrets with the newest key",
    tag="subscriptions",
)
async def rotate_subscription_secrets(ctx: Context) -> RotateResult:
    """After putting a new key first in `HOOKSTREAM_SECRET_KEY` on every process: writes again every
    API-managed subscription whose secrets an older key encrypted. Then the old key can go."""
    return RotateResult(rewritten=await _services(ctx).subscriptions.rotate_secrets(actor=ctx.actor.name))
