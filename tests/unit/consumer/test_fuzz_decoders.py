"""The decoders raise their documented error and nothing else, whatever the bytes (issue 16).

``decode_event`` returns a DomainEvent or raises InvalidEvent with an ErrorCode;
``decode_delivery`` returns a DeliveryRecord or raises ValueError. An event that
``decode_event`` accepts must also go on: into a webhook body and into a retry
record that reads back. Each fuzz test is bounded for the unit run;
``HOOKSTREAM_FUZZ_EXAMPLES=20000`` (with ``--hypothesis-seed=N``) searches harder.
The regression tests below the fuzz tests are the holes the fuzzing found.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.dev.samples import sample_events
from consumer.wire.codec import MAX_JSON_DEPTH, InvalidEvent, decode_event, encode_avro, event_schema
from consumer.wire.records import DeliveryRecord, decode_delivery, encode_delivery
from router.event import DomainEvent
from sender import webhook
from sender.codes import ErrorCode
from store import AttemptRecord

EXAMPLES = int(os.environ.get("HOOKSTREAM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FIELDS = (
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
# Fixed samples (sample_events makes fresh ids and times), one of each kind.
SAMPLES: tuple[dict[str, Any], ...] = tuple(
    {**event, "event_id": f"evt-{n}", "event_time": "2026-03-01T10:00:00.250+00:00"}
    for n, event in enumerate(sample_events(4))
)
_, AVRO_HEADER = event_schema()


# -- what every outcome must satisfy ------------------------------------------------------------


def decoded(value: bytes) -> DomainEvent | InvalidEvent:
    """decode_event's answer; any exception other than InvalidEvent fails the test."""
    try:
        event: DomainEvent | InvalidEvent = decode_event(value)
    except InvalidEvent as exc:
        event = exc
    if isinstance(event, InvalidEvent):
        assert isinstance(event.code, ErrorCode)
        assert event.description
        assert event.description == str(event)
        if event.code is ErrorCode.AVRO_ERROR:  # which field, as schema errors say
            assert event.description.startswith("the Avro datum cannot be read at field "), event.description
    else:
        assert_sendable(event)
    return event


def assert_sendable(event: DomainEvent) -> None:
    """The event goes on: a webhook body orjson can write, and a retry record that reads back."""
    assert isinstance(event, DomainEvent)
    assert event.event_time.tzinfo is UTC
    for name in ("event_id", "entity", "event_type", "entity_id"):
        assert isinstance(getattr(event, name), str)
        assert getattr(event, name)
    for name in ("channel", "activity_type", "status_id"):
        assert getattr(event, name) is None or type(getattr(event, name)) is int
    assert isinstance(event.data, dict)
    assert event.current_context is None or isinstance(event.current_context, dict)
    body = webhook.body(
        event_id=event.event_id,
        event_time=event.event_time,
        event_type=event.event_type,
        entity=event.entity,
        entity_id=event.entity_id,
        current_context=event.current_context,
        data=event.data,
    )
    orjson.dumps(body)
    record = DeliveryRecord(
        webhook_id="msg_1",
        subscription="s",
        attempt=2,
        first_attempt_at=datetime(2026, 1, 1, tzinfo=UTC),
        event=event,
        source=("hookstream.events", 0, 1),
        url="https://example.com/hook",
    )
    again = decode_delivery(encode_delivery(record)).event
    # Avro keeps milliseconds; everything else comes back as it was.
    assert abs(again.event_time - event.event_time) < timedelta(milliseconds=1)
    assert again._replace(event_time=event.event_time) == event


def delivered(value: bytes) -> DeliveryRecord | ValueError:
    """decode_delivery's answer; any exception other than ValueError fails the test.

    A record it returns must encode again (the retry path writes it back with the next attempt).
    """
    try:
        record: DeliveryRecord | ValueError = decode_delivery(value)
    except ValueError as exc:
        record = exc
    if isinstance(record, ValueError):
        assert str(record)
    else:  # what was read can be written again, for the next retry
        assert decode_delivery(encode_delivery(record)) == record
    return record


