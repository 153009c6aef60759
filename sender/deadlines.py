"""Deadlines for many requests under one timer.

A timeout per request (aiohttp's ``ClientTimeout(total=...)`` or
``asyncio.timeout``) starts and cancels a loop timer for every request; with
uvloop that was an eighth of the CPU a delivery costs. :class:`Deadlines` keeps
one timer, set for the earliest deadline it holds. A request that ends in time
only leaves the set; when the timer fires, the tasks whose deadline has passed
are cancelled, as ``asyncio.timeout`` would, and the timer is set again for the
earliest deadline left (at most 50 ms late: aiohttp itself rounds a timeout
over 5 s up to a whole second).

Kept for speed, with its measurement and when to drop it: docs/adr/0001-one-timer-for-delivery-deadlines.md.
"""

from __future__ import annotations

import asyncio

__all__ = ["Deadline", "Deadlines"]

# How late a deadline may fire, at most, when others expired just before it.
_RESOLUTION = 0.05


class Deadline:
    """One task's deadline: :meth:`Deadlines.expired` says whether it cancelled the task."""

    __slots__ = ("at", "baseline", "fired", "task")

    def __init__(self, task: asyncio.Task[object], at: float) -> None:
        self.task = task
        self.at = at
        # Cancellations already requested before this deadline was set are not ours to absorb.
        self.baseline = task.cancelling()
        self.fired = False


class Deadlines:
    """The deadlines of the requests under way on one event loop."""

    __slots__ = ("_loop", "_pending", "_timer", "_timer_at")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[Deadline] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def start(self, seconds: float) -> Deadline:
        """Cancel the current task in ``seconds`` unless :meth:`end` comes first."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("a deadline needs a task to cancel")
        deadline = Deadline(task, loop.time() + seconds)
        self._pending.add(deadline)
        if self._timer is None or deadline.at < self._timer_at:
            self._arm(deadline.at)
        return deadline

    def end(self, deadline: Deadline) -> None:
        """The request is over; its deadline no longer applies. The timer stays set: it is cheap to fire."""
        self._pending.discard(deadline)

    def expired(self, deadline: Deadline) -> bool:
        """Call on CancelledError: True when ``deadline`` caused it (the task is then no longer cancelled)."""
        return deadline.fired and deadline.task.uncancel() <= deadline.baseline

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()

    def _arm(self, at: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._fire)

    def _fire(self) -> None:
        assert self._loop is not None
        self._timer = None
        now = self._loop.time()
        expired = [deadline for deadline in self._pending if deadline.at <= now]
        for deadline in expired:
            self._pending.discard(deadline)
            deadline.fired = True
            deadline.task.cancel()
        if self._pending:
            # Not sooner than _RESOLUTION from now: an endpoint that hangs expires a request every
            # few milliseconds, and a scan of every pending deadline for each would add up.
            self._arm(max(min(deadline.at for deadline in self._pending), now + _RESOLUTION))
