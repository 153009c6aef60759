"""The connection pool's permits, handed out first come, first served.

aiohttp's own connection limit lets a fresh request take a released connection
ahead of one that has been waiting for it, which then starves until its
timeout. :class:`Permits` queues the waiting requests in order and hands each
released permit to the oldest. Unlike ``asyncio.Semaphore``, taking a free
permit is a plain call: no coroutine is made for it (``Semaphore.acquire`` and
its ``locked()`` check were 2 % of a delivery's CPU).
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Permits"]


class Permits:
    """At most ``size`` permits out at once."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    def take(self) -> asyncio.Future[None] | None:
        """Take a permit: None when one was free, else a future to pass to :meth:`wait`."""
        if self._free > 0:  # never while requests wait: a released permit goes straight to the oldest
            self._free -= 1
            return None
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    async def wait(self, waiter: asyncio.Future[None]) -> None:
        """Wait for the permit :meth:`take` queued; cancelled, the caller holds none."""
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # handed over just as the caller gave up: pass it on
            raise

    def give_back(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1
