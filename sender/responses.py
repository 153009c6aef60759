"""Reading what a receiver answered, within bounds."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC

import aiohttp

__all__ = ["parse_retry_after", "read_capped"]


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """At most ``cap`` bytes of the body. A longer body is left unread; its connection is then dropped."""
    length = response.content_length
    if length is not None and length <= cap:
        return await response.read()
    buffer = bytearray()
    while len(buffer) < cap:
        chunk = await response.content.read(cap - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After``: delay-seconds or an HTTP date; None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
