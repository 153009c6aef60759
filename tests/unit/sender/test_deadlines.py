"""One timer cancels the requests that overrun their deadline, and only those."""

from __future__ import annotations

import asyncio

import pytest

from sender.deadlines import Deadlines


async def _wait(deadlines: Deadlines, seconds: float, work: float) -> str:
    """Work for ``work`` seconds under a deadline of ``seconds``; say how it ended."""
    deadline = deadlines.start(seconds)
    try:
        await asyncio.sleep(work)
    except asyncio.CancelledError:
        if not deadlines.expired(deadline):
            raise
        return "expired"
    finally:
        deadlines.end(deadline)
    return "done"


async def test_only_the_overrunning_tasks_are_cancelled_and_each_goes_on_afterwards() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def twice(seconds: float, work: float) -> tuple[str, str, float]:
        first = await _wait(deadlines, seconds, work)
        # The task is no longer cancelled: it can go on to its next request.
        second = await _wait(deadlines, 5.0, 0.01)
        return first, second, loop.time() - started

    results = await asyncio.gather(twice(0.1, 10), twice(5.0, 0.05), twice(0.3, 10))

    assert [r[:2] for r in results] == [("expired", "done"), ("done", "done"), ("expired", "done")]
    assert 0.1 <= results[0][2] < 0.3
    assert 0.3 <= results[2][2] < 0.5
    deadlines.close()


async def test_a_shorter_deadline_set_later_still_fires_on_time() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    long = asyncio.create_task(_wait(deadlines, 30.0, 60))
    await asyncio.sleep(0)
    started = loop.time()

    assert await _wait(deadlines, 0.1, 60) == "expired"

    assert loop.time() - started < 0.3
    assert not long.done()
    long.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long
    deadlines.close()


async def test_a_cancellation_from_elsewhere_is_not_taken_for_a_timeout() -> None:
    deadlines = Deadlines()
    task = asyncio.create_task(_wait(deadlines, 0.2, 60))
    await asyncio.sleep(0.05)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    # Its deadline ended with it: nothing is cancelled later.
    await asyncio.sleep(0.3)
    deadlines.close()


async def test_a_cancellation_from_elsewhere_at_the_moment_the_deadline_fires_still_cancels() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    started = loop.create_future()

    async def request() -> str:
        deadline = deadlines.start(0.05)
        started.set_result(deadline.at)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "expired" if deadlines.expired(deadline) else "cancelled"
        finally:
            deadlines.end(deadline)
        return "done"

    task = asyncio.create_task(request())
    # Due at the same moment as the deadline: both cancellations land before the task runs again.
    loop.call_at(await started, task.cancel)

    assert await task == "cancelled"
    deadlines.close()


async def test_many_requests_expiring_one_after_another_are_swept_in_batches() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    started = loop.time()
    # 300 requests whose deadlines fall a millisecond apart: each still ends within the resolution.
    tasks = [asyncio.create_task(_wait(deadlines, 0.1 + i / 1000, 60)) for i in range(300)]

    outcomes = await asyncio.gather(*tasks)

    assert outcomes == ["expired"] * 300
    assert loop.time() - started < 0.1 + 0.3 + 0.2
    deadlines.close()
