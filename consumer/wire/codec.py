"""Domain events on the wire: Avro single-object encoding, or JSON with the same fields.

:func:`decode_event` turns a Kafka record value into a :class:`router.DomainEvent`
or raises :class:`InvalidEvent` naming what is wrong; the intake sends such
records to the invalid-events topic instead of stopping. It raises nothing else,
whatever the bytes (``tests/unit/consumer/test_fuzz_decoders.py`` holds it to that),
and an event it returns can be sent on: its ``event_time`` is in UTC, its int
fields fit the schema's 32-bit ``int``, and its ``data`` and ``current_context``
are nested shallowly enough for orjson to write them back into a webhook body or
a retry record.
"""

from __future__ import annotations

import io
import operator
from collections.abc import Iterable, Mapping
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
    "MAX_JSON_DEPTH",
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
_INTS = tuple((_SCHEMA_ORDER.index(name), name) for name in _OPTIONAL_INTS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Avro's int, which the schema gives channel, activity_type and status_id.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
# orjson writes at most 254 nested arrays and objects; a webhook body puts data and
# current_context one level down, a SOAP mapping maybe another. Deeper ones are refused
# here, where the event can still go to the invalid topic, rather than fail every attempt.
MAX_JSON_DEPTH = 200


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
    """The domain event in ``value``; raises :class:`InvalidEvent`, and nothing else, when there is none."""
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
            raise InvalidEvent(
                ErrorCode.SCHEMA_ERROR, f"a JSON event must be an object, not {_json_kind(doc)}"
            )
        # Counting brackets (in C) rules out deep nesting for all but a few records.
        return _from_mapping(doc, maybe_deep=value.count(b"{") + value.count(b"[") > MAX_JSON_DEPTH)
    raise InvalidEvent(ErrorCode.UNKNOWN_FORMAT, "neither Avro single-object encoding (C3 01) nor JSON")


def _from_avro(value: bytes) -> DomainEvent:
    reader, header = _avro_reader()
    if value[:_HEADER_LEN] != header:
        raise InvalidEvent(
            ErrorCode.UNKNOWN_SCHEMA, "Avro written with a schema other than domain_event.avsc"
        )
    try:
        values = reader.read(value, _HEADER_LEN)
    except Exception as exc:  # whatever the reader raises, the record is unreadable
        # The reader raises ValueError (UnicodeDecodeError too) for a short or corrupt datum;
        # anything else would be a fault of the reader, still not a reason to stall the intake.
        detail = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        try:
            name = _unreadable_field(value)
        except Exception:  # naming the field is a courtesy: never a reason to raise something else
            name = None
        where = f" at field {name}" if name else ""
        raise InvalidEvent(ErrorCode.AVRO_ERROR, f"the Avro datum cannot be read{where}: {detail}") from None
    values[_TIME] = _epoch_millis(values[_TIME])
    # The schema has already checked every type: what is left is emptiness, ranges and the two JSON strings.
    for index, name in _REQUIRED:
        if not values[index]:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is required and must be a non-empty string")
    for index, name in _INTS:
        number = values[index]
        if number is not None and not _INT_MIN <= number <= _INT_MAX:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, _int_range(name, number))
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


def _unreadable_field(value: bytes) -> str | None:
    """The first field that cannot be read in a datum the reader refused: the error path only.

    Read field by field (every field is a long or a string, possibly after a null-first union
    branch), to name the field in the error; None when they all read.
    """
    schema, _ = event_schema()
    buf = io.BytesIO(value)
    buf.seek(_HEADER_LEN)
    for field in schema["fields"]:
        avro_type = field["type"]
        if isinstance(avro_type, list):  # ["null", X]: branch 0 (0x00) is null, 1 (0x02) is X
            branch = buf.read(1)
            if branch == b"\x00":
                continue
            if branch != b"\x02":
                return str(field["name"])
            avro_type = avro_type[1]
        number = _varint(buf)
        if number is None:
            return str(field["name"])
        if avro_type == "string":
            if not 0 <= number <= len(value) - buf.tell():
                return str(field["name"])
            try:
                buf.read(number).decode()
            except UnicodeDecodeError:
                return str(field["name"])
    return None


