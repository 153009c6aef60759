"""Domain events on the wire: Avro single-object encoding, or JSON with the same fields.

:func:`decode_event` turns a Kafka record value into a :class:`router.DomainEvent`
or raises :class:`InvalidEvent` naming what is wrong; the intake sends such
records to the invalid-events topic instead of stopping.
"""

from __future__ import annotations

import io
import operator
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import fastavro
import orjson
from fastavro.schema import fingerprint, to_parsing_canonical_form

from router.event import DomainEvent
from router.resources import schema_path
from sender.codes import ErrorCode

from .errors import InvalidRecord
from .flat_avro import FlatRecordReader

__all__ = [
    "SCHEMAS_DIR",
    "InvalidEvent",
    "decode_event",
    "encode_avro",
    "encode_json",
    "event_from_record",
    "event_record",
    "event_schema",
]

SCHEMAS_DIR = schema_path("domain_event.avsc").parent

# Avro single-object encoding: C3 01, the schema's CRC-64-AVRO fingerprint (little-endian), the datum.
_MAGIC = b"\xc3\x01"
_HEADER_LEN = 10

_REQUIRED_STRINGS = ("event_id", "entity", "event_type", "entity_id")
_OPTIONAL_STRINGS = ("brand", "subchannel", "whatsapp_status")
_OPTIONAL_INTS = ("channel", "activity_type", "status_id")
# The schema's fields in their order on the wire; an Avro datum is read into a list in this order.
_SCHEMA_ORDER = (
    "event_id",
    "event_time",
    "entity",
    "event_type",
    "entity_id",
    "brand",
    "channel",
    "subchannel",
    "activity_type",
    "status_id",
    "whatsapp_status",
    "current_context",
    "data",
)
_EVENT_ORDER = operator.itemgetter(*(_SCHEMA_ORDER.index(name) for name in DomainEvent._fields))
_TIME = _SCHEMA_ORDER.index("event_time")
_DATA = _SCHEMA_ORDER.index("data")
_CONTEXT = _SCHEMA_ORDER.index("current_context")
_REQUIRED = tuple((_SCHEMA_ORDER.index(name), name) for name in _REQUIRED_STRINGS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidEvent(InvalidRecord):
    """A record that is not a valid domain event. ``code`` names the kind of fault."""


@cache
def event_schema() -> tuple[dict[str, Any], bytes]:
    """The parsed domain-event schema and its single-object header."""
    schema = fastavro.schema.load_schema(str(SCHEMAS_DIR / "domain_event.avsc"))
    assert isinstance(schema, dict)
    fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))
    # fastavro's hex is already in the spec's little-endian byte order.
    return schema, _MAGIC + fp


def decode_event(value: bytes | None) -> DomainEvent:
    if not value:
        raise InvalidEvent(ErrorCode.EMPTY, "the record has no value")
    if value[:2] == _MAGIC:
        return _from_avro(value)
    if value[:1] in (b"{", b"[", b" ", b"\n", b"\t", b"\r"):
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(ErrorCode.JSON_ERROR, f"not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, "a JSON event must be an object")
        return _from_mapping(doc)
    raise InvalidEvent(ErrorCode.UNKNOWN_FORMAT, "neither Avro single-object encoding (C3 01) nor JSON")


def _from_avro(value: bytes) -> DomainEvent:
    reader, header = _avro_reader()
    if value[:_HEADER_LEN] != header:
        raise InvalidEvent(
            ErrorCode.UNKNOWN_SCHEMA, "Avro written with a schema other than domain_event.avsc"
        )
    try:
        values = reader.read(value, _HEADER_LEN)
        values[_TIME] = _EPOCH + timedelta(milliseconds=values[_TIME])
    except (ValueError, OverflowError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidEvent(ErrorCode.AVRO_ERROR, f"the Avro datum cannot be read: {exc}") from None
    # The schema has already checked every type: what is left is emptiness and the two JSON strings.
    for index, name in _REQUIRED:
        if not values[index]:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is required and must be a non-empty string")
    values[_DATA] = _json_object(values[_DATA], "data", required=True)
    values[_CONTEXT] = _json_object(values[_CONTEXT], "current_context", required=False)
    return DomainEvent._make(_EVENT_ORDER(values))


@cache
def _avro_reader() -> tuple[FlatRecordReader, bytes]:
    schema, header = event_schema()
    reader = FlatRecordReader(schema)
    if reader.names != _SCHEMA_ORDER:
        raise RuntimeError(f"domain_event.avsc's fields changed: {reader.names}")
    return reader, header


def _json_object(raw: object, name: str, *, required: bool) -> Mapping[str, Any] | None:
    if raw is None:
        if required:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is required")
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is not a JSON object") from None
    if not isinstance(raw, dict):
        raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} must be a JSON object")
    return raw


def _event_time(raw: object) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw / 1000, UTC)
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, "event_time is not ISO-8601") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidEvent(ErrorCode.SCHEMA_ERROR, "event_time is required (ISO-8601 or epoch milliseconds)")


def _from_mapping(doc: Mapping[str, Any]) -> DomainEvent:
    fields: dict[str, Any] = {}
    for name in _REQUIRED_STRINGS:
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is required and must be a non-empty string")
        fields[name] = value
    for name in _OPTIONAL_STRINGS:
        value = doc.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} must be a string")
        fields[name] = value
    for name in _OPTIONAL_INTS:
        value = doc.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} must be an integer")
        fields[name] = value
    data = _json_object(doc.get("data"), "data", required=True)
    assert data is not None
    return DomainEvent(
        event_time=_event_time(doc.get("event_time")),
        data=data,
        current_context=_json_object(doc.get("current_context"), "current_context", required=False),
        **fields,
    )


def _avro_record(event: Mapping[str, Any]) -> dict[str, Any]:
    record = {name: event.get(name) for name in (*_OPTIONAL_STRINGS, *_OPTIONAL_INTS)}
    record.update({name: event[name] for name in _REQUIRED_STRINGS})
    record["event_time"] = _event_time(event["event_time"])
    record["data"] = orjson.dumps(event["data"]).decode()
    context = event.get("current_context")
    record["current_context"] = None if context is None else orjson.dumps(context).decode()
    return record


def encode_avro(event: Mapping[str, Any]) -> bytes:
    """Encode an event (JSON-shaped mapping) in Avro single-object encoding, as a publisher would."""
    schema, header = event_schema()
    buf = io.BytesIO()
    buf.write(header)
    fastavro.schemaless_writer(buf, schema, _avro_record(event))
    return buf.getvalue()


def encode_json(event: Mapping[str, Any]) -> bytes:
    return orjson.dumps(event, default=str)


def event_record(event: DomainEvent) -> dict[str, Any]:
    """The Avro record of a decoded event (for embedding in delivery records)."""
    return _avro_record(
        {
            "event_id": event.event_id,
            "event_time": event.event_time,
            "entity": event.entity,
            "event_type": event.event_type,
            "entity_id": event.entity_id,
            "brand": event.brand,
            "channel": event.channel,
            "subchannel": event.subchannel,
            "activity_type": event.activity_type,
            "status_id": event.status_id,
            "whatsapp_status": event.whatsapp_status,
            "current_context": event.current_context,
            "data": event.data,
        }
    )


def event_from_record(record: Mapping[str, Any]) -> DomainEvent:
    return _from_mapping(record)
