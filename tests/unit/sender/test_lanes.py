"""An endpoint's lane: its slots, first come first served, a bounded wait, a stall, and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sender.lanes import Attempts, Job, Lane
from sender.outcome import Message, Outcome
from sender.settings import BreakerSettings


class Endpoint:
    """Stands in for the HTTP attempt: each delivery waits until the test lets it finish."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self._gates: dict[str, asyncio.Future[Outcome]] = {}

    async def attempt(self, message: Message) -> Outcome:
        self.started.append(message.webhook_id)
        gate: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._gates[message.webhook_id] = gate
        try:
            return await gate
        except asyncio.CancelledError:
            self.cancelled.append(message.webhook_id)
            raise

    def finish(self, webhook_id: str, outcome: Outcome | None = None) -> None:
        self._gates[webhook_id].set_result(outcome or Outcome(ok=True, status=200))


class Settled:
    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.order: list[str] = []

    def waiter(self, webhook_id: str) -> _Waiter:
        return _Waiter(self, webhook_id)


class _Waiter:
    def __init__(self, settled: Settled, webhook_id: str) -> None:
        self.settled, self.webhook_id = settled, webhook_id

    def settle(self, outcome: Outcome) -> None:
        self.settled.outcomes[self.webhook_id] = outcome
        self.settled.order.append(self.webhook_id)


_open: list[Lane] = []
_targets: dict[int, Attempts] = {}


@pytest.fixture(autouse=True)
async def _close_lanes() -> AsyncIterator[None]:
    yield
    while _open:
        await asyncio.gather(*_open.pop().close(), return_exceptions=True)


def _lane(
    endpoint: Endpoint, limit: int, queue_wait: float = 5.0, stall_after: float = 1.0, **breaker: Any
) -> Lane:
    lane = Lane(limit, BreakerSettings(**breaker), queue_wait, stall_after)
    _targets[id(lane)] = endpoint
    _open.append(lane)
    return lane


def _submit(lane: Lane, settled: Settled, webhook_id: str) -> Job:
    job = Job(_targets[id(lane)], Message(webhook_id, 0, {}), settled.waiter(webhook_id))
    lane.submit(job)
    return job


async def _turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_free_slots_start_at_once_and_the_queue_is_served_in_order() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 2)
    for name in ("a", "b", "c", "d", "e"):
        _submit(lane, settled, name)
    await _turns()
    assert endpoint.started == ["a", "b"]
    assert lane.in_flight == 2
    for name in ("a", "b", "c", "d", "e"):
        endpoint.finish(name)
        await _turns()
    assert endpoint.started == ["a", "b", "c", "d", "e"]
    assert settled.order == ["a", "b", "c", "d", "e"]
    assert all(o.ok for o in settled.outcomes.values())
    assert lane.in_flight == 0


async def test_a_queued_delivery_gives_up_after_queue_wait() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=0.05, stall_after=60)
    _submit(lane, settled, "a")
    loop = asyncio.get_running_loop()
    started = loop.time()
    _submit(lane, settled, "b")
    while "b" not in settled.outcomes:
        await asyncio.sleep(0.01)
    assert loop.time() - started >= 0.05
    assert settled.outcomes["b"].error_code == "endpoint_busy"
    assert endpoint.started == ["a"]  # b never reached the endpoint
    endpoint.finish("a")
    await _turns()
    _submit(lane, settled, "c")
    await _turns()
    assert endpoint.started == ["a", "c"]


async def test_queued_deliveries_expire_in_order_while_later_ones_keep_waiting() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=0.05, stall_after=60)
    _submit(lane, settled, "a")
    _submit(lane, settled, "first")
    await asyncio.sleep(0.03)
    _submit(lane, settled, "second")
    while "first" not in settled.outcomes:
        await asyncio.sleep(0.005)
    assert "second" not in settled.outcomes
    endpoint.finish("a")
    await _turns()
    endpoint.finish("second")
    await _turns()
    assert settled.outcomes["second"].ok


async def test_no_queue_wait_refuses_at_once() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=0)
    _submit(lane, settled, "a")
    _submit(lane, settled, "b")
    assert settled.outcomes["b"].error_code == "endpoint_busy"


async def test_an_abandoned_queued_delivery_is_never_sent_and_the_next_takes_its_place() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1)
    _submit(lane, settled, "a")
    abandoned = _submit(lane, settled, "b")
    _submit(lane, settled, "c")
    lane.abandon(abandoned)
    await _turns()
    endpoint.finish("a")
    await _turns()
    assert endpoint.started == ["a", "c"]
    assert "b" not in settled.outcomes


