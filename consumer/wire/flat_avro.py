"""Avro binary decoding of flat records, at under half the cost of fastavro's reader.

fastavro reads a datum field by field through a file object, about 0.7 µs a
field; a domain event has 13, which made decoding the largest share of
hookstream's own work per event. A record whose fields are all strings, ints or
longs (``timestamp-millis`` included, read as its number), each possibly in a
union with null, is read here by a function written for the schema when the
reader is built, as ``collections.namedtuple`` writes its classes: straight-line
code per field, with no loop over a table of types (that loop cost a quarter
more). Every other schema is refused with :class:`UnsupportedSchema`: the
codec builds its reader from domain_event.avsc at first use, so a schema change
that leaves this reader's reach stops the service at start, not mid-stream.

Kept for speed, with its measurement and when to drop it: docs/adr/0002-flat-avro-reader.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FlatRecordReader", "UnsupportedSchema"]

_PRIMITIVES = {"string": "string", "int": "long", "long": "long"}
# A zigzag varint longer than this is corrupt (a long is 64 bits); stopping there also
# keeps a run of continuation bytes from growing one enormous integer.
_MAX_SHIFT = 63


class UnsupportedSchema(ValueError):
    """The schema is not a record of strings, ints and longs (possibly nullable)."""


class FlatRecordReader:
    """Reads the datums of one flat record schema; :attr:`names` are its fields, in order."""

    __slots__ = ("names", "read", "source")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        if schema.get("type") != "record":
            raise UnsupportedSchema("not a record")
        self.names: tuple[str, ...] = tuple(field["name"] for field in schema["fields"])
        kinds = [_field_kind(field["type"]) for field in schema["fields"]]
        #: The reader's code, for reading and debugging.
        self.source = _source(kinds)
        namespace: dict[str, Any] = {"_long_varint": _long_varint}
        exec(self.source, namespace)  # noqa: S102 - the code is ours, built from field kinds only
        #: ``read(data, pos)``: the field values of the datum at ``data[pos:]``, in order.
        #: Raises ValueError when the datum is cut short or corrupt; bytes after it are
        #: ignored, as fastavro does.
        self.read: Callable[..., list[Any]] = namespace["read"]


def _field_kind(avro_type: Any) -> tuple[int, str]:
    """The union branch that is null (-1 when not a union), and ``string`` or ``long``."""
    if isinstance(avro_type, list):
        if len(avro_type) != 2 or "null" not in avro_type:
            raise UnsupportedSchema(f"union {avro_type!r}")
        null_branch = avro_type.index("null")
        return null_branch, _field_kind(avro_type[1 - null_branch])[1]
    if isinstance(avro_type, dict):
        avro_type = avro_type.get("type")
    kind = _PRIMITIVES.get(avro_type) if isinstance(avro_type, str) else None
    if kind is None:
        raise UnsupportedSchema(f"type {avro_type!r}")
    return -1, kind


# Numbers below 64 take one byte: that case is decoded inline, longer ones by _long_varint.
_NUMBER = """\
b = data[pos]
pos += 1
if b < 0x80:
    n = (b >> 1) ^ -(b & 1)
else:
    n, pos = _long_varint(data, pos, b)
"""
_STRING = """\
end = pos + n
if n < 0 or end > size:
    raise ValueError("a string runs past the end of the datum")
{value} = data[pos:end].decode()
pos = end
"""
_UNION = """\
b = data[pos]
pos += 1
if b == {null}:
    {value} = None
elif b != {other}:
    raise ValueError("a union branch is out of range")
else:
"""


def _source(kinds: list[tuple[int, str]]) -> str:
    body: list[str] = []
    for i, (null_branch, kind) in enumerate(kinds):
        value = f"v{i}"
        lines = _NUMBER + (_STRING.format(value=value) if kind == "string" else f"{value} = n\n")
        if null_branch >= 0:
            # Branch indexes are zigzag varints too: 0 is 0x00, 1 is 0x02.
            body.append(_UNION.format(null=2 * null_branch, other=2 * (1 - null_branch), value=value))
            lines = _indent(lines, 1)
        body.append(lines)
    values = ", ".join(f"v{i}" for i in range(len(kinds)))
    return (
        "def read(data, pos=0):\n"
        "    size = len(data)\n"
        "    try:\n"
        f"{_indent(''.join(body), 2)}"
        "    except IndexError:\n"
        '        raise ValueError("the datum ends in the middle of a number") from None\n'
        f"    return [{values}]\n"
    )


def _indent(text: str, levels: int) -> str:
    pad = "    " * levels
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _long_varint(data: bytes, pos: int, byte: int) -> tuple[int, int]:
    """The zigzag-encoded long whose first byte (``byte``) came before ``pos``, and the position after it."""
    number = byte & 0x7F
    shift = 7
    while byte & 0x80:
        if shift > _MAX_SHIFT:
            raise ValueError("a number is longer than 10 bytes")
        byte = data[pos]
        pos += 1
        number |= (byte & 0x7F) << shift
        shift += 7
    return (number >> 1) ^ -(number & 1), pos
