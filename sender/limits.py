"""Isolation of one endpoint from the others: an in-flight limit and a circuit breaker."""

from __future__ import annotations

import asyncio
from collections import deque

from .breaker import CircuitBreaker
from .settings import BreakerSettings

__all__ = ["EndpointGuard", "counts_as_failure"]

# Failures that say the endpoint is unhealthy. A 4xx other than 429 means it is
# up and answering, so it does not trip the breaker; ssrf_blocked and
# configuration errors never reach the endpoint at all.
_UNHEALTHY_CODES = frozenset(
    {"timeout", "connect_error", "connection_error", "dns_error", "tls_error", "429"}
)


def counts_as_failure(error_code: str | None, status: int | None) -> bool:
    if error_code is None:
        return False
    if error_code in _UNHEALTHY_CODES:
        return True
    # A 5xx counts only when it is the whole story: a SOAP fault comes with a 500
    # from a service that is up and answering.
    return status is not None and status >= 500 and error_code == str(status)


class EndpointGuard:
    """Shared by every target that delivers to one endpoint URL.

    At most ``limit`` deliveries run at once; the next ones queue for a slot for
    up to ``queue_wait`` seconds. A healthy endpoint frees slots quickly, so a
    burst simply queues; a slow or dead one keeps them, and its queued
    deliveries give up (``endpoint_busy``) and take the retry path instead of
    holding back the input.

    Waiters queue in arrival order, so their deadlines are in order too: one
    timer for the head of the queue expires them all, where a timeout per waiter
    would cost a timer each (a measurable share of the hot path under a burst).
    """

    __slots__ = ("_free", "_sweeper", "_waiters", "breaker", "in_flight", "limit", "queue_wait")

    def __init__(self, limit: int, breaker: BreakerSettings, queue_wait: float = 5.0) -> None:
        self.limit = limit
        self.queue_wait = queue_wait
        self.in_flight = 0
        self.breaker = CircuitBreaker(breaker)
        self._free = limit
        self._waiters: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None

    async def acquire(self) -> bool:
        """Take a slot, waiting up to ``queue_wait``; False when none came free in time."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        if self.queue_wait <= 0:
            return False
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[bool] = loop.create_future()
        self._waiters.append((loop.time() + self.queue_wait, granted))
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._waiters[0][0], self._sweep, loop)
        try:
            return await granted
        except asyncio.CancelledError:
            # Cancelled after a slot was handed over but before it was used: pass it on.
            if granted.done() and not granted.cancelled() and granted.result():
                self.release()
            raise

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            _deadline, granted = waiters.popleft()
            if not granted.done():
                granted.set_result(True)
                return
        self._free += 1

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper = None
        waiters = self._waiters
        now = loop.time()
        while waiters and (waiters[0][0] <= now or waiters[0][1].done()):
            _deadline, granted = waiters.popleft()
            if not granted.done():
                granted.set_result(False)
        if waiters:
            self._sweeper = loop.call_at(waiters[0][0], self._sweep, loop)
