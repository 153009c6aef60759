"""The retry schedule: which retry topic a failed delivery waits on, and when it is due.

Retry topics form a ladder of fixed delays (``<prefix>.retry.1m``, ``.5m``,
``.15m``, ``.1h`` by default, plus each subscription's own interval). Every
record on one topic waits the same delay, so due times rise with offsets and
the retry consumer, which pauses a partition until its head is due, never
makes a record wait past its own due time.

- A failure with attempts left waits on the rung of its subscription's interval.
- A ``Retry-After`` longer than that picks the smallest rung that covers it
  (capped by ``retry_after_cap``): the next attempt is later, never earlier,
  and it holds up no other subscription's retries.
- A delivery that was never sent (``endpoint_busy``, ``circuit_open``) waits on
  the lowest rung without using up an attempt, up to :data:`MAX_DEFERRALS` times.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import timedelta

from sender.codes import ErrorCode

__all__ = ["DEFAULT_RUNGS", "MAX_DEFERRALS", "NEVER_SENT", "RetryLadder"]

DEFAULT_RUNGS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
#: Failures that mean the request never left: trying again later costs the subscriber nothing.
NEVER_SENT = frozenset({ErrorCode.ENDPOINT_BUSY, ErrorCode.CIRCUIT_OPEN})
#: How often one attempt may be put off unsent before it counts as an attempt after all.
MAX_DEFERRALS = 10


class RetryLadder:
    """The rungs in force: the defaults, the subscriptions' intervals and the Retry-After cap."""

    def __init__(
        self,
        intervals: Iterable[timedelta],
        retry_after_cap: float,
        base: Iterable[timedelta] = DEFAULT_RUNGS,
    ) -> None:
        rungs = {*base, *intervals}
        if retry_after_cap > 0:
            rungs.add(timedelta(seconds=retry_after_cap))
        self.rungs = tuple(sorted(rung for rung in rungs if rung > timedelta(0)))
        self._seconds = [rung.total_seconds() for rung in self.rungs]
        self._cap = retry_after_cap

    def rung(self, interval: timedelta, retry_after: float | None = None) -> timedelta:
        """The delay of the next attempt after a failure: the interval, or a higher rung for Retry-After."""
        if retry_after is None or retry_after <= interval.total_seconds():
            return interval
        wanted = min(retry_after, self._cap)
        if wanted <= interval.total_seconds():
            return interval
        return self.rungs[min(bisect.bisect_left(self._seconds, wanted), len(self.rungs) - 1)]

    @property
    def lowest(self) -> timedelta:
        """Where a delivery that was never sent waits before it is tried again."""
        return self.rungs[0]
