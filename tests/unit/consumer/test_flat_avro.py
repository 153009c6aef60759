"""The flat-record reader reads exactly what fastavro writes, and refuses what it cannot read."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.wire.codec import event_schema
from consumer.wire.flat_avro import FlatRecordReader, UnsupportedSchema

LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
INTS = st.integers(min_value=-(2**31), max_value=2**31 - 1)
STRINGS = st.text(max_size=300)

# Every field type the reader supports, with values fastavro can write for it.
FIELD_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    ("string", STRINGS),
    ("int", INTS),
    ("long", LONGS),
    ({"type": "long", "logicalType": "timestamp-millis"}, LONGS),
    (["null", "string"], st.none() | STRINGS),
    (["string", "null"], st.none() | STRINGS),
    (["null", "long"], st.none() | LONGS),
    (["int", "null"], st.none() | INTS),
]


@st.composite
def schemas_and_records(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    picks = draw(st.lists(st.sampled_from(FIELD_TYPES), min_size=1, max_size=15))
    fields = [{"name": f"f{i}", "type": avro_type} for i, (avro_type, _) in enumerate(picks)]
    record = {f"f{i}": draw(values) for i, (_, values) in enumerate(picks)}
    return {"type": "record", "name": "R", "fields": fields}, record


def _parsed(schema: dict[str, Any]) -> dict[str, Any]:
    parsed = fastavro.parse_schema(schema)
    assert isinstance(parsed, dict)  # a record schema parses to a dict
    return parsed


def _write(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    # Logical types are written from their number, so what is read back can be compared as is.
    plain = {
        **schema,
        "fields": [{**f, "type": "long"} if isinstance(f["type"], dict) else f for f in schema["fields"]],
    }
    fastavro.schemaless_writer(buf, fastavro.parse_schema(plain), record)
    return buf.getvalue()


@given(schemas_and_records(), st.binary(max_size=3))
def test_reads_what_fastavro_writes(case: tuple[dict[str, Any], dict[str, Any]], prefix: bytes) -> None:
    schema, record = case
    reader = FlatRecordReader(_parsed(schema))
    values = reader.read(prefix + _write(schema, record), len(prefix))
    assert dict(zip(reader.names, values, strict=True)) == record


@given(schemas_and_records(), st.data())
def test_a_cut_or_corrupted_datum_raises_value_error_and_nothing_else(
    case: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    schema, record = case
    datum = bytearray(_write(schema, record))
    reader = FlatRecordReader(_parsed(schema))
    cut = data.draw(st.integers(min_value=0, max_value=len(datum) - 1))
    with pytest.raises(ValueError, match=r"ends in the middle of a number|runs past the end"):
        reader.read(bytes(datum[:cut]))
    # A flipped byte may still make a readable datum; when it does not, the error is a ValueError.
    at = data.draw(st.integers(min_value=0, max_value=len(datum) - 1))
    datum[at] = data.draw(st.integers(min_value=0, max_value=255))
    with contextlib.suppress(ValueError):
        reader.read(bytes(datum))


def test_a_number_longer_than_ten_bytes_is_refused() -> None:
    reader = FlatRecordReader({"type": "record", "name": "R", "fields": [{"name": "n", "type": "long"}]})
    with pytest.raises(ValueError, match="longer than 10 bytes"):
        reader.read(b"\xff" * 100_000 + b"\x00")


def test_a_union_branch_out_of_range_is_refused() -> None:
    reader = FlatRecordReader(
        {"type": "record", "name": "R", "fields": [{"name": "s", "type": ["null", "string"]}]}
    )
    with pytest.raises(ValueError, match="union branch"):
        reader.read(b"\x04\x02a")


@pytest.mark.parametrize(
    "avro_type",
    [
        "double",
        "boolean",
        "bytes",
        ["null", "string", "long"],
        ["string", "long"],
        {"type": "array", "items": "long"},
    ],
)
def test_other_schemas_are_left_to_fastavro(avro_type: Any) -> None:
    with pytest.raises(UnsupportedSchema):
        FlatRecordReader({"type": "record", "name": "R", "fields": [{"name": "x", "type": avro_type}]})


def test_the_domain_event_schema_is_flat() -> None:
    schema, _header = event_schema()
    assert len(FlatRecordReader(schema).names) == len(schema["fields"])
