"""Page cursors round-trip and refuse anything else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import InvalidCursor
from store.paging import Position, decode_cursor, encode_cursor


def test_a_cursor_round_trips() -> None:
    position = Position(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), 42)

    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 !",
        "bm90IGpzb24",  # "not json"
        "WzFd",  # [1]
        "WyIyMDI0LTA1LTAxVDEyOjAwOjAwIiw0Ml0",  # naive time
        "WyIyMDI0LTA1LTAxVDEyOjAwOjAwKzAwOjAwIiwiNDIiXQ",  # id is a string
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
