"""The Kafka intake loop shared by the input, retry and dead-letter consumers.

One confluent-kafka consumer hands each record to a handler. While records
come, the event loop takes them without blocking; when none is there, the
consumer is lent to a thread of the intake's own that blocks in ``poll()`` and
hands back the first record the moment it arrives, so a quiet intake neither
spins nor sleeps past a record, and an idle one does not wake the loop at all
(see :meth:`Intake._wait_for_record`).
A handler either finishes at once or returns an awaitable (a coroutine, run as
a task, or a future) that is done when the record's fate is durable; offsets are
stored by hand, only up to the highest contiguous finished offset of each
partition (see :mod:`consumer.kafka.offsets`), and librdkafka's auto-commit
sends what is stored.

A handler may also answer :class:`Defer`: the record is not due yet. The intake
then pauses that partition, rewinds it to the record and resumes it when due —
while it goes on polling, so the group membership never lapses.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from consumer.kafka.backoff import Backoff
from consumer.kafka.offsets import PartitionOffsets

__all__ = ["Defer", "Intake", "RecordHandler", "position"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Defer:
    """The record is due at ``due`` (epoch seconds); do not hand it over before."""

    due: float


def position(msg: Message) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (all set when it carries no error)."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("a consumed record without topic, partition or offset")
    return topic, partition, offset


class RecordHandler(Protocol):
    """What an intake hands its records to."""

    def handle(self, msg: Message) -> Awaitable[None] | Defer | None:
        """None: finished. Defer: not due yet. An awaitable: done once the record's fate is durable."""
        ...

    async def quarantine(self, msg: Message, error: Exception) -> None:
        """Put ``msg`` somewhere durable and visible, because handling it raised ``error``."""
        ...


Key = tuple[str, int]
T = TypeVar("T")

# How often the waiting thread looks whether the loop wants the consumer back: how late, at worst, an
# offset is stored, a partition resumed, the lag read or a stop begun while the intake is quiet.
_LEND_SECONDS = 0.5


