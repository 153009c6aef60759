"""Failed events: the one place that lists, shows, resends and deletes them, one or many.

The admin API and the ``hookstream failed`` commands both call :class:`FailedEvents`, so the
resend rule and every mutation's log line live here once.

Resend follows the rule users know (CRM.COM's): a new attempt goes out under the subscription as
it is now (endpoint, auth, secrets), with the body and webhook id of the failed request. On success
the failed event is closed (and the request logged where the subscription logs all); on failure it
takes the new error and time. Either way the attempt joins its trial history with the actor's name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

import orjson

from admin.actor import Actor
from admin.metrics import AdminMetrics
from router import Router
from sender import Message, Sender
from store import (
    AttemptRecord,
    FailedEvent,
    FailedEventFilter,
    FailedEventNotFound,
    FailedEventNotOpen,
    FailedEventSummary,
    Page,
    RequestLogRecord,
    Store,
)

__all__ = ["BULK_LIMIT", "DeleteResult", "FailedEvents", "ResendResult", "ResendStatus"]

log = logging.getLogger(__name__)

#: Most failed events one bulk call touches: it answers for each, and must finish within a request.
BULK_LIMIT: Final = 500
# Resends of one bulk call under way at once; the sender's per-endpoint limits apply below this.
_RESEND_CONCURRENCY: Final = 8


class ResendStatus(StrEnum):
    DELIVERED = "delivered"
    """The new attempt succeeded: the failed event is closed."""
    FAILED = "failed"
    """The new attempt failed: the failed event has the new error."""
    NOT_FOUND = "not_found"
    """No such failed event (deleted or pruned meanwhile)."""
    NOT_OPEN = "not_open"
    """Already closed (by an earlier or concurrent resend): nothing was sent."""
    SUBSCRIPTION_GONE = "subscription_gone"
    """Its subscription is deleted or suspended: nothing was sent."""
    NOT_RESENDABLE = "not_resendable"
    """The stored request body is not the JSON the sender takes (a truncated record, say)."""


@dataclass(frozen=True, slots=True)
class ResendResult:
    id: int
    status: ResendStatus
    http_status: int | None = None
    error_code: str | None = None
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.status is ResendStatus.DELIVERED


@dataclass(frozen=True, slots=True)
class DeleteResult:
    id: int
    deleted: bool
    """False: it did not exist."""


class FailedEvents:
    """The failed-events service over one store.

    ``router`` returns the router in force now (it changes when subscriptions are reloaded);
    ``router`` and ``sender`` are needed only to resend.
    """

    def __init__(
        self,
        store: Store,
        *,
        router: Callable[[], Router] | None = None,
        sender: Sender | None = None,
        metrics: AdminMetrics | None = None,
    ) -> None:
        self.store = store
        self._router = router
        self._sender = sender
        self._metrics = metrics

    async def page(
        self, criteria: FailedEventFilter | None = None, *, limit: int = 50, cursor: str | None = None
    ) -> Page[FailedEventSummary]:
        return await self.store.list_failed(criteria, limit=limit, cursor=cursor)

    async def get(self, failed_id: int) -> FailedEvent | None:
        return await self.store.get_failed(failed_id)

    async def matching(
        self, criteria: FailedEventFilter, *, bound: int = BULK_LIMIT
    ) -> tuple[list[int], int]:
        """The ids of the first ``bound`` failed events matching ``criteria`` (newest first), and how
        many match in all."""
        page = await self.store.list_failed(criteria, limit=bound)
        return [item.id for item in page.items], page.total

    async def resend(self, failed_id: int, actor: Actor) -> ResendResult:
        """Resend one failed event now; the answer says what happened (it raises only StoreError)."""
        result = await self._resend(failed_id, actor)
        if self._metrics is not None and result.status in (ResendStatus.DELIVERED, ResendStatus.FAILED):
            self._metrics.resends.labels("success" if result.ok else "failure").inc()
        log.info(
            "failed event resent"
            if result.status in (ResendStatus.DELIVERED, ResendStatus.FAILED)
            else "failed event not resent",
            extra={
                "actor": actor.name,
                "role": actor.role,
                "via": actor.via,
                "failed_event_id": failed_id,
                "result": result.status.value,
                "error_code": result.error_code,
            },
        )
        return result

    async def resend_many(self, ids: Sequence[int], actor: Actor) -> list[ResendResult]:
        """Resend each of ``ids`` (at most BULK_LIMIT), a few at a time; one result per id, in order."""
        unique = list(dict.fromkeys(ids))
        if len(unique) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} failed events at once, got {len(unique)}")
        slots = asyncio.Semaphore(_RESEND_CONCURRENCY)

        async def one(failed_id: int) -> ResendResult:
            async with slots:
                return await self.resend(failed_id, actor)

        return list(await asyncio.gather(*(one(failed_id) for failed_id in unique)))

    async def delete(self, ids: Sequence[int], actor: Actor) -> list[DeleteResult]:
        """Delete failed events (with their history) by id; one result per id, in order."""
        unique = list(dict.fromkeys(ids))
        deleted = set(await self.store.delete_failed_ids(unique))
        log.info(
            "failed events deleted",
            extra={
                "actor": actor.name,
                "role": actor.role,
                "via": actor.via,
                "failed_event_ids": sorted(deleted),
                "requested": len(unique),
                "deleted": len(deleted),
            },
        )
        return [DeleteResult(failed_id, failed_id in deleted) for failed_id in unique]

    async def _resend(self, failed_id: int, actor: Actor) -> ResendResult:
        if self._router is None or self._sender is None:
            raise RuntimeError("this FailedEvents was built without a router and a sender: it cannot resend")
        failed = await self.store.get_failed(failed_id)
        if failed is None:
            return ResendResult(failed_id, ResendStatus.NOT_FOUND, description="no such failed event")
        if failed.state.value != "open":
            return ResendResult(failed_id, ResendStatus.NOT_OPEN, description="already closed")
        subscription = self._router().get(failed.subscription)
        if subscription is None or not subscription.active:
            return ResendResult(
                failed_id,
                ResendStatus.SUBSCRIPTION_GONE,
                description=f"subscription {failed.subscription!r} is deleted or suspended",
            )
        try:
            body = orjson.loads(failed.request_body)
        except orjson.JSONDecodeError:
            return ResendResult(
                failed_id, ResendStatus.NOT_RESENDABLE, description="the stored request body is not JSON"
            )
        number = failed.attempt_count + 1
        message = Message(failed.webhook_id, int(time.time()), body, number)
        outcome = await self._sender.deliver(subscription.target, message)
        attempt = AttemptRecord.of(number, datetime.now(UTC), outcome, resent_by=actor.name)
        try:
            if outcome.ok:
                entry = None
                if subscription.log == "all":
                    entry = RequestLogRecord.succeeded(
                        failed, attempt, failed.request_body, url=subscription.target.endpoint.url
                    )
                await self.store.resend_succeeded(failed_id, attempt, log=entry)
            else:
                await self.store.resend_failed(failed_id, attempt)
        except FailedEventNotFound:
            return ResendResult(failed_id, ResendStatus.NOT_FOUND, description="deleted while it was resent")
        except FailedEventNotOpen:
            return ResendResult(
                failed_id, ResendStatus.NOT_OPEN, description="closed by another resend meanwhile"
            )
        return ResendResult(
            failed_id,
            ResendStatus.DELIVERED if outcome.ok else ResendStatus.FAILED,
            outcome.status,
            outcome.error_code,
            outcome.description,
        )
