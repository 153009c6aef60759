"""The growing pause between tries of something that fails for a while (a broker or a database away)."""

from __future__ import annotations

import asyncio

__all__ = ["Backoff"]

_FIRST, _LONGEST = 0.5, 30.0


class Backoff:
    """Half a second, doubling up to thirty: quick to notice a short blip, quiet during a long outage."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next = _FIRST
        """Seconds the next :meth:`wait` sleeps (for the log line that announces it)."""

    async def wait(self) -> None:
        await asyncio.sleep(self.next)
        self.next = min(self.next * 2, _LONGEST)
