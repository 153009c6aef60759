"""An asyncio face on the confluent-kafka producer: `await send(...)` returns once the broker has it.

The producer is idempotent with ``acks=all``, so a record handed to a retry or
dead-letter topic is durable before the input offset that caused it is stored.
Delivery reports are served by :meth:`Producer.run`, on the event loop's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka import Producer as _KafkaProducer

__all__ = ["ProduceError", "Producer"]

Headers = Sequence[tuple[str, bytes | str]]


class ProduceError(Exception):
    """The broker did not take a record (after librdkafka's own retries)."""


class Producer:
    def __init__(self, config: dict[str, Any]) -> None:
        conf = {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "compression.type": "lz4",
            # Retry until the broker is back rather than failing the record: a record that
            # cannot be written leaves its input offset uncommitted, which is safe but stalls.
            "message.timeout.ms": 300_000,
            **config,
        }
        self._producer = _KafkaProducer(conf)
        self._pending = 0

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            self._pending -= 1
            if future.done():
                return
            if err is None:
                future.set_result(None)
            else:
                future.set_exception(ProduceError(f"{topic}: {err.str()}"))

        while True:
            try:
                self._producer.produce(topic, value, key, headers=list(headers), on_delivery=on_delivery)
                break
            except BufferError:
                # The local queue is full: let delivery reports drain it.
                await asyncio.sleep(0.01)
            except KafkaException as exc:
                raise ProduceError(f"{topic}: {exc}") from None
        self._pending += 1
        await future

    async def run(self) -> None:
        """Serve delivery reports until cancelled."""
        poll = self._producer.poll
        while True:
            served = poll(0)
            await asyncio.sleep(0 if served else (0.001 if self._pending else 0.01))

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for outstanding records; returns how many are still not acknowledged."""
        return int(self._producer.flush(timeout))
