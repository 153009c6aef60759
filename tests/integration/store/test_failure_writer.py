"""The dead-letter consumer's writer: a redelivered dead-letter record is stored and counted once."""

from __future__ import annotations

from datetime import UTC, datetime

from confluent_kafka import Message
from prometheus_client import CollectorRegistry

from consumer.dead_letters import FailureWriter
from consumer.kafka.producer import Producer
from consumer.kafka.topics import Topics
from consumer.metrics import ConsumerMetrics
from consumer.wire.records import DeliveryRecord, encode_delivery
from router import DomainEvent
from store import AttemptRecord, FailedEventFilter, Store

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def dead_letter(offset: int) -> Message:
    record = DeliveryRecord(
        webhook_id="msg_redelivered",
        subscription="crm",
        attempt=4,
        first_attempt_at=AT,
        event=DomainEvent("e-1", AT, "Object", "OnNew", "object-1", {"id": "object-1"}),
        source=("events", 0, 7),
        url="https://crm.example.com/hook",
        request_body='{"event_id": "e-1"}',
        history=(
            AttemptRecord(
                number=1,
                at=AT,
                status=503,
                error_code="503",
                error_description="HTTP 503 Service Unavailable",
                duration_ms=12.0,
                response_excerpt="try later",
            ),
        ),
    )
    return Message(topic="hookstream.dlq", partition=0, offset=offset, value=encode_delivery(record))


async def test_a_redelivered_dead_letter_record_is_stored_and_counted_once(store: Store) -> None:
    registry = CollectorRegistry()
    # The producer is only for records to set aside, which this test has none of.
    writer = FailureWriter(
        store, ConsumerMetrics(registry), Producer({"bootstrap.servers": "127.0.0.1:9"}), Topics("hookstream")
    )

    for offset in (7, 7):  # the same record again, as after a crash before its offset was committed
        write = writer.handle(dead_letter(offset))
        assert write is not None
        await write

    page = await store.list_failed(FailedEventFilter())
    assert [item.webhook_id for item in page.items] == ["msg_redelivered"]
    assert registry.get_sample_value("hookstream_failed_events_stored_total") == 1
    stored = await store.get_failed(page.items[0].id)
    assert stored is not None
    (attempt,) = stored.attempts
    # Each attempt of the trial history keeps its own status, error and response excerpt.
    assert (attempt.status, attempt.error_code, attempt.error_description, attempt.response_excerpt) == (
        503,
        "503",
        "HTTP 503 Service Unavailable",
        "try later",
    )
