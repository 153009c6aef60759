"""A record's stages after the intake: decode, route, deliver, and send each outcome where it belongs.

::

    input record ─► decode ─► route ─► deliver, once per matching subscription ─► outcome
       └─ undecodable ─► <prefix>.invalid
    retry record ─► due? (else Defer) ─► still subscribed? ─► deliver ─► outcome
    outcome ─► delivered: done (and <prefix>.log where the subscription logs all)
            ─► failed, attempts left: <prefix>.retry.<interval>
            ─► failed, none left: <prefix>.dlq

:class:`Deliveries` is the handler of the input and retry intakes. A handler
answers ``None`` when the record is finished at once, :class:`Defer` when it is
not due yet, or an awaitable that is done when the record's fate is durable —
every delivery it caused delivered, or acknowledged by the broker on a retry,
dead-letter or invalid-events topic. Only then does the intake commit its offset
(see ``docs/architecture.md``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from confluent_kafka import Message as KafkaMessage

from admin.metrics import Metrics
from consumer.kafka.intake import Defer, position
from consumer.kafka.producer import Producer
from consumer.kafka.topics import Topics
from consumer.wire.codec import InvalidEvent, decode_event
from consumer.wire.records import DeliveryRecord, decode_delivery, encode_delivery
from router import DomainEvent, Router, Subscription, shape_body
from sender import Message, Outcome, Sender
from sender.webhook import webhook_id
from store import AttemptRecord

__all__ = ["Deliveries"]

log = logging.getLogger(__name__)

_DUE_HEADER = "hookstream-due"


class Deliveries:
    """The input and retry stages; ``router`` (with its catalog) is swapped whole on a reload."""

    def __init__(
        self,
        *,
        router: Router,
        sender: Sender,
        producer: Producer,
        topics: Topics,
        metrics: Metrics,
        retry_after_cap: float = 3600.0,
    ) -> None:
        self.router = router
        self._sender = sender
        self._producer = producer
        self._topics = topics
        self._metrics = metrics
        self._retry_after_cap = retry_after_cap
        self._consumed = metrics.events_consumed
        self._matched = metrics.events_matched
        # Labelled children are looked up once per subscription, not once per delivery.
        self._success: dict[str, tuple[Any, Any]] = {}
        self._producing: set[asyncio.Future[None]] = set()
        self.in_flight = 0
        metrics.in_flight.set_function(lambda: self.in_flight)

    # -- stage 1: an input record becomes deliveries ---------------------------------------

    def handle_input(self, msg: KafkaMessage) -> Awaitable[None] | None:
        self._consumed.labels(msg.topic() or "").inc()
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
            self._deliver(subscription, event, source, 1, None, (), record)
        return record.done

    async def _invalid(self, msg: KafkaMessage, exc: InvalidEvent) -> None:
        self._metrics.events_invalid.labels(exc.code).inc()
        topic, partition, offset = position(msg)
        log.warning(
            "invalid event, sent to the invalid-events topic: %s",
            exc.description,
            extra={"topic": topic, "partition": partition, "offset": offset, "error_code": exc.code},
        )
        headers = [
            ("hookstream-error-code", exc.code),
            ("hookstream-error", exc.description),
            ("hookstream-source-topic", topic),
            ("hookstream-source-partition", str(partition)),
            ("hookstream-source-offset", str(offset)),
        ]
        await self._producer.send(self._topics.invalid, msg.value() or b"", key=msg.key(), headers=headers)

    # -- stage 1': a retry record, once due, becomes a delivery --------------------------------

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
                "dropped a retry: its subscription is gone or inactive",
                extra=_fields(record.source, record.webhook_id, record.subscription),
            )
            return None
        pending = _Record(asyncio.get_running_loop().create_future(), 1)
        self._deliver(
            subscription,
            record.event,
            record.source,
            record.attempt,
            record.first_attempt_at,
            record.history,
            pending,
        )
        return pending.done

    # -- stage 2: one attempt of one delivery ----------------------------------------------

    def _deliver(
        self,
        subscription: Subscription,
        event: DomainEvent,
        source: tuple[str, int, int],
        attempt: int,
        first_attempt_at: datetime | None,
        history: tuple[AttemptRecord, ...],
        record: _Record,
    ) -> None:
        body = shape_body(event, subscription, self.router.catalog)
        message = Message(webhook_id(event.event_id, subscription.name), int(time.time()), body, attempt)
        self.in_flight += 1
        self._sender.submit(
            subscription.target,
            message,
            _Attempt(self, subscription, event, source, first_attempt_at, history, message, record),
        )

    # -- stage 3: the outcome goes where it belongs ------------------------------------------

    def _settled(self, a: _Attempt, outcome: Outcome) -> None:
        self.in_flight -= 1
        name = a.subscription.name
        children = self._success.get(name)
        if children is None:
            children = self._success[name] = (
                self._metrics.deliveries.labels(name, "success", ""),
                self._metrics.delivery_duration.labels(name),
            )
        children[1].observe(outcome.duration)
        if outcome.ok:
            children[0].inc()
            if a.subscription.log != "all":
                a.record.settle()
                return
        # What is left must reach Kafka (a retry, the dead-letter topic, the request log)
        # before the record counts as done.
        task = asyncio.ensure_future(self._write_outcome(a, outcome))
        self._producing.add(task)
        task.add_done_callback(a.record.settle_after)
        task.add_done_callback(self._producing.discard)

    async def _write_outcome(self, a: _Attempt, outcome: Outcome) -> None:
        subscription, message = a.subscription, a.message
        name = subscription.name
        now = datetime.now(UTC)
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
            history=(*a.history, AttemptRecord.of(message.attempt, now, outcome)),
        )
        if outcome.ok:
            key = record.webhook_id.encode()
            await self._producer.send(self._topics.log, encode_delivery(record), key=key)
            return
        code = outcome.error_code or ""
        fields = a.log_fields() | {
            "attempt": message.attempt,
            "error_code": code,
            "error": outcome.description,
        }
        if outcome.retryable and message.attempt <= subscription.retry.attempts:
            self._metrics.deliveries.labels(name, "retry", code).inc()
            await self._schedule_retry(record, subscription.retry.interval, outcome)
            # Debug: an endpoint that is down fails every delivery, and the metrics count them already.
            log.debug("delivery failed, retry scheduled", extra=fields)
        else:
            self._metrics.deliveries.labels(name, "dead_letter", code).inc()
            await self._dead_letter(record)
            log.warning("delivery failed for good, sent to the dead-letter topic", extra=fields)

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


class _Attempt:
    """One attempt under way: the sender settles it (a :class:`sender.Waiter`) with its outcome."""

    __slots__ = (
        "deliveries",
        "event",
        "first_attempt_at",
        "history",
        "message",
        "record",
        "source",
        "subscription",
    )

    def __init__(
        self,
        deliveries: Deliveries,
        subscription: Subscription,
        event: DomainEvent,
        source: tuple[str, int, int],
        first_attempt_at: datetime | None,
        history: tuple[AttemptRecord, ...],
        message: Message,
        record: _Record,
    ) -> None:
        self.deliveries = deliveries
        self.subscription = subscription
        self.event = event
        self.source = source
        self.first_attempt_at = first_attempt_at
        self.history = history
        self.message = message
        self.record = record

    def settle(self, outcome: Outcome) -> None:
        self.deliveries._settled(self, outcome)

    def log_fields(self) -> dict[str, Any]:
        """The fields of a line about this delivery (the sender's lines about it too)."""
        return _fields(self.source, self.message.webhook_id, self.subscription.name)


def _fields(source: tuple[str, int, int], webhook_id: str, subscription: str) -> dict[str, Any]:
    # Every attempt of a delivery names the input record it came from, so one query finds them all.
    topic, partition, offset = source
    return {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "webhook_id": webhook_id,
        "subscription": subscription,
    }


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
