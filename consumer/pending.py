"""A record's work that goes on after its handler has returned."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["Pending"]

#: Called once with None (the record's fate is durable) or the error that left it undone.
Then = Callable[[BaseException | None], None]

# The tasks Pending.of() made, until they are done: the event loop itself keeps tasks weakly.
_RUNNING: set[asyncio.Future[None]] = set()


class Pending:
    """Ends once: :meth:`finish` when the record's fate is durable, :meth:`fail` when it is not.

    What a future would be, without the event loop: the callback runs as soon
    as the work ends rather than on the loop's next turn, and one costs a small
    object. Futures and their scheduled callbacks were over 1 % of a delivery's
    CPU, and every consumed record makes one.
    """

    __slots__ = ("_ended", "_error", "_task", "_then")

    def __init__(self) -> None:
        self._ended = False
        self._error: BaseException | None = None
        self._then: Then | None = None
        self._task: asyncio.Future[None] | None = None

    @classmethod
    def of(cls, work: Awaitable[None]) -> Pending:
        """The Pending of a coroutine (run as a task) or a future."""
        pending = cls()
        task = pending._task = asyncio.ensure_future(work)  # held here: the loop keeps tasks weakly
        task.add_done_callback(pending._task_done)
        return pending

    def then(self, callback: Then) -> None:
        """Call ``callback`` when the work ends, or now if it has."""
        if self._ended:
            callback(self._error)
        else:
            self._then = callback

    def finish(self) -> None:
        self._end(None)

    def fail(self, error: BaseException) -> None:
        self._end(error)

    def _end(self, error: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._error = error
        callback, self._then = self._then, None
        if callback is not None:
            callback(error)

    def _task_done(self, task: asyncio.Future[None]) -> None:
        _RUNNING.discard(task)
        if task.cancelled():
            self.fail(asyncio.CancelledError())
        elif (error := task.exception()) is not None:
            self.fail(error)
        else:
            self.finish()
