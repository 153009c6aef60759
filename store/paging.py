"""Opaque page cursors for the failed-events list.

Pages are keyset pages on (last attempt time, id), newest first: unlike offsets, a failed event
arriving while an operator pages through never shifts the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from store.errors import InvalidCursor

__all__ = [
    "Position",
    "RequestPosition",
    "decode_cursor",
    "decode_request_cursor",
    "encode_cursor",
    "encode_request_cursor",
]


def _is_row_id(value: object) -> bool:
    # Within a 64-bit signed integer: a larger one would make the database driver fail, not the cursor.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


@dataclass(frozen=True, slots=True)
class Position:
    """The sort key of the last item of a page; the next page starts strictly after it."""

    last_attempt_at: datetime
    id: int


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.last_attempt_at.isoformat(), position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, id_ = json.loads(raw)
        position = Position(datetime.fromisoformat(at), id_)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor(f"not a page cursor: {cursor!r}") from exc
    if not _is_row_id(position.id) or position.last_attempt_at.utcoffset() is None:
        raise InvalidCursor(f"not a page cursor: {cursor!r}")
    return position


@dataclass(frozen=True, slots=True)
class RequestPosition:
    """The sort key of the request log's last item shown: time, then state, then id (newest first)."""

    at: datetime
    state: str
    id: int


def encode_request_cursor(position: RequestPosition) -> str:
    raw = json.dumps([position.at.isoformat(), position.state, position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_request_cursor(cursor: str) -> RequestPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, state, id_ = json.loads(raw)
        position = RequestPosition(datetime.fromisoformat(at), state, id_)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor(f"not a page cursor: {cursor!r}") from exc
    if not (
        _is_row_id(position.id) and isinstance(position.state, str) and position.at.utcoffset() is not None
    ):
        raise InvalidCursor(f"not a page cursor: {cursor!r}")
    return position
