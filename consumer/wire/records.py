"""Delivery records (schemas/delivery.avsc) on the retry, dead-letter and request-log topics.

Their history is the store's :class:`store.AttemptRecord`; only the Avro field
names differ (``description`` for ``error_description``), kept for the records
already on the topics.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import fastavro
import orjson
from fastavro.schema import fingerprint, to_parsing_canonical_form

from consumer.wire.codec import SCHEMAS_DIR, InvalidEvent, event_from_record, event_record
from consumer.wire.errors import InvalidRecord
from router.event import DomainEvent
from sender.codes import ErrorCode
from store import AttemptRecord

__all__ = ["DeliveryRecord", "decode_delivery", "delivery_of", "encode_delivery"]

_MAGIC = b"\xc3\x01"


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    webhook_id: str
    subscription: str
    attempt: int
    first_attempt_at: datetime
    event: DomainEvent
    source: tuple[str, int, int]
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    history: tuple[AttemptRecord, ...] = ()

    # What the store's Delivery asks for: which event, of which subscription, to where.

    @property
    def entity(self) -> str:
        return self.event.entity

    @property
    def entity_id(self) -> str:
        return self.event.entity_id

    @property
    def trigger(self) -> str:
        return self.event.event_type

    @property
    def event_id(self) -> str:
        return self.event.event_id

    @property
    def channel(self) -> str | None:
        return None if self.event.channel is None else str(self.event.channel)

    @property
    def subchannel(self) -> str | None:
        return self.event.subchannel


@cache
def _schema() -> tuple[Any, bytes]:
    named: dict[str, Any] = {}
    for name in ("domain_event.avsc", "delivery.avsc"):
        raw = orjson.loads((SCHEMAS_DIR / name).read_bytes())
        parsed = fastavro.parse_schema(raw, named_schemas=named)
    header = _MAGIC + bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))
    return parsed, header


def encode_delivery(record: DeliveryRecord) -> bytes:
    schema, header = _schema()
    buf = io.BytesIO()
    buf.write(header)
    fastavro.schemaless_writer(
        buf,
        schema,
        {
            "webhook_id": record.webhook_id,
            "subscription": record.subscription,
            "attempt": record.attempt,
            "first_attempt_at": record.first_attempt_at,
            "event": event_record(record.event),
            "source": dict(zip(("topic", "partition", "offset"), record.source, strict=True)),
            "url": record.url,
            "request_headers": record.request_headers,
            "request_body": record.request_body,
            "history": [
                {
                    "number": a.number,
                    "at": a.at,
                    "status": a.status,
                    "error_code": a.error_code,
                    "description": a.error_description or "",
                    "duration_ms": a.duration_ms or 0.0,
                    "response_excerpt": a.response_excerpt or "",
                }
                for a in record.history
            ],
        },
    )
    return buf.getvalue()


def decode_delivery(value: bytes | None) -> DeliveryRecord:
    """The delivery record in ``value``.

    Raises :class:`ValueError`, and nothing else, when ``value`` is not a delivery record
    of this schema: no value, another header, a short or corrupt datum (whatever fastavro
    raises for it), a timestamp out of range, or an embedded event that
    :func:`consumer.wire.codec.decode_event` would refuse (an
    :class:`~consumer.wire.codec.InvalidEvent`, itself a ValueError).
    """
    if not value:
        raise ValueError("not a delivery record: the record has no value")
    schema, header = _schema()
    if value[: len(header)] != header:
        raise ValueError("not a delivery record (unknown single-object header)")
    try:
        doc: Any = fastavro.schemaless_reader(io.BytesIO(value[len(header) :]), schema, None)
    except Exception as exc:  # EOFError, struct.error, UnicodeDecodeError, OverflowError...
        raise ValueError(
            f"the delivery record's Avro datum cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    try:
        event = event_from_record(doc["event"])
    except InvalidEvent as exc:
        raise InvalidEvent(exc.code, f"the delivery record's event is invalid: {exc.description}") from None
    try:
        return _delivery(doc, event)
    except (KeyError, TypeError, AttributeError) as exc:  # a datum fastavro read but not as the schema says
        raise ValueError(f"the delivery record is malformed: {type(exc).__name__}: {exc}") from None


def _delivery(doc: Any, event: DomainEvent) -> DeliveryRecord:
    source = doc["source"]
    return DeliveryRecord(
        webhook_id=doc["webhook_id"],
        subscription=doc["subscription"],
        attempt=doc["attempt"],
        first_attempt_at=_utc(doc["first_attempt_at"]),
        event=event,
        source=(source["topic"], source["partition"], source["offset"]),
        url=doc["url"],
        request_headers=dict(doc["request_headers"]),
        request_body=doc["request_body"],
        history=tuple(
            AttemptRecord(
                number=a["number"],
                at=_utc(a["at"]),
                status=a["status"],
                error_code=a["error_code"],
                error_description=a["description"] or None,
                duration_ms=a["duration_ms"],
                response_excerpt=a["response_excerpt"] or None,
            )
            for a in doc["history"]
        ),
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def delivery_of(value: bytes | None) -> DeliveryRecord:
    """:func:`decode_delivery`, raising :class:`InvalidRecord` for a value that is not a delivery record."""
    try:
        return decode_delivery(value or b"")
    except ValueError as exc:
        raise InvalidRecord(ErrorCode.NOT_A_DELIVERY_RECORD, f"not a delivery record: {exc}") from None
