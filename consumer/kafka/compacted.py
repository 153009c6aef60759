"""A compacted, one-partition topic read from its start and followed: the subscriptions topic.

Every process reads it whole before it is ready, then follows it, the way Kafka
Connect workers read their config topic. One partition keeps every record in
the order written. No consumer group is joined (the partition is assigned), so
each process reads every record, and nothing is committed: a process always
starts again from the beginning, which compaction keeps short.

:meth:`CompactedLog.write` returns only once this process has read its own
record back and the handler has applied it, so a caller sees its change.
Like the intake, the consumer is polled without blocking from the event loop while records
come, and a thread of its own waits in ``poll()`` when none is there, handing back the next
record the moment it arrives (a change made elsewhere, or this process's write read back).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka import Producer as _KafkaProducer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from consumer.kafka.topics import topic_config

__all__ = ["CompactedLog", "LogRecord", "WriteError"]

log = logging.getLogger(__name__)

#: (key, value); a None value is a tombstone.
LogRecord = tuple[bytes | None, bytes | None]
Apply = Callable[[Sequence[LogRecord]], Awaitable[None]]

# How often the waiting thread looks whether the feed is closing: how long close() may wait for it.
_WAIT = 0.5


class WriteError(Exception):
    """The broker did not take a record (it is away, or refused it)."""


class CompactedLog:
    """Read ``topic`` from the start, hand records in batches to ``apply``, then follow it."""

    def __init__(self, config: dict[str, Any], topic: str, apply: Apply) -> None:
        self.topic = topic
        self._config = config
        self._apply = apply
        self._consumer = Consumer(
            {
                **config,
                # Required by the client although no group is joined (the partition is assigned).
                "group.id": f"{topic}-reader",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            }
        )
        self._producer = _KafkaProducer(
            {
                **config,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 0,
                "message.timeout.ms": 15_000,
            }
        )
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{topic}-reader")
        self._lent: Future[Message | None] | None = None
        self._closing = threading.Event()
        self._next = 0  # the offset after the last record applied
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.caught_up = asyncio.Event()
        self.trouble: str | None = None
        """Why the topic cannot be read right now, or None."""

    def ensure(self, *, replication: int) -> None:
        """Create the topic, compacted, with one partition, unless it exists (blocking)."""
        admin = AdminClient(self._config)
        if self.topic not in admin.list_topics(timeout=15).topics:
            new = NewTopic(
                self.topic,
                num_partitions=1,
                replication_factor=replication,
                config={"cleanup.policy": "compact"},
            )
            try:
                admin.create_topics([new])[self.topic].result(timeout=30)
                log.info("created topic %s", self.topic)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        policy = topic_config(admin, self.topic).get("cleanup.policy")
        if policy is None or "compact" not in str(policy.value):
            # Deletion by age would lose subscriptions: say so loudly, but an operator may have reasons.
            log.error("topic %s is not compacted (cleanup.policy=%s)", self.topic, policy and policy.value)

    async def run(self) -> None:
        """Read and apply until cancelled."""
        tp = TopicPartition(self.topic, 0, OFFSET_BEGINNING)
        low, high = await asyncio.to_thread(self._consumer.get_watermark_offsets, tp, 15)
        self._consumer.assign([tp])
        if high <= low:
            self.caught_up.set()
        try:
            while True:
                self._producer.poll(0)
                messages = self._consumer.consume(500, 0)
                if not messages:
                    # The consumer is the thread's until a record comes; nothing else calls it meanwhile.
                    self._lent = self._waiter.submit(self._poll_until_record, asyncio.get_running_loop())
                    msg = await asyncio.wrap_future(self._lent)
                    self._lent = None
                    messages = [msg] if msg is not None else []
                batch: list[LogRecord] = []
                last = -1
                for msg in messages:
                    error = msg.error()
                    if error is None:
                        batch.append((msg.key(), msg.value()))
                        last = int(msg.offset() or 0)
                    elif error.code() == KafkaError._PARTITION_EOF:
                        self.trouble = None
                        await self._applied(batch, last)
                        batch, last = [], -1
                        self.caught_up.set()
                    else:
                        self.trouble = f"cannot read {self.topic}: {error.str()}"
                        log.warning(self.trouble)
                await self._applied(batch, last)
                if not self.caught_up.is_set() and self._next >= high:
                    self.caught_up.set()
        finally:
            for _, waiter in self._waiters:
                waiter.cancel()

    def _poll_until_record(self, loop: asyncio.AbstractEventLoop) -> Message | None:
        """On the feed's thread: poll until a record (or the end of the topic) comes, or the feed closes."""
        # A loop closed without close() (the process failing) must not leave this thread polling.
        while not (self._closing.is_set() or loop.is_closed()):
            msg = self._consumer.poll(_WAIT)
            if msg is not None:
                return msg
        return None

    async def _applied(self, batch: Sequence[LogRecord], last: int) -> None:
        if not batch:
            return
        await self._apply(batch)
        self._next = last + 1
        still: list[tuple[int, asyncio.Future[None]]] = []
        for offset, waiter in self._waiters:
            if offset < self._next:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((offset, waiter))
        self._waiters = still

    async def write(self, key: bytes, value: bytes | None) -> None:
        """Write one record (None: a tombstone); return once it has been read back and applied."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[int] = loop.create_future()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if written.done():
                return
            if err is None:
                written.set_result(int(msg.offset() or 0))
            else:
                written.set_exception(WriteError(f"{self.topic}: {err.str()}"))

        try:
            self._producer.produce(self.topic, value, key, on_delivery=on_delivery)
        except (BufferError, KafkaException) as exc:
            raise WriteError(f"{self.topic}: {exc}") from None
        # run() serves delivery reports; before it runs (a caller writing at start) serve them here.
        while not written.done():
            self._producer.poll(0)
            await asyncio.sleep(0.005)
        offset = written.result()
        if offset < self._next:
            return
        applied: asyncio.Future[None] = loop.create_future()
        self._waiters.append((offset, applied))
        await applied

    def close(self) -> None:
        """Flush and close (blocking): after run() was cancelled, waiting for the thread's poll() first."""
        self._closing.set()
        if self._lent is not None:
            wait([self._lent])
        self._waiter.shutdown()
        self._producer.flush(5)
        self._consumer.close()
