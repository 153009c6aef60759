"""A record's stages after the intake: decode, route, deliver, and send each outcome where it belongs.

::

    input record ─► decode ─► route ─► deliver, once per matching subscription ─► outcome
       └─ not a valid event ─► <prefix>.invalid
    retry record ─► due? (else Defer) ─► still subscribed? ─► deliver ─► outcome
       └─ subscription suspended ─► <prefix>.dlq (subscription_suspended)
    outcome ─► delivered: done (and <prefix>.log where the subscription logs all)
            ─► never sent (endpoint busy, circuit open): <prefix>.retry.<lowest rung>, same attempt
            ─► failed, attempts left: <prefix>.retry.<rung> (consumer/retries.py)
            ─► failed, none left: <prefix>.dlq

:class:`InputStage` and :class:`RetryStage` are the handlers of the input and
retry intakes; both hand their deliveries to :class:`Deliveries`. A handler
answers ``None`` when the record is finished at once, :class:`Defer` when it is
not due yet, or an awaitable that is done when the record's fate is durable —
every delivery it caused delivered, or acknowledged by the broker on a retry,
dead-letter or invalid-events topic. Only then does the intake commit its offset
(see ``docs/architecture.md``). Whatever a handler raises goes to its
``quarantine``: the invalid-events topic for what cannot be read, the
dead-letter topic for a delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from confluent_kafka import Message as KafkaMessage

from consumer.kafka.intake import Defer, position
from consumer.kafka.producer import Producer, RecordTooLarge
from consumer.kafka.topics import Topics
from consumer.metrics import ConsumerMetrics
from consumer.quarantine import EXCERPT_BYTES, set_aside, truncation_headers
from consumer.retries import MAX_DEFERRALS, NEVER_SENT, RetryLadder
from consumer.wire.codec import InvalidEvent, decode_event
from consumer.wire.errors import InvalidRecord
from consumer.wire.records import DeliveryRecord, delivery_of, encode_delivery
from router import DomainEvent, Router, Subscription, shape_body
from sender import ErrorCode, Message, Outcome, Sender
from sender.webhook import webhook_id
from store import AttemptRecord

__all__ = ["Deliveries", "InputStage", "RetryStage"]

log = logging.getLogger(__name__)

_DUE_HEADER = "hookstream-due"
_DEFERRALS_HEADER = "hookstream-deferrals"


class Deliveries:
    """One attempt of a delivery, and where its outcome goes; ``router`` and ``ladder`` change on reload."""

    def __init__(
        self,
        *,
        router: Router,
        ladder: RetryLadder,
        sender: Sender,
        producer: Producer,
        topics: Topics,
        metrics: ConsumerMetrics,
    ) -> None:
        self.router = router
        self.ladder = ladder
        self._sender = sender
        self.producer = producer
        self.topics = topics
        self.metrics = metrics
        # Labelled children are looked up once per subscription, not once per delivery.
        self._success: dict[str, tuple[Any, Any]] = {}
        self._producing: set[asyncio.Future[None]] = set()
        self.in_flight = 0
        metrics.in_flight.set_function(lambda: self.in_flight)

    # -- one attempt of one delivery -------------------------------------------------------

    def deliver(
        self,
        subscription: Subscription,
        event: DomainEvent,
        source: tuple[str, int, int],
        attempt: int,
        first_attempt_at: datetime | None,
        history: tuple[AttemptRecord, ...],
        record: _Record,
        deferrals: int = 0,
    ) -> None:
        body = shape_body(event, subscription, self.router.catalog)
        message = Message(webhook_id(event.event_id, subscription.name), int(time.time()), body, attempt)
        self.in_flight += 1
        self._sender.submit(
            subscription.target,
            message,
            _Attempt(
                self, subscription, event, source, first_attempt_at, history, message, record, deferrals
            ),
        )

    # -- the outcome goes where it belongs -------------------------------------------------

    def _settled(self, a: _Attempt, outcome: Outcome) -> None:
        self.in_flight -= 1
        name = a.subscription.name
        children = self._success.get(name)
        if children is None:
            children = self._success[name] = (
                self.metrics.deliveries.labels(name, "success", ""),
                self.metrics.delivery_duration.labels(name),
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
        name, code = subscription.name, outcome.error_code or ""
        now = datetime.now(UTC)
        record = DeliveryRecord(
            webhook_id=message.webhook_id,
            subscription=name,
            attempt=message.attempt + 1,
            first_attempt_at=a.first_attempt_at or now,
            event=a.event,
            source=a.source,
            url=subscription.target.endpoint.url,
            request_headers=dict(outcome.request_headers),
            request_body=orjson.dumps(message.body).decode(),
            history=(*a.history, AttemptRecord.of(message.attempt, now, outcome)),
        )
        if outcome.ok:
            await self._write(self.topics.log, replace(record, attempt=message.attempt))
            return
        fields = a.log_fields() | {
            "attempt": message.attempt,
            "error_code": code,
            "error": outcome.description,
        }
        if code in NEVER_SENT and a.deferrals < MAX_DEFERRALS:
            # Nothing reached the endpoint: wait and try the same attempt again.
            self.metrics.deliveries.labels(name, "deferred", code).inc()
            unsent = replace(record, attempt=message.attempt, history=a.history)
            await self.schedule(unsent, self.ladder.lowest, deferrals=a.deferrals + 1)
            log.debug("delivery not sent, deferred", extra=fields)
        elif outcome.retryable and message.attempt <= subscription.retry.attempts:
            self.metrics.deliveries.labels(name, "retry", code).inc()
            rung = self.ladder.rung(subscription.retry.interval, outcome.retry_after)
            await self.schedule(record, rung)
            # Debug: an endpoint that is down fails every delivery, and the metrics count them already.
            log.debug("delivery failed, retry scheduled", extra=fields)
        else:
            self.metrics.deliveries.labels(name, "dead_letter", code).inc()
            await self.dead_letter(record)
            log.warning("delivery failed for good, sent to the dead-letter topic", extra=fields)

    async def schedule(self, record: DeliveryRecord, rung: timedelta, *, deferrals: int = 0) -> None:
        """Write ``record`` to the retry topic of ``rung`` (a delay of the ladder), due ``rung`` from now."""
        due = time.time() + rung.total_seconds()
        headers = [(_DUE_HEADER, f"{due:.3f}"), (_DEFERRALS_HEADER, str(deferrals)), *_origin_headers(record)]
        try:
            await self.producer.send(
                self.topics.retry(rung),
                encode_delivery(record),
                key=record.webhook_id.encode(),
                headers=headers,
            )
        except RecordTooLarge:
            # Too large to wait on a retry topic: it is kept, cut down, among the dead letters.
            await self.dead_letter(record)
            return
        self.metrics.retries_scheduled.labels(record.subscription).inc()

    async def dead_letter(self, record: DeliveryRecord) -> None:
        # The record's attempt field counts the attempts made on the dead-letter topic.
        final = replace(record, attempt=len(record.history))
        await self._write(self.topics.dlq, final)
        self.metrics.dead_lettered.labels(record.subscription).inc()

    async def _write(self, topic: str, record: DeliveryRecord) -> None:
        """Write a dead-letter or log record; one too large for the topic is kept with its payload cut."""
        value = encode_delivery(record)
        key = record.webhook_id.encode()
        try:
            await self.producer.send(topic, value, key=key, headers=_origin_headers(record))
        except RecordTooLarge:
            cut = replace(
                record,
                event=record.event._replace(data={}, current_context=None),
                request_body=record.request_body[:EXCERPT_BYTES],
            )
            headers = _origin_headers(record) + truncation_headers(len(value))
            await self.producer.send(topic, encode_delivery(cut), key=key, headers=headers)


class InputStage:
    """The handler of the input intake: an event becomes one delivery per matching subscription."""

    def __init__(self, deliveries: Deliveries) -> None:
        self._deliveries = deliveries
        self._matched = deliveries.metrics.events_matched
        # Labelled children are looked up once per topic, not once per event.
        self._consumed: dict[str | None, Any] = {}

    def handle(self, msg: KafkaMessage) -> Awaitable[None] | None:
        topic = msg.topic()
        consumed = self._consumed.get(topic)
        if consumed is None:
            consumed = self._consumed[topic] = self._deliveries.metrics.events_consumed.labels(topic or "")
        consumed.inc()
        try:
            event = decode_event(msg.value())
        except InvalidEvent as exc:
            return self._set_aside(msg, exc.code, exc.description)
        deliveries = self._deliveries
        subscriptions: Sequence[Subscription] = deliveries.router.match(event)
        if not subscriptions:
            return None
        self._matched.inc(len(subscriptions))
        source = position(msg)
        record = _Record(asyncio.get_running_loop().create_future(), len(subscriptions))
        for subscription in subscriptions:
            deliveries.deliver(subscription, event, source, 1, None, (), record)
        return record.done

    async def quarantine(self, msg: KafkaMessage, error: Exception) -> None:
        if isinstance(error, InvalidRecord):
            await self._set_aside(msg, error.code, error.description)
        else:
            await self._set_aside(msg, ErrorCode.INTERNAL_ERROR, f"{type(error).__name__}: {error}")

    async def _set_aside(self, msg: KafkaMessage, code: ErrorCode, description: str) -> None:
        d = self._deliveries
        d.metrics.events_invalid.labels(code).inc()
        topic, partition, offset = position(msg)
        log.warning(
            "invalid event, sent to the invalid-events topic: %s",
            description,
            extra={"topic": topic, "partition": partition, "offset": offset, "error_code": code},
        )
        await set_aside(d.producer, d.topics.invalid, msg, code, description)


class RetryStage:
    """The handler of the retry intake: a due retry record becomes the delivery's next attempt."""

    def __init__(self, deliveries: Deliveries) -> None:
        self._deliveries = deliveries

    def handle(self, msg: KafkaMessage) -> Awaitable[None] | Defer | None:
        due = _header(msg, _DUE_HEADER)
        if due is not None and float(due) > time.time():
            return Defer(float(due))
        record = delivery_of(msg.value())
        deliveries = self._deliveries
        # A retry goes out under the subscription as it is now: its current endpoint and auth.
        subscription = deliveries.router.get(record.subscription)
        if subscription is None:
            deliveries.metrics.retries_dropped.labels(record.subscription).inc()
            log.info(
                "dropped a retry: its subscription is deleted",
                extra=_fields(record.source, record.webhook_id, record.subscription),
            )
            return None
        if not subscription.active:
            # Kept where an operator can resend it once the subscription is resumed.
            return self._dead_letter(
                record,
                ErrorCode.SUBSCRIPTION_SUSPENDED,
                f"subscription {record.subscription} was suspended when this retry came due",
            )
        pending = _Record(asyncio.get_running_loop().create_future(), 1)
        deliveries.deliver(
            subscription,
            record.event,
            record.source,
            record.attempt,
            record.first_attempt_at,
            record.history,
            pending,
            int(_header(msg, _DEFERRALS_HEADER) or 0),
        )
        return pending.done

    async def quarantine(self, msg: KafkaMessage, error: Exception) -> None:
        try:
            record = delivery_of(msg.value())
        except InvalidRecord as invalid:
            d = self._deliveries
            d.metrics.events_invalid.labels(invalid.code).inc()
            await set_aside(d.producer, d.topics.invalid, msg, invalid.code, invalid.description)
            return
        await self._dead_letter(record, ErrorCode.INTERNAL_ERROR, f"{type(error).__name__}: {error}")

    async def _dead_letter(self, record: DeliveryRecord, code: ErrorCode, description: str) -> None:
        note = AttemptRecord(
            number=record.attempt, at=datetime.now(UTC), error_code=code, error_description=description
        )
        self._deliveries.metrics.deliveries.labels(record.subscription, "dead_letter", code).inc()
        await self._deliveries.dead_letter(replace(record, history=(*record.history, note)))


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
            # The intake sets the record aside (its quarantine): nothing is left pending.
            if not self.done.done():
                self.done.set_exception(exc)
        else:
            self.settle()


class _Attempt(NamedTuple):
    """One attempt under way: the sender settles it (a :class:`sender.Waiter`) with its outcome."""

    deliveries: Deliveries
    subscription: Subscription
    event: DomainEvent
    source: tuple[str, int, int]
    first_attempt_at: datetime | None
    history: tuple[AttemptRecord, ...]
    message: Message
    record: _Record
    deferrals: int

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
