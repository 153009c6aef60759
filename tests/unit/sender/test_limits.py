"""The endpoint guard's slots: first come first served, a bounded wait, and no slot lost to a cancellation."""

from __future__ import annotations

import asyncio

from sender.limits import EndpointGuard
from sender.settings import BreakerSettings


def _guard(limit: int, queue_wait: float) -> EndpointGuard:
    return EndpointGuard(limit, BreakerSettings(), queue_wait)


async def test_free_slots_are_taken_without_waiting_and_the_next_waits_its_turn() -> None:
    guard = _guard(2, 5.0)
    assert await guard.acquire()
    assert await guard.acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        assert await guard.acquire()
        order.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert order == []
    for _ in range(3):
        guard.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]


async def test_a_waiter_gives_up_after_queue_wait() -> None:
    guard = _guard(1, 0.05)
    assert await guard.acquire()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert not await guard.acquire()
    assert loop.time() - started >= 0.05
    # The slot is still the first holder's; once released, it is free again.
    guard.release()
    assert await guard.acquire()


async def test_waiters_expire_in_order_while_later_ones_keep_waiting() -> None:
    guard = _guard(1, 0.05)
    assert await guard.acquire()
    first = asyncio.create_task(guard.acquire())
    await asyncio.sleep(0.03)
    second = asyncio.create_task(guard.acquire())
    assert await first is False
    assert not second.done()
    guard.release()
    assert await second is True


async def test_no_queue_wait_refuses_at_once() -> None:
    guard = _guard(1, 0)
    assert await guard.acquire()
    assert not await guard.acquire()


async def test_a_cancelled_waiter_does_not_take_a_slot() -> None:
    guard = _guard(1, 5.0)
    assert await guard.acquire()
    cancelled = asyncio.create_task(guard.acquire())
    behind = asyncio.create_task(guard.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    guard.release()
    assert await behind is True


async def test_a_slot_granted_to_a_task_cancelled_before_it_ran_is_passed_on() -> None:
    guard = _guard(1, 5.0)
    assert await guard.acquire()
    first = asyncio.create_task(guard.acquire())
    behind = asyncio.create_task(guard.acquire())
    await asyncio.sleep(0)
    guard.release()  # hands the slot to ``first``...
    first.cancel()  # ...which is cancelled before it resumes
    await asyncio.gather(first, return_exceptions=True)
    assert await asyncio.wait_for(behind, 1) is True


async def test_a_full_endpoint_that_finishes_nothing_for_stall_after_sends_its_queue_away() -> None:
    guard = EndpointGuard(1, BreakerSettings(), queue_wait=5.0, stall_after=0.05)
    assert await guard.acquire()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert not await guard.acquire()  # queued, then given up when the stall is seen
    assert 0.04 <= loop.time() - started < 1.0
    started = loop.time()
    assert not await guard.acquire()  # still stalled: refused at once
    assert loop.time() - started < 0.01
    guard.release()
    assert await guard.acquire()  # progress: slots are handed out again


async def test_an_endpoint_that_keeps_finishing_is_not_stalled_however_long_its_queue_waits() -> None:
    guard = EndpointGuard(1, BreakerSettings(), queue_wait=5.0, stall_after=0.05)
    assert await guard.acquire()
    waiters = [asyncio.create_task(guard.acquire()) for _ in range(8)]
    for _ in waiters:  # one finishes every 30 ms: 240 ms in all, well past stall_after
        await asyncio.sleep(0.03)
        guard.release()
    assert await asyncio.gather(*waiters) == [True] * 8
