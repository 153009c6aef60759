"""What happens to a record: decode, route, deliver, and hand failures to a retry or dead-letter topic.

Every coroutine here finishes only when its record's fate is durable — delivered,
or acknowledged by the broker on a retry, dead-letter or invalid-events topic —
so the intake may then store the record's offset.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from confluent_kafka import Message as KafkaMessage

from consumer.kafka.intake import Defer, position
from consumer.kafka.producer import Producer
from consumer.kafka.topics import Topics
from consumer.metrics import ConsumerMetrics
from consumer.wire.codec import InvalidEvent, decode_event
from consumer.wire.records import AttemptEntry, DeliveryRecord, decode_delivery, encode_delivery
from router import Catalog, DomainEvent, Router, Subscription, shape_body
from sender import Message, Outcome, Sender

__all__ = ["Deliveries", "webhook_id"]

log = logging.getLogger(__name__)

_WEBHOOK_NS = uuid.UUID("5b0c8a4e-2d1f-4c55-9d6e-6f6f6b737472")
_DUE_HEADER = "hookstream-due"


def webhook_id(event_id: str, subscription: str) -> str:
    """Stable for one event and one subscription, so receivers can drop duplicates across retries."""
    return "msg_" + uuid.uuid5(_WEBHOOK_NS, f"{event_id}\x00{subscription}").hex


class Deliveries:
    """The handlers of the input and retry intakes; ``router`` is swapped whole on reload."""

    def __init__(
        self,
        *,
        router: Router,
        catalog: Catalog,
        sender: Sender,
        producer: Producer,
        topics: Topics,
        metrics: ConsumerMetrics,
        retry_after_cap: float = 3600.0,
    ) -> None:
        self.router = router
        self.catalog = catalog
        self._sender = sender
        self._producer = producer
        self._topics = topics
        self._metrics = metrics
        self._retry_after_cap = retry_after_cap
        self._matched = metrics.events_matched
        # Labelled children are looked up once per topic and subscription, not once per event.
        self._consumed: dict[str | None, Any] = {}
        self._success: dict[str, tuple[Any, Any]] = {}
        self._producing: set[asyncio.Future[None]] = set()
        self.in_flight = 0
        metrics.in_flight.set_function(lambda: self.in_flight)

    # -- input topics --------------------------------------------------------------

    def handle_input(self, msg: KafkaMessage) -> Awaitable[None] | None:
        topic = msg.topic()
        consumed = self._consumed.get(topic)
        if consumed is None:
            consumed = self._consumed[topic] = self._metrics.events_consumed.labels(topic or "")
        consumed.inc()
        try:
            event = decode_event(msg.value())
        except InvalidEvent as exc:
            return self._invalid(msg, exc)
        subscriptions = self.router.match(event)
        if not subscriptions:
            return None
        self._matched.inc(len(subscriptions))
        source = position(msg)
        record = _Record(asyncio.get_running_loop().create_future(), len(subscriptions))
        for subscription in subscriptions:
            self._send(subscription, event, source, 1, None, (), record)
        return record.done

    async def _invalid(self, msg: KafkaMessage, exc: InvalidEvent) -> None:
        self._metrics.events_invalid.labels(exc.code).inc()
        topic, partition, offset = position(msg)
        log.warning("invalid event at %s[%d]@%d: %s", topic, partition, offset, exc.description)
        headers = [
            ("hookstream-error-code", exc.code),
            ("hookstream-error", exc.description),
            ("hookstream-source-topic", topic),
            ("hookstream-source-partition", str(partition)),
            ("hookstream-source-offset", str(offset)),
        ]
        await self._producer.send(self._topics.invalid, msg.value() or b"", key=msg.key(), headers=headers)

    # -- retry topics ----------------------------------------------------------------

    def handle_retry(self, msg: KafkaMessage) -> Awaitable[None] | Defer | None:
        due = _header(msg, _DUE_HEADER)
        if due is not None and float(due) > time.time():
            return Defer(float(due))
        record = decode_delivery(msg.value() or b"")
        # A retry goes out under the subscription as it is now: its current endpoint and auth.
        subscription = self.router.get(record.subscription)
        if subscription is None or not subscription.active:
            self._metrics.retries_dropped.labels(record.subscription).inc()
            log.info(
                "dropped retry of %s: subscription %s is gone or inactive",
                record.webhook_id,
                record.subscription,
            )
            return None
        pending = _Record(asyncio.get_running_loop().create_future(), 1)
        self._send(
            subscription,
            record.event,
            record.source,
            record.attempt,
            record.first_attempt_at,
            record.history,
            pending,
        )
        return pending.done

    # -- one attempt -----------------------------------------------------------------

    def _send(
        self,
        subscription: Subscription,
        event: DomainEvent,
        source: tuple[str, int, int],
        attempt: int,
        first_attempt_at: datetime | None,
        history: tuple[AttemptEntry, ...],
        record: _Record,
    ) -> None:
        body = shape_body(event, subscription, self.catalog)
        message = Message(webhook_id(event.event_id, subscription.name), int(time.time()), body, attempt)
        self.in_flight += 1
        self._sender.submit(
            subscription.target,
            message,
            self._settled,
            _Attempt(subscription, event, source, first_attempt_at, history, message, record),
        )

    def _settled(self, outcome: Outcome, attempt: _Attempt) -> None:
        self.in_flight -= 1
        name = attempt.subscription.name
        children = self._success.get(name)
        if children is None:
            children = self._success[name] = (
                self._metrics.deliveries.labels(name, "success", ""),
                self._metrics.delivery_duration.labels(name),
            )
        children[1].observe(outcome.duration)
        if outcome.ok:
            children[0].inc()
            if attempt.subscription.log != "all":
                attempt.record.settle()
                return
        # What is left must reach Kafka (a retry, the dead-letter topic, the request log)
        # before the record counts as done.
        task = asyncio.ensure_future(self._after(outcome, attempt))
        self._producing.add(task)
        task.add_done_callback(attempt.record.settle_after)
        task.add_done_callback(self._producing.discard)

    async def _after(self, outcome: Outcome, a: _Attempt) -> None:
        subscription, message = a.subscription, a.message
        name = subscription.name
        now = datetime.now(UTC)
        history = (*a.history, _entry(message.attempt, now, outcome))
        record = DeliveryRecord(
            webhook_id=message.webhook_id,
            subscription=name,
            attempt=message.attempt if outcome.ok else message.attempt + 1,
            first_attempt_at=a.first_attempt_at or now,
            event=a.event,
            source=a.source,
            url=subscription.target.endpoint.url,
            request_headers=dict(outcome.request_headers),
            request_body=orjson.dumps(message.body).decode(),
            history=history,
        )
        if outcome.ok:
            key = record.webhook_id.encode()
            await self._producer.send(self._topics.log, encode_delivery(record), key=key)
            return
        code = outcome.error_code or "error"
        if outcome.retryable and message.attempt <= subscription.retry.attempts:
            self._metrics.deliveries.labels(name, "retry", code).inc()
            await self._schedule_retry(record, subscription.retry.interval, outcome)
        else:
            self._metrics.deliveries.labels(name, "dead_letter", code).inc()
            await self._dead_letter(record)

    async def _schedule_retry(self, record: DeliveryRecord, interval: timedelta, outcome: Outcome) -> None:
        delay = interval.total_seconds()
        if outcome.retry_after is not None:
            # Retry-After may push the next attempt later, never earlier, and only up to the cap.
            delay = max(delay, min(outcome.retry_after, self._retry_after_cap))
        due = time.time() + delay
        await self._producer.send(
            self._topics.retry(interval),
            encode_delivery(record),
            key=record.webhook_id.encode(),
            headers=[(_DUE_HEADER, f"{due:.3f}"), *_origin_headers(record)],
        )
        self._metrics.retries_scheduled.labels(record.subscription).inc()

    async def _dead_letter(self, record: DeliveryRecord) -> None:
        # The record's attempt field counts the attempts made on the dead-letter topic.
        final = replace(record, attempt=record.attempt - 1)
        await self._producer.send(
            self._topics.dlq,
            encode_delivery(final),
            key=record.webhook_id.encode(),
            headers=_origin_headers(final),
        )
        self._metrics.dead_lettered.labels(record.subscription).inc()


class _Record:
    """One consumed record's deliveries: ``done`` resolves when every one of them is settled."""

    __slots__ = ("done", "left")

    def __init__(self, done: asyncio.Future[None], deliveries: int) -> None:
        self.done = done
        self.left = deliveries

    def settle(self) -> None:
        self.left -= 1
        if self.left == 0 and not self.done.done():
            self.done.set_result(None)

    def settle_after(self, task: asyncio.Future[None]) -> None:
        if task.cancelled():
            if not self.done.done():
                self.done.cancel()
        elif (exc := task.exception()) is not None:
            # The record stays uncommitted: the intake logs it and it comes again.
            if not self.done.done():
                self.done.set_exception(exc)
        else:
            self.settle()


class _Attempt(NamedTuple):
    """What a delivery's outcome is handled with (the sender hands it back)."""

    subscription: Subscription
    event: DomainEvent
    source: tuple[str, int, int]
    first_attempt_at: datetime | None
    history: tuple[AttemptEntry, ...]
    message: Message
    record: _Record


def _entry(number: int, at: datetime, outcome: Outcome) -> AttemptEntry:
    return AttemptEntry(
        number=number,
        at=at,
        status=outcome.status,
        error_code=outcome.error_code,
        description=outcome.description,
        duration_ms=outcome.duration * 1000,
        response_excerpt=outcome.response_excerpt,
    )


def _origin_headers(record: DeliveryRecord) -> list[tuple[str, str]]:
    topic, partition, offset = record.source
    return [
        ("hookstream-attempt", str(record.attempt)),
        ("hookstream-subscription", record.subscription),
        ("hookstream-source-topic", topic),
        ("hookstream-source-partition", str(partition)),
        ("hookstream-source-offset", str(offset)),
    ]


def _header(msg: KafkaMessage, name: str) -> str | None:
    headers = msg.headers() or []
    for key, value in headers if isinstance(headers, list) else headers.items():
        if key == name and value is not None:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
