"""Isolation of one endpoint from the others: an in-flight limit and a circuit breaker."""

from __future__ import annotations

import asyncio

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
    """

    __slots__ = ("_slots", "breaker", "in_flight", "limit", "queue_wait")

    def __init__(self, limit: int, breaker: BreakerSettings, queue_wait: float = 5.0) -> None:
        self.limit = limit
        self.queue_wait = queue_wait
        self.in_flight = 0
        self.breaker = CircuitBreaker(breaker)
        self._slots = asyncio.Semaphore(limit)

    async def acquire(self) -> bool:
        """Take a slot, waiting up to ``queue_wait``; False when none came free in time."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: no suspension
            return True
        try:
            async with asyncio.timeout(self.queue_wait):
                await self._slots.acquire()
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._slots.release()