class Intake:
    """Consume ``topics`` in group ``config['group.id']`` and hand records to ``handler``."""

    def __init__(
        self,
        config: dict[str, Any],
        topics: list[str],
        handler: RecordHandler,
        *,
        max_in_flight: int = 10_000,
        batch: int = 500,
        pause_after: float = 1.0,
    ) -> None:
        conf = {
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": 500,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 1_000,
            # librdkafka prefetches up to 64 MB by default: with a backlog, some 35 MB more at the peak
            # (make bench soak, 300,000 events: 232 against 196 MB) for seconds' worth of records it
            # cannot hand over faster than max_in_flight lets it. Throughput did not change.
            "queued.max.messages.kbytes": 16_384,
            **config,
        }
        self.group = str(conf["group.id"])
        self._consumer = Consumer(conf)
        self._topics = topics
        self._handler = handler
        self._max_in_flight = max_in_flight
        self._batch = batch
        self._pause_after = pause_after
        # Consuming resumes once this many records have finished, not at each one.
        self._refill = max(1, min(batch, max_in_flight // 8))
        self._room: asyncio.Future[None] | None = None
        self._offsets: dict[Key, PartitionOffsets] = {}
        self._unstored: dict[Key, tuple[PartitionOffsets, int]] = {}
        self._deferred: dict[Key, asyncio.TimerHandle] = {}
        self._deferred_since: dict[Key, float] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self._paused_for_load = False
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"intake-{self.group}")
        self._lent: Future[Message | None] | None = None
        # Set on the loop when it needs the lent consumer back; read by the waiting thread between polls.
        self._wanted = threading.Event()
        self._errands: list[Callable[[], None]] = []
        self.assigned = False
        self.trouble: str | None = None
        """Why a record cannot be set aside right now (see the module's docstring), or None."""

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until :meth:`stop`; then drain within the caller's grace period (see :meth:`drain`)."""
        loop = self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._consumer.subscribe(
            self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        consume = self._consumer.consume
        while not self._stopping.is_set():
            self._run_errands()
            self._flush_stored()
            room = self._max_in_flight - len(self._tasks)
            if room <= 0 and not self._paused_for_load:
                await self._wait_for_room(loop)
                continue
            # Paused for load, consume() still serves rebalances and keeps the membership alive.
            messages = consume(max(1, min(self._batch, room)), 0)
            if not messages:
                msg = await self._wait_for_record(loop)
                if msg is None or self._stopping.is_set():
                    continue  # a record taken after stop is not stored, so it comes again
                messages = [msg]
            for msg in messages:
                self._dispatch(msg)
            await asyncio.sleep(0)

    async def _wait_for_record(self, loop: asyncio.AbstractEventLoop) -> Message | None:
        """Lend the consumer to the intake's thread, blocked in ``poll()`` until a record or a rebalance.

        Polling without blocking on the loop would, when nothing comes, either spin a core or
        sleep between polls, and every sleep is added to the next record's latency. confluent-kafka
        has no way to wake the loop when a record arrives, so a thread waits instead and hands back
        the first record at once; the rest of a burst is taken by the loop's next ``consume()``.
        While nothing comes the thread keeps the consumer, so an idle intake costs the loop nothing.

        librdkafka's consumer is not safe for concurrent calls (and confluent-kafka makes a second
        caller wait until ``poll()`` returns), so while the consumer is lent nothing on the loop's
        thread touches it: what needs it waits in ``_errands`` (see :meth:`_with_consumer`) and asks
        for it back, which takes at most ``_LEND_SECONDS``; a deferred partition's due time ends
        the loan too. Rebalance callbacks run on the thread that polls, and do their bookkeeping on
        the loop (see :meth:`_in_loop`).
        """
        wait: float | None = None
        if self._deferred:
            soonest = min(timer.when() for timer in self._deferred.values())
            wait = max(0.0, soonest - loop.time())
        self._wanted.clear()
        lent = self._lent = self._waiter.submit(self._poll_until_wanted, loop, wait)
        msg = await asyncio.wrap_future(lent)
        self._lent = None
        return msg

    def _poll_until_wanted(self, loop: asyncio.AbstractEventLoop, wait: float | None) -> Message | None:
        """On the intake's thread: poll until a record comes, the loop wants the consumer or ``wait`` ends."""
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            timeout = _LEND_SECONDS if deadline is None else min(_LEND_SECONDS, deadline - time.monotonic())
            msg = self._consumer.poll(max(0.0, timeout))
            # A loop closed without stop() (the process failing) must not leave this thread polling.
            if msg is not None or self._wanted.is_set() or loop.is_closed():
                return msg
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _home(self) -> bool:
        """Whether the loop may call the consumer: it is not lent, or the thread's poll() has returned."""
        return self._lent is None or self._lent.done()

    async def _consumer_back(self) -> None:
        lent = self._lent
        if lent is not None:
            # Whatever the poll returned is not dispatched: its offset is never stored, so it comes again.
            await asyncio.wait([asyncio.wrap_future(lent)])
            self._lent = None

    def _with_consumer(self, errand: Callable[[], None]) -> None:
        """Run ``errand`` now if the consumer is at hand, else as soon as the waiting thread gives it back."""
        if self._home():
            errand()
        else:
            self._errands.append(errand)
            self._wanted.set()

    def _run_errands(self) -> None:
        errands, self._errands = self._errands, []
        for errand in errands:
            errand()

    def _in_loop(self, part: Callable[[], T]) -> T:
        """Run ``part`` on the loop's thread, from whichever thread is polling, and return its result.

        Rebalance callbacks run inside ``poll()``/``consume()``, on the intake's thread or the loop's.
        The intake's state is the loop's alone, so their bookkeeping is done there while the polling
        thread waits; the consumer calls they make stay on the polling thread, the only one allowed
        to call it at that moment. ``part`` must not call the consumer: the loop would wait for the
        polling thread, which waits for the loop.
        """
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            return part()

        async def call() -> T:
            return part()

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    async def _wait_for_room(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait, without consuming, until enough deliveries finish; pause only when they take too long.

        Not consuming leaves what librdkafka prefetched in its queue, whereas
        pausing purges that queue and costs a fetch round trip (about half a
        second) on resume. So the assignment is paused only when no room came
        for ``pause_after`` seconds, to keep serving rebalances while deliveries
        are stuck.
        """
        self._room = room = loop.create_future()
        try:
            async with asyncio.timeout(self._pause_after):
                await room
        except TimeoutError:
            self._paused_for_load = True
            assignment = self._consumer.assignment()
            if assignment:
                self._consumer.pause(assignment)
        finally:
            self._room = None

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()

    async def drain(self, grace: float) -> None:
        """Stop taking records, give in-flight work `grace` seconds, commit what finished, leave."""
        self.stop()
        await self._consumer_back()
        self._run_errands()
        self._waiter.shutdown(wait=False)
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks and loop.time() < deadline:
            self._consumer.consume(self._batch, 0)  # keeps the membership alive; paused, so nothing comes
            await asyncio.wait(set(self._tasks), timeout=0.05)
        if self._tasks:
            log.warning(
                "%d records unfinished after %.0fs; they will be redelivered",
                len(self._tasks),
                grace,
                extra={"group": self.group},
            )
        self._commit_stored()
        for timer in self._deferred.values():
            timer.cancel()
        self._consumer.close()

    # -- records ---------------------------------------------------------------------

    def _dispatch(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err.str(), extra={"group": self.group})
            return
        topic, partition, offset = position(msg)
        key = (topic, partition)
        if key in self._deferred:
            return  # rewound; this record comes again when the partition resumes
        offsets = self._offsets.get(key)
        if offsets is None:
            offsets = self._offsets[key] = PartitionOffsets()
        try:
            result = self._handler.handle(msg)
        except Exception as exc:
            result = self._quarantine(msg, exc)
        if result is None:
            self._store(key, offsets, offsets.add(offset, 0))
        elif isinstance(result, Defer):
            self._defer(key, offset, result.due)
            _kind, produced_ms = msg.timestamp()
            self._deferred_since[key] = produced_ms / 1000 if produced_ms > 0 else time.time()
        else:
            offsets.add(offset, 1)
            task = asyncio.ensure_future(result)
            self._track(task, msg, key, offsets, offset)

    def _track(
        self, task: asyncio.Future[None], msg: Message, key: Key, offsets: PartitionOffsets, offset: int
    ) -> None:
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, msg, key, offsets, offset))

    def _finished(
        self, task: asyncio.Future[None], msg: Message, key: Key, offsets: PartitionOffsets, offset: int
    ) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, Exception):
            # The offset stays pending while the record is set aside.
            self._track(asyncio.ensure_future(self._quarantine(msg, exc)), msg, key, offsets, offset)
            return
        if exc is not None:  # KeyboardInterrupt and the like: not the record's fault, and not ours to keep
            raise exc
        self._store(key, offsets, offsets.done(offset))
        under_way = len(self._tasks)
        room = self._room
        if room is not None and not room.done() and under_way <= self._max_in_flight - self._refill:
            room.set_result(None)
        if self._paused_for_load and under_way < self._max_in_flight // 2:
            self._paused_for_load = False
            self._with_consumer(self._resume_all)

    async def _quarantine(self, msg: Message, error: Exception) -> None:
        topic, partition, offset = position(msg)
        where = f"{topic}[{partition}]@{offset}"
        fields = {"group": self.group, "topic": topic, "partition": partition, "offset": offset}
        log.error("handling the record raised %r; setting it aside", error, extra=fields)
        backoff = Backoff()
        while True:
            try:
                await self._handler.quarantine(msg, error)
            except Exception as exc:
                self.trouble = f"cannot set {where} aside: {exc}"
                log.error("%s; trying again in %.1fs", self.trouble, backoff.next, extra=fields)
                await backoff.wait()
            else:
                self.trouble = None
                return

    def _store(self, key: Key, offsets: PartitionOffsets, committable: int | None) -> None:
        # Gathered here and handed to librdkafka once per turn of the loop, not once per record.
        if committable is not None:
            self._unstored[key] = (offsets, committable)
            if not self._home():
                self._wanted.set()

    def _flush_stored(self) -> None:
        self._store_offsets(self._consumer, self._take_stored())

    def _take_stored(self) -> list[TopicPartition]:
        # A partition revoked meanwhile has another owner now: its late results are abandoned.
        positions = [
            TopicPartition(key[0], key[1], committable)
            for key, (offsets, committable) in self._unstored.items()
            if self._offsets.get(key) is offsets
        ]
        self._unstored.clear()
        return positions

    def _store_offsets(self, consumer: Consumer, positions: list[TopicPartition]) -> None:
        if not positions:
            return
        try:
            consumer.store_offsets(offsets=positions)
        except KafkaException as exc:
            log.warning("cannot store offsets %s: %s", positions, exc, extra={"group": self.group})

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # -- pausing ---------------------------------------------------------------------

    def _resume_all(self) -> None:
        active = [tp for tp in self._consumer.assignment() if (tp.topic, tp.partition) not in self._deferred]
        if active and not self._stopping.is_set():
            self._consumer.resume(active)

    def _defer(self, key: Key, offset: int, due: float) -> None:
        tp = TopicPartition(key[0], key[1], offset)
        self._consumer.pause([tp])
        self._consumer.seek(tp)
        loop = asyncio.get_running_loop()
        delay = max(0.0, due - time.time())
        self._deferred[key] = loop.call_later(delay, self._undefer, key)

    def _undefer(self, key: Key) -> None:
        self._deferred_since.pop(key, None)
        if self._deferred.pop(key, None) is None:
            return
        self._with_consumer(lambda: self._resume_due(key))

    def _resume_due(self, key: Key) -> None:
        # Checked when the consumer is at hand: a rebalance or a stop may have come meanwhile.
        if (
            self._stopping.is_set()
            or self._paused_for_load
            or key not in self._offsets
            or key in self._deferred
        ):
            return
        self._consumer.resume([TopicPartition(key[0], key[1])])

    # -- rebalancing (called inside poll() or consume(), on the thread that called it) ------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        paused = self._in_loop(lambda: self._assigned(partitions))
        if not partitions:
            return
        # Explicitly either way: librdkafka keeps a partition's pause across a lost
        # assignment (a session timeout while the broker was away), and a partition
        # that comes back still paused would never be consumed again.
        if paused:
            consumer.pause(partitions)
        else:
            consumer.resume(partitions)

    def _assigned(self, partitions: list[TopicPartition]) -> bool:
        for tp in partitions:
            self._offsets[(tp.topic, tp.partition)] = PartitionOffsets()
        self.assigned = True
        return self._paused_for_load

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        positions = self._in_loop(lambda: self._revoked(partitions))
        self._store_offsets(consumer, positions)
        # Send what finished now, before another member takes over: the rest is redelivered.
        self._commit(consumer)

    def _revoked(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        positions = self._take_stored()
        self._forget(partitions)
        return positions

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._in_loop(lambda: self._forget(partitions))

    def _forget(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._offsets.pop(key, None)
            self._deferred_since.pop(key, None)
            timer = self._deferred.pop(key, None)
            if timer is not None:
                timer.cancel()

    def _commit_stored(self) -> None:
        self._flush_stored()
        self._commit(self._consumer)

    def _commit(self, consumer: Consumer) -> None:
        """Commit the stored offsets of every assigned partition (revoked ones too, inside on_revoke)."""
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                log.warning("commit failed: %s", exc, extra={"group": self.group})

    # -- observation -------------------------------------------------------------------

    def deferred_heads(self) -> dict[Key, float]:
        """When the waiting head record of each paused partition was written (epoch seconds)."""
        return dict(self._deferred_since)

    async def lags(self) -> dict[Key, tuple[int, int]]:
        """Per assigned partition: records behind the end from the consume position, and from the first
        offset not finished yet. The second is the committed offset's lag (what a restart would
        deliver again, what KEDA scales on), without a broker call: stored offsets are committed every
        half second, and an unfinished offset holds the commit back however far consuming got.

        Read from cached watermarks when the consumer is at hand (at once, or once the waiting thread
        gives it back)."""
        answer: asyncio.Future[dict[Key, tuple[int, int]]] = asyncio.get_running_loop().create_future()

        def read() -> None:
            if not answer.done():
                answer.set_result(self._lags())

        self._with_consumer(read)
        return await answer

    def _lags(self) -> dict[Key, tuple[int, int]]:
        result: dict[Key, tuple[int, int]] = {}
        assignment = self._consumer.assignment()
        if not assignment:
            return result
        for tp in self._consumer.position(assignment):
            try:
                _low, high = self._consumer.get_watermark_offsets(tp, cached=True)
            except KafkaException:
                continue
            if high >= 0 and tp.offset >= 0:
                key = (tp.topic, tp.partition)
                offsets = self._offsets.get(key)
                oldest = offsets.oldest if offsets is not None else None
                resume = tp.offset if oldest is None else min(oldest, tp.offset)
                result[key] = (max(0, high - tp.offset), max(0, high - resume))
        return result
