"""The pool's permits go to waiting requests in arrival order, and none is lost to a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from sender.permits import Permits


async def _hold(permits: Permits, name: str, order: list[str], release: asyncio.Event) -> None:
    waiting = permits.take()
    if waiting is not None:
        await permits.wait(waiting)
    order.append(name)
    await release.wait()
    permits.give_back()


async def test_released_permits_go_to_the_oldest_waiter_before_any_newcomer() -> None:
    permits = Permits(2)
    order: list[str] = []
    releases = {name: asyncio.Event() for name in "abcde"}
    tasks = [asyncio.create_task(_hold(permits, n, order, releases[n])) for n in "abcd"]
    await asyncio.sleep(0.01)
    assert order == ["a", "b"]

    releases["a"].set()
    await asyncio.sleep(0)  # a gives its permit back: c's, already, though c has not run yet
    tasks.append(asyncio.create_task(_hold(permits, "e", order, releases["e"])))
    await asyncio.sleep(0.01)

    assert order == ["a", "b", "c"]
    for name in "bcde":
        releases[name].set()
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c", "d", "e"]
    assert permits.free == 2


async def test_a_waiter_cancelled_while_waiting_holds_no_permit() -> None:
    permits = Permits(1)
    assert permits.take() is None
    waiting = permits.take()
    assert waiting is not None
    task = asyncio.create_task(permits.wait(waiting))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    permits.give_back()

    assert permits.free == 1


async def test_a_permit_handed_to_a_waiter_that_gives_up_at_that_moment_is_passed_on() -> None:
    permits = Permits(1)
    assert permits.take() is None
    first, second = permits.take(), permits.take()
    assert first is not None
    assert second is not None
    gives_up = asyncio.create_task(permits.wait(first))
    stays = asyncio.create_task(permits.wait(second))
    await asyncio.sleep(0)

    permits.give_back()  # handed to the first waiter...
    gives_up.cancel()  # ...which is cancelled before it runs again

    with pytest.raises(asyncio.CancelledError):
        await gives_up
    await asyncio.wait_for(stays, 1)
    assert permits.free == 0
