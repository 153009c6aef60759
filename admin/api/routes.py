"""The admin API's operations: catalog, failed events, requests, and who the caller is.

Each is a thin adapter: validated input in, one call of the service layer (admin/failed_events.py,
admin/request_log.py), the answer out. Subscriptions' operations are added the same way on the
same ``API``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

import orjson
from aiohttp import web

from admin.api.framework import Api, Context
from admin.api.problems import ProblemError
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
    TriggerComponentOut,
    TriggerOut,
    ValueOut,
)
from admin.failed_events import FailedEvents, ResendResult
from admin.request_log import RequestKey, RequestLog
from router import Router
from router.catalog import Catalog
from store import (
    FailedEventFilter,
    FailedEventState,
    FailedEventSummary,
    RequestEntry,
    RequestFilter,
    RequestState,
    redact_headers,
)

__all__ = ["API", "SERVICES", "Services"]

API = Api(
    title="hookstream admin API",
    version="1",
    description="Failed events, the request log and the event catalog of hookstream. "
    "Every operation needs `Authorization: Bearer <token>` (or a trusted proxy's headers); errors "
    "are RFC 9457 problem details.",
)


@dataclass(frozen=True, slots=True)
class Services:
    """What the operations work with; the admin role builds it once."""

    failed_events: FailedEvents
    requests: RequestLog
    router: Callable[[], Router]


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
