"""One endpoint's lane: its slots, its queue and its circuit breaker.

Every target that posts to one endpoint URL shares its :class:`Lane`. At most
``limit`` deliveries run at once, each on one of the lane's worker tasks; the
next ones wait in the lane's queue, as plain :class:`Job` objects, for up to
``queue_wait`` seconds. A worker takes the next job as soon as it finishes one
and ends when the queue is empty, so an idle endpoint costs nothing.

Queued deliveries are data, not suspended tasks: under a burst a thousand
waiting deliveries cost a thousand small objects, where a task each (with its
stack of coroutines and a future to wake it) cost a fifth of the throughput.

An endpoint that holds all its slots and finishes none of them for
``stall_after`` seconds, or for three times its recent time per delivery if that
is longer (a slow endpoint is not a stalled one), is stalled: its queued
deliveries, and any that come while it stays so, end at once as
``endpoint_busy`` and wait on the retry path without using up an attempt, so
that they do not hold the input's in-flight budget that other endpoints need.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any, Protocol

from .breaker import CircuitBreaker
from .codes import ErrorCode, counts_against_endpoint
from .outcome import Message, Outcome, Waiter
from .settings import BreakerSettings

__all__ = ["Job", "Lane"]

log = logging.getLogger(__name__)


_CIRCUIT_OPEN = Outcome(
    ok=False, error_code=ErrorCode.CIRCUIT_OPEN, description="the endpoint's circuit breaker is open"
)


def _fields(message: Message, waiter: Waiter | None) -> dict[str, Any]:
    # The sender knows no Kafka record nor subscription: a waiter's log_fields() may name them.
    fields = getattr(waiter, "log_fields", None)
    return {"webhook_id": message.webhook_id, **(fields() if callable(fields) else {})}


class Attempts(Protocol):
    """A prepared target: makes one attempt of a message (see :mod:`sender.attempt`)."""

    def attempt(self, message: Message) -> Awaitable[Outcome]: ...


class Job:
    """One delivery in a lane: what to send, and whom to tell how it went."""

    __slots__ = ("deadline", "message", "permit", "target", "waiter", "worker")

    def __init__(self, target: Attempts | None, message: Message, waiter: Waiter) -> None:
        self.target = target
        self.message = message
        self.waiter: Waiter | None = waiter
        self.permit = 0
        self.deadline = 0.0
        self.worker: asyncio.Task[None] | None = None

    def settle(self, outcome: Outcome) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is None:
            return  # abandoned by its caller
        try:
            waiter.settle(outcome)
        except Exception:
            log.exception("a delivery's outcome handler failed", extra=_fields(self.message, waiter))


class Lane:
    """The deliveries to one endpoint URL; ``run`` makes one attempt of one job."""

    __slots__ = (
        "_closed",
        "_latency",
        "_loop",
        "_progress_at",
        "_queue",
        "_sweeper",
        "_workers",
        "breaker",
        "in_flight",
        "limit",
        "queue_wait",
        "stall_after",
    )

    def __init__(
        self,
        limit: int,
        breaker: BreakerSettings,
        queue_wait: float = 5.0,
        stall_after: float = 1.0,
    ) -> None:
        self.limit = limit
        self.queue_wait = queue_wait
        self.stall_after = stall_after
        self.breaker = CircuitBreaker(breaker)
        self.in_flight = 0
        self._queue: deque[Job] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # When a delivery last finished, or when the last free slot was taken: a full
        # lane that has finished nothing since then for stall_after is stalled.
        self._progress_at = 0.0
        # The endpoint's recent time per delivery (moving average): a slow endpoint is not a stalled one.
        self._latency = 0.0
        self._closed = False

    @property
    def queued(self) -> int:
        """Deliveries waiting for a slot (abandoned ones included until a worker or the sweep drops them)."""
        return len(self._queue)

    def submit(self, job: Job) -> None:
        """Start ``job`` on a free slot, or queue it; its outcome may be settled before this returns."""
        # The breaker first: an open circuit answers at once instead of after queueing for a slot.
        permit = self.breaker.acquire()
        if permit is None:
            job.settle(_CIRCUIT_OPEN)
            return
        job.permit = permit
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if len(self._workers) < self.limit:
            self._start(job)
            return
        now = loop.time()
        if self.queue_wait <= 0 or self._stalled(now):
            self._refuse(job, now)
            return
        job.deadline = now + self.queue_wait
        self._queue.append(job)
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._next_sweep(), self._sweep)

    def abandon(self, job: Job) -> None:
        """The caller no longer wants ``job``: drop it from the queue, or cancel its request."""
        job.waiter = None
        if job.worker is not None:
            job.worker.cancel()

    def close(self) -> list[asyncio.Task[None]]:
        """Cancel every delivery under way and drop the queue; returns the workers to await."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._queue.clear()
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        return workers

    # -- workers ---------------------------------------------------------------------

    def _start(self, job: Job) -> None:
        loop = self._loop
        assert loop is not None
        worker = loop.create_task(self._work(job))
        self._workers.add(worker)
        if len(self._workers) == self.limit:
            self._progress_at = loop.time()

    async def _work(self, job: Job | None) -> None:
        loop = self._loop
        assert loop is not None
        worker = asyncio.current_task()
        try:
            while job is not None:
                job.worker = worker
                self.in_flight += 1
                failure: bool | None = None
                started = loop.time()
                try:
                    assert job.target is not None  # only a job refused before preparation has none
                    outcome = await job.target.attempt(job.message)
                    failure = counts_against_endpoint(outcome.error_code, outcome.status)
                except Exception as exc:  # a fault of hookstream's, not of the delivery
                    log.exception("delivery failed inside the sender", extra=_fields(job.message, job.waiter))
                    outcome = Outcome(ok=False, error_code=ErrorCode.INTERNAL_ERROR, description=repr(exc))
                finally:
                    self.in_flight -= 1
                    job.worker = None
                    self._progress_at = now = loop.time()
                    took = now - started
                    self._latency = took if not self._latency else 0.8 * self._latency + 0.2 * took
                    self.breaker.record(job.permit, failure)
                job.settle(outcome)
                job = self._next()
        finally:
            self._workers.discard(worker)
            # Cancelled with its job (its caller gave up on it): the queue goes on without it.
            if self._queue and not self._closed and len(self._workers) < self.limit:
                successor = self._next()
                if successor is not None:
                    self._start(successor)

    def _next(self) -> Job | None:
        queue = self._queue
        while queue:
            job = queue.popleft()
            if job.waiter is not None:
                return job
            self.breaker.record(job.permit, None)  # abandoned while queued
        return None

    # -- the queue's deadlines ----------------------------------------------------------

    def _stall_limit(self) -> float:
        """How long a full lane may finish nothing: ``stall_after``, or longer for a slow endpoint."""
        return max(self.stall_after, 3 * self._latency)

    def _stalled(self, now: float) -> bool:
        return len(self._workers) >= self.limit and now - self._progress_at >= self._stall_limit()

    def _next_sweep(self) -> float:
        deadline = self._queue[0].deadline
        if len(self._workers) >= self.limit:
            return min(deadline, self._progress_at + self._stall_limit())
        return deadline

    def _sweep(self) -> None:
        """Expire the queue's overdue head, or the whole queue of a stalled lane.

        Jobs queue in arrival order, so their deadlines are in order too: one
        timer for the head expires them all, where a timer per job would cost a
        handle each.
        """
        self._sweeper = None
        loop, queue = self._loop, self._queue
        assert loop is not None
        now = loop.time()
        stalled = self._stalled(now)
        while queue and (stalled or queue[0].deadline <= now or queue[0].waiter is None):
            self._refuse(queue.popleft(), now, stalled)
        if queue:
            self._sweeper = loop.call_at(self._next_sweep(), self._sweep)

    def _refuse(self, job: Job, now: float, stalled: bool | None = None) -> None:
        self.breaker.record(job.permit, None)
        if job.waiter is None:
            return
        if stalled is None:
            stalled = self._stalled(now)
        if stalled:
            description = (
                f"the endpoint finished none of its {self.limit} deliveries under way "
                f"for {now - self._progress_at:.1f}s"
            )
        else:
            description = (
                f"{self.limit} deliveries to this endpoint stayed under way for {self.queue_wait:g}s"
            )
        job.settle(Outcome(ok=False, error_code=ErrorCode.ENDPOINT_BUSY, description=description))
