"""An asyncio face on the confluent-kafka producer: ``await send(...)`` returns once the broker has it.

The producer is idempotent with ``acks=all``, so a record handed to a retry or
dead-letter topic is durable before the input offset that caused it is stored.
Delivery reports are served by :meth:`Producer.run`, on the event loop's thread.

``send`` does not give up on a failure the broker may recover from: it tries
again with a growing pause, while :attr:`Producer.trouble` says what is wrong
(``/readyz`` shows it). It raises only when the broker refuses the record for
good — :class:`RecordTooLarge`, which the caller answers with a truncated copy,
or :class:`ProduceError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka import Producer as _KafkaProducer

from consumer.kafka.backoff import Backoff

__all__ = ["ProduceError", "Producer", "RecordTooLarge"]

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes | str]]

_TOO_LARGE = frozenset({KafkaError.MSG_SIZE_TOO_LARGE})


class ProduceError(Exception):
    """The broker refused a record for good (not a passing fault)."""


class RecordTooLarge(ProduceError):
    """The record is larger than the producer or the topic accepts."""


class _Refused(Exception):
    def __init__(self, error: KafkaError) -> None:
        super().__init__(error.str())
        self.error = error


class Producer:
    def __init__(self, config: dict[str, Any]) -> None:
        conf = {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "compression.type": "lz4",
            # librdkafka retries a record until this runs out; send() then tries it again.
            "message.timeout.ms": 300_000,
            # A retry or dead-letter record carries the event and its body; the topics hookstream
            # creates take as much (consumer/kafka/topics.py).
            "message.max.bytes": 10 * 1024 * 1024 + 64 * 1024,
            "error_cb": self._on_error,
            **config,
        }
        self._producer = _KafkaProducer(conf)
        self._pending = 0
        self._sent = asyncio.Event()
        self.trouble: str | None = None
        """Why records cannot be written right now, or None."""

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> None:
        """Write one record and wait until the broker has it (see the module's docstring)."""
        backoff = Backoff()
        while True:
            try:
                await self._send_once(topic, value, key, headers)
            except _Refused as exc:
                code = exc.error.code()
                if code in _TOO_LARGE:
                    raise RecordTooLarge(f"{topic}: {len(value)} bytes: {exc.error.str()}") from None
                if exc.error.fatal() or not _passing(exc.error):
                    raise ProduceError(f"{topic}: {exc.error.str()}") from None
                self.trouble = f"cannot write to {topic}: {exc.error.str()}"
                log.warning("%s; trying again in %.1fs", self.trouble, backoff.next)
                await backoff.wait()
            else:
                return

    async def _send_once(self, topic: str, value: bytes, key: bytes | None, headers: Headers) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            self._pending -= 1
            if future.done():
                return
            if err is None:
                self.trouble = None
                future.set_result(None)
            else:
                future.set_exception(_Refused(err))

        while True:
            try:
                self._producer.produce(topic, value, key, headers=list(headers), on_delivery=on_delivery)
                break
            except BufferError:
                # The local queue is full: let delivery reports drain it.
                await asyncio.sleep(0.01)
            except KafkaException as exc:
                raise _Refused(exc.args[0]) from None
        self._pending += 1
        self._sent.set()
        await future

    def _on_error(self, error: KafkaError) -> None:
        # Called from poll() on the loop's thread: the broker connection's state, for /readyz.
        if error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT) or error.fatal():
            self.trouble = f"Kafka: {error.str()}"

    async def run(self) -> None:
        """Serve delivery reports until cancelled; notice when the broker is back."""
        poll = self._producer.poll
        loop = asyncio.get_running_loop()
        next_check = 0.0
        while True:
            served = poll(0)
            if self.trouble is not None and not self._pending and loop.time() >= next_check:
                # Nothing waits to be delivered whose report would clear the trouble: ask the broker.
                next_check = loop.time() + 2.0
                await self._check_broker()
            if served or self._pending:
                await asyncio.sleep(0 if served else 0.001)
                continue
            # Nothing awaits a report: sleep until a record is sent, looking in every second for what
            # else poll() serves (the broker's state for /readyz, librdkafka's log lines), rather than
            # waking an idle process a hundred times a second.
            self._sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent.wait(), 1.0)

    async def _check_broker(self) -> None:
        try:
            await asyncio.to_thread(self._producer.list_topics, timeout=1.0)
        except KafkaException:
            return
        self.trouble = None

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for outstanding records; returns how many are still not acknowledged."""
        return int(self._producer.flush(timeout))


def _passing(error: KafkaError) -> bool:
    """Whether the same record may go through later (the broker is away, busy, or electing a leader)."""
    return bool(error.retriable()) or error.code() in (
        KafkaError._MSG_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
    )
