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
from consumer.wire.records import DeliveryRecord, decode_delivery
from store import AttemptRecord, FailedEventRecord, RequestLogRecord, Store

__all__ = ["FailureWriter", "failed_event_record", "request_log_record"]

log = logging.getLogger(__name__)


def _attempts(record: DeliveryRecord) -> list[AttemptRecord]:
    return [
        AttemptRecord(
            number=a.number,
            at=a.at,
            status=a.status,
            error_code=a.error_code,
            error_description=a.description or None,
            duration_ms=a.duration_ms,
        )
        for a in record.history
    ]


def _identity(record: DeliveryRecord) -> dict[str, Any]:
    """The fields a failed event and a logged request share: which delivery, of which event, to where."""
    event = record.event
    return {
        "webhook_id": record.webhook_id,
        "subscription": record.subscription,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "trigger": event.event_type,
        "event_id": event.event_id,
        "url": record.url,
        "channel": None if event.channel is None else str(event.channel),
        "subchannel": event.subchannel,
    }


def failed_event_record(record: DeliveryRecord) -> FailedEventRecord:
    last = record.last
    if last is None:
        raise ValueError(f"dead-letter record {record.webhook_id} has no attempts")
    return FailedEventRecord(
        **_identity(record),
        request_headers=record.request_headers,
        request_body=record.request_body,
        error_code=last.error_code or "error",
        error_description=last.description,
        attempts=_attempts(record),
        first_attempt_at=record.first_attempt_at,
        last_attempt_at=last.at,
        response_status=last.status,
        response_excerpt=last.response_excerpt or None,
    )


def request_log_record(record: DeliveryRecord) -> RequestLogRecord:
    last = record.last
    if last is None or last.status is None:
        raise ValueError(f"request-log record {record.webhook_id} has no successful attempt")
    return RequestLogRecord(
        **_identity(record),
        status=last.status,
        attempt=last.number,
        at=last.at,
        duration_ms=last.duration_ms,
        request_body=record.request_body,
        response_excerpt=last.response_excerpt or None,
    )


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
            log.error("skipping a record on %s that is not a delivery record: %s", msg.topic(), exc)
            return None
        if msg.topic() == self._dlq:
            return self._write_failure(record)
        if msg.topic() == self._log:
            return self._store.log_request(request_log_record(record))
        return None

    async def _write_failure(self, record: DeliveryRecord) -> None:
        recorded = await self._store.record_failure(failed_event_record(record))
        # A redelivered dead-letter record is not stored twice, nor counted twice; a failed event
        # that failed again after a resend closed it is back in the operators' queue, and counts.
        if recorded.created or recorded.reopened:
            self._metrics.failed_stored.inc()
