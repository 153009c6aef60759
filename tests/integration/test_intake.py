"""The intake while it is quiet: its consumer is lent to a thread blocked in poll() (see intake.py).

What arrives then is handed over and committed, the lag can still be read, and a rebalance that
comes while the thread holds the consumer is served there: what finished is committed before
another member takes the partitions over. An idle intake leaves the loop alone until it needs the
consumer, and a loop that closes without a drain takes the thread with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

import pytest
from confluent_kafka import Message

from consumer.kafka.intake import Intake, position
from tests.support.kafka import committed, create_topics, produce, unique_prefix

pytestmark = pytest.mark.kafka


class Handler:
    """Each record is finished a moment after it is handed over, as a delivery would be."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, int, int]] = []
        self.finished = 0

    def handle(self, msg: Message) -> Awaitable[None]:
        self.handled.append(position(msg))
        return self._finish()

    async def _finish(self) -> None:
        await asyncio.sleep(0.05)
        self.finished += 1

    async def quarantine(self, msg: Message, error: Exception) -> None:
        raise AssertionError(f"nothing should be set aside: {error!r}")


async def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.1)


def topic_and_group(bootstrap: str, partitions: int) -> tuple[str, str]:
    """A new topic of ``partitions`` partitions, and a group of its own to read it."""
    topic = f"{unique_prefix('intake')}.events"
    create_topics(bootstrap, topic, partitions=partitions)
    return topic, unique_prefix("intake-group")


def committed_total(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    return sum(max(0, committed(bootstrap, group, topic, p)) for p in range(partitions))


async def start(intake: Intake) -> asyncio.Task[None]:
    task = asyncio.create_task(intake.run())
    await until(lambda: intake.assigned, "partitions assigned")
    return task


async def stop(intake: Intake, task: asyncio.Task[None]) -> None:
    await intake.drain(10)
    await task


def keyed(n: int) -> dict[str, Any]:
    return {"values": [b"record %d" % i for i in range(n)], "keys": [b"key %d" % i for i in range(n)]}


async def test_records_arriving_while_the_intake_waits_are_handed_over_and_committed(
    kafka_bootstrap: str,
) -> None:
    topic, group = topic_and_group(kafka_bootstrap, partitions=2)
    handler = Handler()
    intake = Intake({"bootstrap.servers": kafka_bootstrap, "group.id": group}, [topic], handler)
    task = await start(intake)
    try:
        await asyncio.sleep(1)  # nothing to take: the consumer is with the waiting thread
        await asyncio.to_thread(produce, kafka_bootstrap, topic, **keyed(20))
        await until(lambda: handler.finished == 20, "every record finished")

        # Read while the thread waits again: nothing is behind, nothing unfinished.
        lags = await intake.lags()
        assert sorted(lags) == [(topic, 0), (topic, 1)]
        assert set(lags.values()) == {(0, 0)}

        # Stored while the consumer was lent, and committed without a rebalance or a stop.
        await until(
            lambda: committed_total(kafka_bootstrap, group, topic, 2) == 20,
            "every offset committed",
            timeout=30,
        )
    finally:
        await stop(intake, task)
    assert sorted(handler.handled) == sorted(set(handler.handled))


async def test_a_member_joining_while_the_intake_waits_takes_over_only_what_was_not_finished(
    kafka_bootstrap: str,
) -> None:
    topic, group = topic_and_group(kafka_bootstrap, partitions=2)
    # No periodic commit within the test: only the commit made as the partition is revoked tells the
    # newcomer where to start.
    config = {"bootstrap.servers": kafka_bootstrap, "group.id": group, "auto.commit.interval.ms": 600_000}
    first, second = Handler(), Handler()
    intake = Intake(config, [topic], first)
    task = await start(intake)
    await asyncio.to_thread(produce, kafka_bootstrap, topic, **keyed(20))
    await until(lambda: first.finished == 20, "every record finished by the first member")
    await asyncio.sleep(1)  # quiet again: the rebalance comes while the thread holds the consumer

    newcomer = Intake(config, [topic], second)
    newcomer_task = await start(newcomer)
    try:
        for _ in range(600):  # the first member gives one partition up, inside its thread's poll()
            if len(await intake.lags()) == 1:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no partition moved to the newcomer")
        await asyncio.to_thread(produce, kafka_bootstrap, topic, **keyed(20))
        await until(lambda: len(set(first.handled) | set(second.handled)) == 40, "the new records handled")
        await until(lambda: first.finished + second.finished >= 40, "the new records finished")
    finally:
        await stop(newcomer, newcomer_task)
        await stop(intake, task)

    # Nothing came twice: the partition given up had its finished offsets committed on the way out.
    assert len(first.handled) + len(second.handled) == 40
    assert len({(t, p) for t, p, _o in second.handled}) == 1
    assert committed_total(kafka_bootstrap, group, topic, 2) == 40


async def test_an_idle_intake_leaves_the_loop_alone_until_it_needs_the_consumer(kafka_bootstrap: str) -> None:
    topic, group = topic_and_group(kafka_bootstrap, partitions=2)
    handler = Handler()
    intake = Intake({"bootstrap.servers": kafka_bootstrap, "group.id": group}, [topic], handler)
    task = await start(intake)
    try:
        await asyncio.to_thread(produce, kafka_bootstrap, topic, **keyed(10))
        await until(lambda: handler.finished == 10, "every record finished")
        await asyncio.sleep(1)  # the finished offsets stored: that was the last errand
        lent = intake._lent
        assert lent is not None
        assert not lent.done()
        await asyncio.sleep(2)  # four of the thread's half-second polls, and nothing came
        assert intake._lent is lent, "the idle intake took its consumer back unasked"
        assert not lent.done()

        # Asked for it (to read the lag), the thread gives the consumer back, and it is lent again.
        assert await intake.lags() == {(topic, 0): (0, 0), (topic, 1): (0, 0)}
        await until(lambda: intake._lent not in (None, lent), "the consumer lent again")
    finally:
        await stop(intake, task)


def test_a_loop_closed_without_drain_leaves_no_thread_polling(kafka_bootstrap: str) -> None:
    topic, group = topic_and_group(kafka_bootstrap, partitions=1)
    intake = Intake({"bootstrap.servers": kafka_bootstrap, "group.id": group}, [topic], Handler())
    loans: list[Future[Message | None]] = []

    async def run_and_fail() -> None:
        task = await start(intake)
        await until(lambda: intake._lent is not None, "the consumer lent")
        assert intake._lent is not None
        loans.append(intake._lent)
        task.cancel()  # as a failing process would leave it: no stop(), no drain()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_and_fail())
    # The poll ends within one of its half-second steps of the loop closing (TimeoutError if not).
    assert loans[0].result(timeout=10) is None
    intake._waiter.shutdown(wait=True)
    intake._consumer.close()
