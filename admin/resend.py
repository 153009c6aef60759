"""Resend a failed event, following the rule users know.

A new attempt goes out under the subscription as it is now (endpoint, auth,
secrets), with the body and webhook id of the failed request. On success the
failed record is closed (and the request logged where the subscription logs
all); on failure it takes the new error and time, and the attempt joins its
trial history.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from admin.metrics import AdminMetrics
from router import Router
from sender import Message, Sender
from store import AttemptRecord, FailedEventNotFound, RequestLogRecord, Store

__all__ = ["ResendResult", "SubscriptionGone", "resend"]


class SubscriptionGone(Exception):
    """The failed event's subscription was deleted or suspended: there is nowhere to resend it."""


@dataclass(frozen=True, slots=True)
class ResendResult:
    id: int
    ok: bool
    status: int | None
    error_code: str | None
    description: str


async def resend(
    failed_id: int, *, store: Store, router: Router, sender: Sender, metrics: AdminMetrics | None = None
) -> ResendResult:
    failed = await store.get_failed(failed_id)
    if failed is None:
        raise FailedEventNotFound(failed_id)
    subscription = router.get(failed.subscription)
    if subscription is None or not subscription.active:
        raise SubscriptionGone(f"subscription {failed.subscription!r} is deleted or suspended")
    number = failed.attempt_count + 1
    message = Message(failed.webhook_id, int(time.time()), orjson.loads(failed.request_body), number)
    outcome = await sender.deliver(subscription.target, message)
    attempt = AttemptRecord.of(number, datetime.now(UTC), outcome)
    if outcome.ok:
        entry = None
        if subscription.log == "all":
            entry = RequestLogRecord.succeeded(
                failed, attempt, failed.request_body, url=subscription.target.endpoint.url
            )
        await store.resend_succeeded(failed_id, attempt, log=entry)
    else:
        await store.resend_failed(failed_id, attempt)
    if metrics is not None:
        metrics.resends.labels("success" if outcome.ok else "failure").inc()
    return ResendResult(failed_id, outcome.ok, outcome.status, outcome.error_code, outcome.description)
