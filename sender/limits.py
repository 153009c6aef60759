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
    burst simply queues. An endpoint that has all its slots and finishes none
    for ``stall_after`` seconds is stalled: its queued deliveries, and any that
    come while it stays so, give up at once (``endpoint_busy``) and take the
    retry path, so that its events do not hold the input's in-flight budget
    that other endpoints' events need.

    Waiters queue in arrival order, so their deadlines are in order too: one
    timer for the head of the queue expires them all, where a timeout per waiter
    would cost a timer each (a measurable share of the hot path under a burst).
    """

    __slots__ = (
        "_free",
        "_loop",
        "_progress_at",
        "_sweeper",
        "_waiters",
        "breaker",
        "in_flight",
        "limit",
        "queue_wait",
        "stall_after",
    )

    def __init__(
        self, limit: int, breaker: BreakerSettings, queue_wait: float = 5.0, stall_after: float = 1.0
    ) -> None:
        self.limit = limit
        self.queue_wait = queue_wait
        self.stall_after = stall_after
        self.in_flight = 0
        self.breaker = CircuitBreaker(breaker)
        self._free = limit
        self._waiters: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # When a slot was last freed, or when the last free slot was taken: a full
        # guard that has made no progress since then for stall_after is stalled.
        self._progress_at = 0.0

    async def acquire(self) -> bool:
        """Take a slot, waiting up to ``queue_wait``; False when none came free in time."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            if self._free == 0:
                self._progress_at = asyncio.get_running_loop().time()
            return True
        if self.queue_wait <= 0:
            return False
        loop = self._loop = asyncio.get_running_loop()
        now = loop.time()
        if self._stalled(now):
            return False
        granted: asyncio.Future[bool] = loop.create_future()
        self._waiters.append((now + self.queue_wait, granted))
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._next_sweep(), self._sweep)
        try:
            return await granted
        except asyncio.CancelledError:
            # Cancelled after a slot was handed over but before it was used: pass it on.
            if granted.done() and not granted.cancelled() and granted.result():
                self.release()
            raise

    def release(self) -> None:
        waiters = self._waiters
        if waiters and self._loop is not None:
            self._progress_at = self._loop.time()
        while waiters:
            _deadline, granted = waiters.popleft()
            if not granted.done():
                granted.set_result(True)
                return
        self._free += 1

    def _stalled(self, now: float) -> bool:
        return self._free == 0 and now - self._progress_at >= self.stall_after

    def _next_sweep(self) -> float:
        deadline = self._waiters[0][0]
        return min(deadline, self._progress_at + self.stall_after) if self._free == 0 else deadline

    def _sweep(self) -> None:
        self._sweeper = None
        loop, waiters = self._loop, self._waiters
        assert loop is not None
        now = loop.time()
        stalled = self._stalled(now)
        while waiters and (stalled or waiters[0][0] <= now or waiters[0][1].done()):
            _deadline, granted = waiters.popleft()
            if not granted.done():
                granted.set_result(False)
        if waiters:
            self._sweeper = loop.call_at(self._next_sweep(), self._sweep)
