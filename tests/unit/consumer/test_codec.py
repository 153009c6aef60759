from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from consumer.dev.samples import sample_events
from consumer.wire.codec import InvalidEvent, decode_event, encode_avro, encode_json


def _event() -> dict[str, object]:
    return next(sample_events(1))


@pytest.mark.parametrize("encode", [encode_avro, encode_json])
def test_round_trip(encode: Callable[[Mapping[str, Any]], bytes]) -> None:
    source = _event()
    event = decode_event(encode(source))
    assert event.event_id == source["event_id"]
    assert event.entity == "Object"
    assert event.channel == 7
    assert event.data["customer"]["id"] == "cust-0"
    assert event.current_context == source["current_context"]
    assert event.event_time.tzinfo is not None


def test_epoch_millis_event_time() -> None:
    doc = {**_event(), "event_time": 1_700_000_000_123}
    event = decode_event(encode_json(doc))
    assert event.event_time == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"", "empty"),
        (b"\x00\x01garbage", "unknown_format"),
        (b"{not json", "json_error"),
        (b"[1, 2]", "schema_error"),
        (b"\xc3\x01" + b"\x00" * 8 + b"xx", "unknown_schema"),
    ],
)
def test_garbage_is_named(value: bytes, code: str) -> None:
    with pytest.raises(InvalidEvent) as err:
        decode_event(value)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event_id": None}, "event_id is required"),
        ({"entity": 5}, "entity is required"),
        ({"channel": "seven"}, "channel must be an integer"),
        ({"data": [1]}, "data must be a JSON object"),
        ({"data": None}, "data is required"),
        ({"event_time": "yesterday"}, "event_time is not ISO-8601"),
    ],
)
def test_schema_invalid_json_is_refused_with_a_reason(change: dict[str, object], message: str) -> None:
    doc = {**_event(), **change}
    with pytest.raises(InvalidEvent, match=message) as err:
        decode_event(encode_json(doc))
    assert err.value.code == "schema_error"


def test_truncated_avro_is_refused() -> None:
    value = encode_avro(_event())
    with pytest.raises(InvalidEvent) as err:
        decode_event(value[:20])
    assert err.value.code == "avro_error"


def test_avro_with_broken_utf8_or_an_impossible_time_is_refused() -> None:
    source = _event()
    value = encode_avro(source)
    event_id = str(source["event_id"]).encode()
    with pytest.raises(InvalidEvent) as err:
        decode_event(value.replace(event_id, b"\xff" + event_id[1:]))
    assert err.value.code == "avro_error"
    # event_time is the second field, right after the event id: a huge number of milliseconds.
    at = value.index(event_id) + len(event_id)
    huge = value[:at] + b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01" + value[at + 6 :]
    with pytest.raises(InvalidEvent, match="event_time is out of range") as err:
        decode_event(huge)
    assert err.value.code == "schema_error"
