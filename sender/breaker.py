"""A circuit breaker per endpoint: stop sending to an endpoint that mostly fails.

Closed: results are counted in a sliding window of buckets; once at least
``min_requests`` results are in the window and the failure rate reaches
``failure_rate``, the circuit opens. Open: nothing is sent for ``open_for``
seconds. Half-open: up to ``half_open_probes`` deliveries probe; a success
closes the circuit, a failure opens it again.

Every permit carries the breaker's generation, so a result that arrives after
the state changed (a slow request from before the circuit opened) is ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from .settings import BreakerSettings

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]

_BUCKETS = 10


class CircuitBreaker:
    __slots__ = (
        "_bucket_ids",
        "_bucket_width",
        "_clock",
        "_failures",
        "_generation",
        "_last_failure",
        "_opened_at",
        "_probes",
        "_settings",
        "_state",
        "_totals",
    )

    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._bucket_width = settings.window / _BUCKETS
        self._bucket_ids = [-1] * _BUCKETS
        self._totals = [0] * _BUCKETS
        self._failures = [0] * _BUCKETS
        self._state: BreakerState = "closed"
        self._generation = 0
        self._opened_at = 0.0
        self._probes = 0
        self._last_failure = -_BUCKETS

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._clock() - self._opened_at >= self._settings.open_for:
            return "half_open"
        return self._state

    def acquire(self) -> int | None:
        """A permit (the generation) to send one request, or None while the circuit is open."""
        if self._state == "closed":
            return self._generation
        if self._state == "open":
            if self._clock() - self._opened_at < self._settings.open_for:
                return None
            self._transition("half_open")
        if self._probes >= self._settings.half_open_probes:
            return None
        self._probes += 1
        return self._generation

    def record(self, permit: int, failure: bool | None) -> None:
        """The result of a permitted request; None when it ended without a verdict (cancelled)."""
        if permit != self._generation:
            return
        if self._state == "half_open":
            self._probes -= 1
            if failure is not None:
                self._transition("open" if failure else "closed")
            return
        if failure is None:
            return
        now = self._clock()
        bucket = int(now / self._bucket_width)
        slot = bucket % _BUCKETS
        if self._bucket_ids[slot] != bucket:
            self._bucket_ids[slot] = bucket
            self._totals[slot] = 0
            self._failures[slot] = 0
        self._totals[slot] += 1
        if failure:
            self._failures[slot] += 1
            self._last_failure = bucket
        elif bucket - self._last_failure >= _BUCKETS:
            return  # no failure in the window: the rate is zero (the usual case, checked cheaply)
        self._trip_if_needed(bucket)

    def _trip_if_needed(self, bucket: int) -> None:
        oldest = bucket - _BUCKETS + 1
        total = failures = 0
        for slot in range(_BUCKETS):
            if self._bucket_ids[slot] >= oldest:
                total += self._totals[slot]
                failures += self._failures[slot]
        if total >= self._settings.min_requests and failures >= self._settings.failure_rate * total:
            self._transition("open")

    def _transition(self, state: BreakerState) -> None:
        self._state = state
        self._generation += 1
        self._probes = 0
        if state == "open":
            self._opened_at = self._clock()
        elif state == "closed":
            self._bucket_ids = [-1] * _BUCKETS