def _varint(buf: io.BytesIO) -> int | None:
    """The zigzag varint at ``buf``'s position; None when cut short or longer than a long's 10 bytes."""
    start = buf.tell()
    number = 0
    for i, byte in enumerate(buf.read(10)):
        number |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            buf.seek(start + i + 1)
            return (number >> 1) ^ -(number & 1)
    return None


def _json_object(
    raw: object, name: str, *, required: bool, maybe_deep: bool = True
) -> Mapping[str, Any] | None:
    """``raw`` (an object, or a JSON string of one) as a mapping.

    ``maybe_deep`` False skips the depth check of an object (a string is always checked).
    """
    if raw is None:
        if required:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is required")
        return None
    if isinstance(raw, str):
        maybe_deep = raw.count("{") + raw.count("[") > MAX_JSON_DEPTH
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} must be a JSON object, not {_json_kind(raw)}")
    if maybe_deep and _too_deep(raw):
        raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} is nested more than {MAX_JSON_DEPTH} levels deep")
    return raw


def _too_deep(root: object) -> bool:
    """Whether ``root`` has arrays and objects nested more than MAX_JSON_DEPTH levels (no recursion)."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        assert isinstance(children, Iterable)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _int_range(name: str, number: object) -> str:
    return f"{name} must be an integer from {_INT_MIN} to {_INT_MAX}, not {number}"


def _epoch_millis(millis: int) -> datetime:
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        raise InvalidEvent(
            ErrorCode.SCHEMA_ERROR,
            f"event_time is out of range: {millis} epoch milliseconds is not in the years 1 to 9999",
        ) from None


def _event_time(raw: object) -> datetime:
    """``raw`` as an aware datetime in UTC."""
    if isinstance(raw, datetime):
        parsed = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        return _epoch_millis(raw)
    elif isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"event_time is not ISO-8601: {raw[:64]!r}") from None
    elif raw is None:
        raise InvalidEvent(ErrorCode.SCHEMA_ERROR, "event_time is required (ISO-8601 or epoch milliseconds)")
    else:
        raise InvalidEvent(
            ErrorCode.SCHEMA_ERROR,
            f"event_time must be an ISO-8601 string or integer epoch milliseconds, not {_json_kind(raw)}",
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is UTC:
        return parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidEvent(
            ErrorCode.SCHEMA_ERROR, f"event_time is out of range once in UTC: {parsed.isoformat()}"
        ) from None


def _from_mapping(doc: Mapping[str, Any], *, maybe_deep: bool = True) -> DomainEvent:
    fields: dict[str, Any] = {}
    for name in _REQUIRED_STRINGS:
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            given = "" if isinstance(value, str) else f", not {_json_kind(value)}"
            raise InvalidEvent(
                ErrorCode.SCHEMA_ERROR, f"{name} is required and must be a non-empty string{given}"
            )
        fields[name] = value
    for name in _OPTIONAL_STRINGS:
        value = doc.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidEvent(ErrorCode.SCHEMA_ERROR, f"{name} must be a string, not {_json_kind(value)}")
        fields[name] = value
    for name in _OPTIONAL_INTS:
        value = doc.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidEvent(
                    ErrorCode.SCHEMA_ERROR, f"{name} must be an integer, not {_json_kind(value)}"
                )
            if not _INT_MIN <= value <= _INT_MAX:
                raise InvalidEvent(ErrorCode.SCHEMA_ERROR, _int_range(name, value))
        fields[name] = value
    data = _json_object(doc.get("data"), "data", required=True, maybe_deep=maybe_deep)
    assert data is not None
    return DomainEvent(
        event_time=_event_time(doc.get("event_time")),
        data=data,
        current_context=_json_object(
            doc.get("current_context"), "current_context", required=False, maybe_deep=maybe_deep
        ),
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