# -- strategies ---------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson reads those as floats
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()  # NaN and infinities too: json.dumps writes them, orjson refuses them
    | st.text()  # lone surrogates too: json.dumps escapes them, orjson refuses them
    | st.sampled_from(["", "\x00", "a\x00b", "2026-03-01T10:00:00", "0001-01-01T00:00:00+14:00"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
MISSING = object()


def to_json(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def nested(depth: int, leaf: str = "{}") -> str:
    """A JSON object ``depth`` levels deep, alternating objects and arrays."""
    opening = "".join('{"k":' if level % 2 == 0 else "[" for level in range(depth - 1))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth - 1)))
    return opening + leaf + closing


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A valid sample with some fields replaced by arbitrary JSON values or removed."""
    event = dict(draw(st.sampled_from(SAMPLES)))
    changed = draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=4))
    for name in changed:
        value = draw(st.just(MISSING) | JSON_VALUES)
        if value is MISSING:
            event.pop(name, None)
        else:
            event[name] = value
    return event, changed


def zigzag(number: int) -> bytes:
    """An Avro long (zigzag varint) of any size: corrupt ones beyond 64 bits included."""
    n = number * 2 if number >= 0 else -number * 2 - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def avro_string(text: bytes) -> bytes:
    return zigzag(len(text)) + text


@st.composite
def handmade_avro(draw: st.DrawFn) -> bytes:
    """An Avro domain event written field by field: numbers of any size, any bytes as strings."""
    strings = st.binary(max_size=20) | st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass"))
    numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.integers(
        min_value=-(2**31) - 2, max_value=2**31 + 1
    )
    json_texts = st.sampled_from([b"{}", b'{"a": 1}', b"[]", b"null", b"", b"{", nested(300).encode()]) | (
        JSON_VALUES.map(to_json)
    )
    out = [AVRO_HEADER, avro_string(draw(strings)), zigzag(draw(numbers))]
    out += [avro_string(draw(strings)) for _ in range(3)]
    for kind in ("s", "n", "s", "n", "n", "s", "j"):  # brand ... current_context, each a union
        if draw(st.booleans()):
            out.append(b"\x00")
            continue
        out.append(draw(st.sampled_from([b"\x02", b"\x02", b"\x04", b"\x01", b"\x80"])))
        if kind == "n":
            out.append(zigzag(draw(numbers)))
        else:
            out.append(avro_string(draw(json_texts if kind == "j" else strings)))
    out.append(avro_string(draw(json_texts)))
    out.append(draw(st.binary(max_size=4)))  # trailing bytes
    return b"".join(out)


@st.composite
def mutated(draw: st.DrawFn, value: bytes, *, keep: int) -> bytes:
    """``value`` with a few bytes flipped, cut, inserted or appended (the first ``keep`` mostly kept)."""
    data = bytearray(value)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        start = keep if draw(st.integers(0, 9)) else 0
        at = draw(st.integers(min_value=min(start, len(data)), max_value=len(data)))
        action = draw(st.sampled_from(["flip", "set", "cut", "truncate", "insert", "append"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and at < len(data):
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0xC3]))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=10))
        else:
            data += draw(st.binary(min_size=1, max_size=10))
    return bytes(data)


def sample_delivery(event: dict[str, Any], history: int) -> DeliveryRecord:
    decoded_event = decode_event(orjson.dumps(event))
    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    return DeliveryRecord(
        webhook_id="msg_2rk5",
        subscription="crm-resolved",
        attempt=history + 1,
        first_attempt_at=at,
        event=decoded_event,
        source=("hookstream.events", 3, 41),
        url="https://crm.example.com/hooks",
        request_headers={"content-type": "application/json", "authorization": "[redacted]"},
        request_body='{"event_id": "evt"}',
        history=tuple(
            AttemptRecord(
                number=n + 1,
                at=at + timedelta(minutes=5 * n),
                status=503 if n % 2 else None,
                error_code="503" if n % 2 else "timeout",
                error_description="Service Unavailable",
                duration_ms=12.5,
                response_excerpt="busy",
            )
            for n in range(history)
        ),
    )


DELIVERY_HEADER = encode_delivery(sample_delivery(SAMPLES[0], 0))[:10]


# -- (a) arbitrary bytes ------------------------------------------------------------------------


@FUZZ
@given(
    st.binary(max_size=200)
    | st.binary(max_size=200).map(lambda b: b"{" + b)
    | st.binary(max_size=200).map(lambda b: b"\xc3\x01" + b)
    | st.binary(max_size=200).map(lambda b: AVRO_HEADER + b)
)
def test_any_bytes_decode_to_an_event_or_invalid_event(value: bytes) -> None:
    decoded(value)


# -- (b) arbitrary JSON -------------------------------------------------------------------------


@FUZZ
@given(JSON_VALUES)
def test_any_json_document_decodes_to_an_event_or_invalid_event(doc: object) -> None:
    result = decoded(b" " + to_json(doc))
    if isinstance(result, InvalidEvent):
        assert result.code in (ErrorCode.JSON_ERROR, ErrorCode.SCHEMA_ERROR)


@FUZZ
@given(mutated_events())
def test_an_event_with_arbitrary_fields_is_refused_naming_one_of_them(
    changed_event: tuple[dict[str, Any], set[str]],
) -> None:
    event, changed = changed_event
    result = decoded(to_json(event))
    if isinstance(result, InvalidEvent) and result.code is not ErrorCode.JSON_ERROR:
        # A sample is valid, so what is wrong is one of the changed fields, named first.
        assert result.code is ErrorCode.SCHEMA_ERROR
        assert result.description.split()[0] in changed, result.description


@FUZZ
@given(
    field=st.sampled_from(["data", "current_context"]),
    depth=st.integers(min_value=1, max_value=1100),
    as_string=st.booleans(),
)
def test_nesting_at_any_depth_is_an_event_or_named(field: str, depth: int, as_string: bool) -> None:
    document = nested(depth)
    value = orjson.dumps(document).decode() if as_string else document
    raw = to_json({**SAMPLES[0], field: "__HERE__"}).replace(b'"__HERE__"', value.encode())
    result = decoded(raw)
    if depth <= MAX_JSON_DEPTH:
        assert isinstance(result, DomainEvent)
    else:
        assert isinstance(result, InvalidEvent)
        assert result.description.startswith(field) or result.code is ErrorCode.JSON_ERROR


# -- (c) Avro -----------------------------------------------------------------------------------


@FUZZ
@given(st.data())
def test_mutated_avro_events_decode_to_an_event_or_invalid_event(data: st.DataObject) -> None:
    value = encode_avro(data.draw(st.sampled_from(SAMPLES)))
    assert isinstance(decoded(value), DomainEvent)
    decoded(data.draw(mutated(value, keep=len(AVRO_HEADER))))


@FUZZ
@given(handmade_avro())
def test_handmade_avro_events_decode_to_an_event_or_invalid_event(value: bytes) -> None:
    decoded(value)


# -- (d) delivery records -----------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: DELIVERY_HEADER + b))
def test_any_bytes_decode_to_a_delivery_record_or_value_error(value: bytes) -> None:
    delivered(value)


@FUZZ
@given(st.data())
def test_mutated_delivery_records_decode_or_raise_value_error(data: st.DataObject) -> None:
    record = sample_delivery(data.draw(st.sampled_from(SAMPLES)), data.draw(st.integers(0, 3)))
    value = encode_delivery(record)
    assert decode_delivery(value) == record
    delivered(data.draw(mutated(value, keep=len(DELIVERY_HEADER))))


# -- regressions: the holes the fuzzing found ---------------------------------------------------


def json_event(**change: object) -> bytes:
    return to_json({**SAMPLES[0], **change})


def refused(value: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as err:
        decode_event(value)
    return err.value


@pytest.mark.parametrize("millis", [99999999999999999, -99999999999999999, 2**63 - 1, 2**64 - 1, -(2**63)])
def test_epoch_millis_out_of_range_is_a_schema_error(millis: int) -> None:
    # Before: ValueError("year 3170843 is out of range") escaped decode_event.
    err = refused(json_event(event_time=millis))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith("event_time is out of range")


@pytest.mark.parametrize(
    ("millis", "expected"),
    [
        (-1, datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        (-62135596800000, datetime(1, 1, 1, tzinfo=UTC)),
        (253402300799999, datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        (1_700_000_000_123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
    ],
)
def test_epoch_millis_in_range_are_exact(millis: int, expected: datetime) -> None:
    event = decode_event(json_event(event_time=millis))
    assert event.event_time == expected
    assert_sendable(event)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_iso_time_out_of_range_in_utc_is_a_schema_error(moment: str) -> None:
    # Before: accepted with its offset, then OverflowError in the webhook body's format_time.
    err = refused(json_event(event_time=moment))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith("event_time is out of range once in UTC")


def test_iso_time_with_an_offset_is_turned_to_utc() -> None:
    event = decode_event(json_event(event_time="2026-03-01T12:00:00+02:00"))
    assert event.event_time == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert event.event_time.tzinfo is UTC


@pytest.mark.parametrize("field", ["channel", "activity_type", "status_id"])
@pytest.mark.parametrize("number", [2**31, -(2**31) - 1, 2**40, 2**64 - 1])
def test_json_int_fields_beyond_avro_int_are_a_schema_error(field: str, number: int) -> None:
    # Before: accepted, then fastavro refused the retry record ("do not match ['null', 'int']").
    err = refused(json_event(**{field: number}))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith(f"{field} must be an integer from -2147483648 to 2147483647")


@pytest.mark.parametrize("number", [2**31, -(2**31) - 1, 2**63 - 1, 2**68])
def test_avro_int_fields_beyond_32_bits_are_a_schema_error(number: int) -> None:
    # Before: the flat reader reads an int as a long; the event was accepted and its retry record failed.
    fields = [
        avro_string(b"evt-0"),
        zigzag(1_772_359_200_250),
        avro_string(b"Object"),
        avro_string(b"OnNew"),
        avro_string(b"object-1000"),
        b"\x00",  # brand: null
        b"\x02" + zigzag(number),  # channel
        b"\x00\x00\x00\x00\x00",  # subchannel ... current_context: null
        avro_string(b"{}"),
    ]
    err = refused(AVRO_HEADER + b"".join(fields))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith("channel must be an integer from")


def test_avro_event_time_out_of_range_is_a_schema_error_naming_it() -> None:
    fields = [avro_string(b"e"), zigzag(2**62), *(avro_string(b"x") for _ in range(3))]
    err = refused(AVRO_HEADER + b"".join(fields) + b"\x00" * 7 + avro_string(b"{}"))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith("event_time is out of range")


@pytest.mark.parametrize("field", ["data", "current_context"])
@pytest.mark.parametrize("as_string", [False, True])
def test_json_nested_deeper_than_orjson_writes_is_a_schema_error(field: str, as_string: bool) -> None:
    # Before: orjson read up to 1024 levels but writes only 254, so an event 254 to 1024 levels
    # deep was accepted, then every webhook body and retry record failed with "Recursion limit reached".
    document = nested(MAX_JSON_DEPTH + 1)
    value = orjson.dumps(document).decode() if as_string else document
    raw = json_event(**{field: "__HERE__"}).replace(b'"__HERE__"', value.encode())
    err = refused(raw)
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description == f"{field} is nested more than {MAX_JSON_DEPTH} levels deep"
    event = decode_event(
        json_event(**{field: "__HERE__"}).replace(b'"__HERE__"', nested(MAX_JSON_DEPTH).encode())
    )
    assert_sendable(event)


@pytest.mark.parametrize(
    ("value", "code", "description"),
    [
        (b" 5", ErrorCode.SCHEMA_ERROR, "a JSON event must be an object, not a number"),
        (b' "event"', ErrorCode.SCHEMA_ERROR, "a JSON event must be an object, not a string"),
        (b"[]", ErrorCode.SCHEMA_ERROR, "a JSON event must be an object, not an array"),
        (b"\n null", ErrorCode.SCHEMA_ERROR, "a JSON event must be an object, not null"),
        (b'{"a": NaN}', ErrorCode.JSON_ERROR, "not valid JSON: "),
        (b'{"a": 1e400}', ErrorCode.JSON_ERROR, "not valid JSON: "),
        (b'{"a": "\xff"}', ErrorCode.JSON_ERROR, "not valid JSON: "),
        (b'{"a": "\\ud800"}', ErrorCode.JSON_ERROR, "not valid JSON: "),
        (b"[" * 5000, ErrorCode.JSON_ERROR, "not valid JSON: "),
        (b'"event"', ErrorCode.UNKNOWN_FORMAT, "neither Avro"),
    ],
)
def test_json_that_is_not_an_event_is_named(value: bytes, code: ErrorCode, description: str) -> None:
    err = refused(value)
    assert err.code is code
    assert err.description.startswith(description)


@pytest.mark.parametrize(
    ("change", "description"),
    [
        (
            {"event_time": 1.7e12},
            "event_time must be an ISO-8601 string or integer epoch milliseconds, not a number",
        ),
        (
            {"event_time": True},
            "event_time must be an ISO-8601 string or integer epoch milliseconds, not a boolean",
        ),
        ({"event_time": None}, "event_time is required"),
        ({"event_time": "2026-13-01"}, "event_time is not ISO-8601: '2026-13-01'"),
        ({"event_id": 5}, "event_id is required and must be a non-empty string, not a number"),
        ({"event_id": ""}, "event_id is required and must be a non-empty string"),
        ({"brand": ["acme"]}, "brand must be a string, not an array"),
        ({"channel": 7.0}, "channel must be an integer, not a number"),
        ({"channel": False}, "channel must be an integer, not a boolean"),
        ({"channel": 10**30}, "channel must be an integer, not a number"),  # orjson reads it as a float
        ({"data": "[1]"}, "data must be a JSON object, not an array"),
        ({"data": "{"}, "data is not valid JSON: "),
        ({"current_context": 3}, "current_context must be a JSON object, not a number"),
    ],
)
def test_a_wrong_field_is_named_with_what_it_was(change: dict[str, object], description: str) -> None:
    err = refused(json_event(**change))
    assert err.code is ErrorCode.SCHEMA_ERROR
    assert err.description.startswith(description)


def test_strings_with_nul_are_events() -> None:
    # Valid JSON and Avro strings: decoded and sent on as they are.
    event = decode_event(json_event(entity_id="a\x00b", data={"note": "\x00"}))
    assert event.entity_id == "a\x00b"
    assert_sendable(event)


def test_avro_with_trailing_bytes_is_read_as_fastavro_reads_it() -> None:
    value = encode_avro(SAMPLES[0])
    assert decode_event(value + b"\xff\x00garbage") == decode_event(value)


# The sample's datum: event_id "evt-0" (0A, 5 bytes), event_time (6 bytes), entity "Object" (0C ...), ...
@pytest.mark.parametrize(
    ("damage", "description"),
    [
        (lambda v: v[:-1], "at field data: a string runs past the end of the datum"),
        (lambda v: v[:11], "at field event_id: a string runs past the end of the datum"),
        (lambda v: v[:10] + b"\xff" * 12, "at field event_id: a number is longer than 10 bytes"),
        (lambda v: v[:16] + b"\x80" * 20, "at field event_time: a number is longer than 10 bytes"),
        (lambda v: v[:22] + b"\xfe\x0f" + v[23:], "at field entity: a string runs past the end"),
        (lambda v: v[:23] + b"\xff" + v[24:], "at field entity: 'utf-8' codec can't decode byte 0xff"),
        (
            lambda v: v.replace(b"\x02\x0e", b"\x04\x0e", 1),
            "at field channel: a union branch is out of range",
        ),
        (
            lambda v: v.replace(b"\x02\x0e", b"\x01\x0e", 1),
            "at field channel: a union branch is out of range",
        ),
        # Found by fuzzing: a string length beyond sys.maxsize made naming the field raise OverflowError.
        (
            lambda v: v[:10] + b"\x80" * 9 + b"\x0a" + v[11:],
            "at field event_id: a string runs past the end of the datum",
        ),
        # Found by fuzzing: 11 bytes of varint, which fastavro reads (wrapped) without complaint.
        (
            lambda v: v.replace(b"\x02\x0e", b"\x02" + b"\x80" * 10 + b"\x01", 1),
            "at field channel: a number is longer than 10 bytes",
        ),
    ],
)
def test_damaged_avro_is_an_avro_error_naming_the_field(
    damage: Callable[[bytes], bytes], description: str
) -> None:
    value = encode_avro(SAMPLES[0])
    assert value[10:17] == b"\x0aevt-0\xf4"
    assert value[22:24] == b"\x0cO"
    err = refused(damage(value))
    assert err.code is ErrorCode.AVRO_ERROR
    assert err.description.startswith(f"the Avro datum cannot be read {description}")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda v: b"", "the record has no value"),
        (lambda v: v[:-1], "cannot be read"),
        (lambda v: v[:12], "cannot be read"),
        (lambda v: v[:10] + b"\xff" * 30, "cannot be read"),
        (lambda v: v[:10] + b"\x80" * 30, "cannot be read"),
        (lambda v: v[:10] + b"\x04\xff\xfe" + v[13:], "cannot be read"),  # webhook_id not UTF-8
        (lambda v: b"\x00" + v[1:], "unknown single-object header"),
    ],
)
def test_damaged_delivery_records_are_a_value_error(damage: Callable[[bytes], bytes], message: str) -> None:
    # Before: EOFError, UnicodeDecodeError and the like escaped decode_delivery.
    with pytest.raises(ValueError, match=message):
        decode_delivery(damage(encode_delivery(sample_delivery(SAMPLES[1], 2))))


def test_a_delivery_record_with_an_invalid_event_is_a_value_error_naming_it() -> None:
    value = encode_delivery(sample_delivery(SAMPLES[0], 1))
    broken = value.replace(b"\x02\x0e", b"\x02" + zigzag(2**40), 1)  # the event's channel, 7
    with pytest.raises(
        ValueError, match="the delivery record's event is invalid: channel must be an integer"
    ):
        decode_delivery(broken)


def test_a_delivery_record_with_a_time_out_of_range_is_a_value_error() -> None:
    record = sample_delivery(SAMPLES[0], 0)
    value = encode_delivery(record)
    millis = zigzag(int(record.first_attempt_at.timestamp() * 1000))
    assert value.count(millis) == 1
    with pytest.raises(ValueError, match="cannot be read"):
        decode_delivery(value.replace(millis, zigzag(2**62)))


def test_zigzag_writes_what_fastavro_writes() -> None:
    for number in (0, -1, 1, 63, -64, 64, 2**31, -(2**63)):
        assert zigzag(number) == fastavro_long(number)


def fastavro_long(number: int) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, "long", number)
    return buf.getvalue()
