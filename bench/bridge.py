"""The bare bridge: the least a Python process can do to turn a Kafka record into an HTTP POST.

``python -m bench.bridge BOOTSTRAP TOPIC URL`` reads ``TOPIC`` with one
confluent-kafka consumer blocking in ``poll()`` on a thread of its own and posts
each record's value, as it is, with a bare aiohttp session on uvloop. Nothing is
decoded, routed, signed or committed. The quiet scenario runs it beside
hookstream, at the same rates to the same receiver, as the floor this machine
allows: what the broker, the client library and the loopback cost without
hookstream. It prints ``ready`` once it holds its partitions.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading

import aiohttp
import uvloop
from confluent_kafka import Consumer, TopicPartition


async def _bridge(bootstrap: str, topic: str, url: str) -> None:
    loop = asyncio.get_running_loop()
    records: asyncio.Queue[bytes] = asyncio.Queue()
    stop = threading.Event()
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"{topic}-bridge", "auto.offset.reset": "latest"}
    )

    def assigned(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if partitions:
            print("ready", flush=True)

    def consume() -> None:
        consumer.subscribe([topic], on_assign=assigned)
        while not stop.is_set():
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                loop.call_soon_threadsafe(records.put_nowait, msg.value() or b"")
        consumer.close()

    thread = threading.Thread(target=consume, name="bridge-consumer")
    thread.start()
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> None:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                await resp.read()

        try:
            while True:
                task = asyncio.ensure_future(post(await records.get()))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            stop.set()
            await asyncio.to_thread(thread.join)


def main() -> int:
    bootstrap, topic, url = sys.argv[1:4]
    with contextlib.suppress(KeyboardInterrupt):  # how the bench stops it
        uvloop.run(_bridge(bootstrap, topic, url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
