"""Records set aside: what cannot be handled goes to ``<prefix>.invalid``, never dropped, never left pending.

An input record that is not a valid event, a record on a retry or dead-letter
topic that hookstream did not write, or one whose handling raised (a fault of
ours) is written as it came to the invalid-events topic, with headers naming
the error and where it came from. A value too large for that topic is cut to
an excerpt, and the headers say so.
"""

from __future__ import annotations

from confluent_kafka import Message

from consumer.kafka.intake import position
from consumer.kafka.producer import Producer, RecordTooLarge
from sender.codes import ErrorCode

__all__ = ["EXCERPT_BYTES", "set_aside", "truncation_headers"]

#: How much of a too-large value is kept; far below any broker's limit.
EXCERPT_BYTES = 64 * 1024


def truncation_headers(original_size: int) -> list[tuple[str, str]]:
    return [
        ("hookstream-truncated", f"the value was {original_size} bytes; the first {EXCERPT_BYTES} are kept")
    ]


async def set_aside(producer: Producer, topic: str, msg: Message, code: ErrorCode, description: str) -> None:
    """Write ``msg`` to ``topic`` (the invalid-events topic) with the error and its origin in headers."""
    source_topic, partition, offset = position(msg)
    value = msg.value() or b""
    headers = [
        ("hookstream-error-code", code.value),
        ("hookstream-error", description),
        ("hookstream-source-topic", source_topic),
        ("hookstream-source-partition", str(partition)),
        ("hookstream-source-offset", str(offset)),
    ]
    try:
        await producer.send(topic, value, key=msg.key(), headers=headers)
    except RecordTooLarge:
        excerpt = value[:EXCERPT_BYTES]
        await producer.send(topic, excerpt, key=msg.key(), headers=headers + truncation_headers(len(value)))