async def test_abandoning_a_running_delivery_cancels_it_and_frees_its_slot_for_the_queue() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1)
    running = _submit(lane, settled, "a")
    _submit(lane, settled, "b")
    await _turns()
    lane.abandon(running)
    await _turns()
    assert endpoint.cancelled == ["a"]
    assert endpoint.started == ["a", "b"]
    assert "a" not in settled.outcomes
    endpoint.finish("b")
    await _turns()
    assert settled.outcomes["b"].ok
    assert lane.in_flight == 0


async def test_a_full_endpoint_that_finishes_nothing_for_stall_after_sends_its_queue_away() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=5.0, stall_after=0.05)
    _submit(lane, settled, "a")
    loop = asyncio.get_running_loop()
    started = loop.time()
    _submit(lane, settled, "queued")
    while "queued" not in settled.outcomes:
        await asyncio.sleep(0.01)
    assert 0.04 <= loop.time() - started < 1.0
    assert settled.outcomes["queued"].error_code == "endpoint_busy"
    assert "finished none" in settled.outcomes["queued"].description
    _submit(lane, settled, "late")  # still stalled: refused at once
    assert settled.outcomes["late"].error_code == "endpoint_busy"
    endpoint.finish("a")
    await _turns()
    _submit(lane, settled, "after")  # progress: slots are handed out again
    await _turns()
    assert endpoint.started == ["a", "after"]


async def test_an_endpoint_that_keeps_finishing_is_not_stalled_however_long_its_queue_waits() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=5.0, stall_after=0.05)
    names = [f"m{i}" for i in range(8)]
    for name in names:
        _submit(lane, settled, name)
    for name in names:  # one finishes every 30 ms: 240 ms in all, well past stall_after
        await asyncio.sleep(0.03)
        endpoint.finish(name)
    await _turns()
    assert [settled.outcomes[n].ok for n in names] == [True] * 8


async def test_an_open_circuit_answers_before_queueing() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, min_requests=1, failure_rate=0.5, open_for=60)
    _submit(lane, settled, "a")
    await _turns()
    endpoint.finish("a", Outcome(ok=False, status=503, error_code="503"))
    await _turns()
    _submit(lane, settled, "b")
    assert settled.outcomes["b"].error_code == "circuit_open"
    assert endpoint.started == ["a"]


async def test_close_cancels_what_runs_and_drops_the_queue_unsettled() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1)
    _submit(lane, settled, "a")
    _submit(lane, settled, "b")
    await _turns()
    await asyncio.gather(*lane.close(), return_exceptions=True)
    assert endpoint.cancelled == ["a"]
    assert endpoint.started == ["a"]
    assert settled.outcomes == {}


async def test_a_fault_inside_the_sender_is_an_outcome_and_the_lane_goes_on() -> None:
    settled = Settled()

    class Faulty:
        async def attempt(self, message: Message) -> Outcome:
            if message.webhook_id == "bad":
                raise RuntimeError("a bug")
            return Outcome(ok=True, status=200)

    lane = Lane(1, BreakerSettings())
    _targets[id(lane)] = Faulty()
    _open.append(lane)
    for name in ("bad", "good"):
        _submit(lane, settled, name)
    await _turns()
    assert settled.outcomes["bad"].error_code == "internal_error"
    assert settled.outcomes["bad"].retryable  # the retry path keeps the event
    assert settled.outcomes["good"].ok


async def test_an_outcome_handler_that_fails_does_not_stop_the_lane() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1)

    class Failing:
        def settle(self, _outcome: Outcome) -> None:
            raise ValueError("handler bug")

    lane.submit(Job(endpoint, Message("first", 0, {}), Failing()))
    _submit(lane, settled, "second")
    await _turns()
    endpoint.finish("first")
    await _turns()
    endpoint.finish("second")
    await _turns()
    assert settled.outcomes["second"].ok


async def test_a_slow_endpoint_is_not_taken_for_a_stalled_one() -> None:
    endpoint, settled = Endpoint(), Settled()
    lane = _lane(endpoint, 1, queue_wait=5.0, stall_after=0.05)
    # Its deliveries take 0.2 s each, four times stall_after: the first teaches the lane so.
    _submit(lane, settled, "first")
    await asyncio.sleep(0.2)
    endpoint.finish("first")
    await _turns()
    # Then one runs while another waits: 0.2 s without progress is its normal pace, not a stall.
    for name in ("m1", "m2"):
        _submit(lane, settled, name)
    for name in ("m1", "m2"):
        await asyncio.sleep(0.2)
        endpoint.finish(name)
        await _turns()
    assert [settled.outcomes[n].ok for n in ("first", "m1", "m2")] == [True, True, True]
