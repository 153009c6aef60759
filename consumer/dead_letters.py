"""The dead-letter and request-log consumer: writes delivery records into the store.

A record's offset is stored only after its row is written, so a crash between
the two writes it again — harmlessly, since the store is idempotent on the
webhook id.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from confluent_kafka import Message as KafkaMessage

from admin.metrics import Metrics
from consumer.kafka.intake import position
from consumer.wire.records import DeliveryRecord, decode_delivery
from store import FailedEventRecord, RequestLogRecord, Store

__all__ = ["FailureWriter"]

log = logging.getLogger(__name__)


class FailureWriter:
    """Handler of the dead-letter intake (``<prefix>.dlq`` and ``<prefix>.log``)."""

    def __init__(self, store: Store, metrics: Metrics, *, dlq_topic: str, log_topic: str) -> None:
        self._store = store
        self._metrics = metrics
        self._dlq = dlq_topic
        self._log = log_topic

    def handle(self, msg: KafkaMessage) -> Coroutine[Any, Any, None] | None:
        try:
            record = decode_delivery(msg.value() or b"")
        except ValueError as exc:
            # Only hookstream writes these topics; a foreign record is skipped, loudly, rather than stall.
            topic, partition, offset = position(msg)
            log.error(
                "skipped a record that is not a delivery record: %s",
                exc,
                extra={"topic": topic, "partition": partition, "offset": offset},
            )
            return None
        if msg.topic() == self._dlq:
            return self._write_failure(record)
        if msg.topic() == self._log:
            return self._store.log_request(
                RequestLogRecord.succeeded(record, record.history[-1], record.request_body)
            )
        return None

    async def _write_failure(self, record: DeliveryRecord) -> None:
        failed = FailedEventRecord.exhausted(
            record,
            record.history,
            request_headers=record.request_headers,
            request_body=record.request_body,
            first_attempt_at=record.first_attempt_at,
        )
        recorded = await self._store.record_failure(failed)
        if recorded.created:  # a redelivered dead-letter record is not stored twice, nor counted twice
            self._metrics.failed_stored.inc()
