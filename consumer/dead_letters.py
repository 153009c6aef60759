"""The dead-letter and request-log consumer: writes delivery records into the store.

A record's offset is stored only after its row is written, so a crash between
the two writes it again — harmlessly, since the store is idempotent on the
webhook id. While the database is unreachable, each write is tried again with a
growing pause (the intake stops taking more once its in-flight limit is
reached) and :attr:`FailureWriter.trouble` tells ``/readyz``; deliveries go on.
A record hookstream did not write is set aside on the invalid-events topic.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from confluent_kafka import Message as KafkaMessage

from consumer.kafka.backoff import Backoff
from consumer.kafka.producer import Producer
from consumer.kafka.topics import Topics
from consumer.metrics import ConsumerMetrics
from consumer.quarantine import set_aside
from consumer.wire.errors import InvalidRecord
from consumer.wire.records import DeliveryRecord, delivery_of
from sender import ErrorCode
from store import DatabaseError, FailedEventRecord, RequestLogRecord, Store

__all__ = ["FailureWriter"]

log = logging.getLogger(__name__)


class FailureWriter:
    """Handler of the dead-letter intake (``<prefix>.dlq`` and ``<prefix>.log``)."""

    def __init__(self, store: Store, metrics: ConsumerMetrics, producer: Producer, topics: Topics) -> None:
        self._store = store
        self._metrics = metrics
        self._producer = producer
        self._topics = topics
        self.trouble: str | None = None
        """Why the store cannot be written right now, or None."""

    def handle(self, msg: KafkaMessage) -> Awaitable[None] | None:
        record = delivery_of(msg.value())
        if msg.topic() == self._topics.dlq:
            return self._until_written(record, lambda: self._write_failure(record))
        if msg.topic() == self._topics.log:
            entry = RequestLogRecord.succeeded(record, record.history[-1], record.request_body)
            return self._until_written(record, lambda: self._store.log_request(entry))
        return None

    async def quarantine(self, msg: KafkaMessage, error: Exception) -> None:
        code = error.code if isinstance(error, InvalidRecord) else ErrorCode.INTERNAL_ERROR
        self._metrics.events_invalid.labels(code).inc()
        await set_aside(self._producer, self._topics.invalid, msg, code, f"{type(error).__name__}: {error}")

    async def _until_written(self, record: DeliveryRecord, write: Callable[[], Awaitable[None]]) -> None:
        fields = {"webhook_id": record.webhook_id, "subscription": record.subscription}
        backoff = Backoff()
        while True:
            try:
                await write()
            except DatabaseError as exc:
                self.trouble = f"the failed-events store is unavailable: {exc}"
                self._metrics.store_available.set(0)
                log.warning("%s; trying again in %.1fs", self.trouble, backoff.next, extra=fields)
                await backoff.wait()
            else:
                if self.trouble is not None:
                    self.trouble = None
                    self._metrics.store_available.set(1)
                    log.info("the failed-events store is available again")
                return

    async def _write_failure(self, record: DeliveryRecord) -> None:
        failed = FailedEventRecord.exhausted(
            record,
            record.history,
            request_headers=record.request_headers,
            request_body=record.request_body,
            first_attempt_at=record.first_attempt_at,
        )
        recorded = await self._store.record_failure(failed)
        # A redelivered dead-letter record is not stored twice, nor counted twice; a failed event
        # that failed again after a resend closed it is back in the operators' queue, and counts.
        if recorded.created or recorded.reopened:
            self._metrics.failed_stored.inc()
