"""A Pending tells its one watcher how the work ended, whenever the watcher comes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from consumer.pending import Pending


def test_the_watcher_hears_the_end_once_whether_it_came_before_or_after() -> None:
    early, late = Pending(), Pending()
    heard: list[tuple[str, BaseException | None]] = []
    early.then(lambda error: heard.append(("early", error)))

    early.finish()
    late.finish()
    late.then(lambda error: heard.append(("late", error)))
    early.finish()  # ends once only

    assert heard == [("early", None), ("late", None)]


def test_a_failure_reaches_the_watcher_and_a_later_finish_is_ignored() -> None:
    pending = Pending()
    heard: list[BaseException | None] = []
    pending.then(heard.append)
    error = RuntimeError("the retry topic refused the record")

    pending.fail(error)
    pending.finish()

    assert heard == [error]


async def test_a_coroutine_ends_its_pending_with_its_result_failure_or_cancellation() -> None:
    async def ok() -> None:
        await asyncio.sleep(0)

    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("no store")

    async def hangs() -> None:
        await asyncio.sleep(60)

    heard: dict[str, BaseException | None] = {}

    def watch(name: str, work: Awaitable[None]) -> None:
        Pending.of(work).then(lambda error: heard.__setitem__(name, error))

    watch("ok", ok())
    watch("broken", broken())
    hanging = asyncio.create_task(hangs())
    watch("hangs", asyncio.shield(hanging))
    await asyncio.sleep(0.01)
    assert heard.keys() == {"ok", "broken"}
    hanging.cancel()
    await asyncio.sleep(0.01)

    assert heard["ok"] is None
    assert isinstance(heard["broken"], ValueError)
    assert isinstance(heard["hangs"], asyncio.CancelledError)
