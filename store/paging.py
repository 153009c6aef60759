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

__all__ = ["Position", "decode_cursor", "encode_cursor"]


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
    if not isinstance(position.id, int) or position.last_attempt_at.utcoffset() is None:
        raise InvalidCursor(f"not a page cursor: {cursor!r}")
    return position
