"""Isolation of bad endpoints: in-flight limit and circuit breaker, against real receivers."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from sender import Message, Sender, Target
from sender.metrics import CIRCUIT_STATES
from tests.support.receivers.http import Receiver, Reply
from tests.support.receivers.loopback import loopback_settings

MESSAGE = Message(webhook_id="msg_iso", timestamp=1_700_000_000, body={"event_id": "e-1"})


def target(url: str, key: str = "sub") -> Target:
    return Target.model_validate({"key": key, "endpoint": {"type": "rest", "url": url, "timeout": 60}})


def in_flight(registry: CollectorRegistry, url: str) -> float | None:
    return registry.get_sample_value("hookstream_endpoint_in_flight", {"endpoint": url})


def circuit(registry: CollectorRegistry, url: str) -> str:
    value = registry.get_sample_value("hookstream_circuit_state", {"endpoint": url})
    return next(state for state, number in CIRCUIT_STATES.items() if number == value)


async def test_an_endpoint_at_its_limit_is_busy_while_others_are_served(receiver: Receiver) -> None:
    receiver.reply("/slow", Reply(hang=True))
    slow, fast = receiver.url("/slow"), receiver.url("/fast")
    settings = loopback_settings(max_in_flight_per_endpoint=2, endpoint_queue_wait=0)
    registry = CollectorRegistry()
    async with Sender(settings, registry=registry) as sender:
        hanging = [asyncio.create_task(sender.deliver(target(slow, f"s{i}"), MESSAGE)) for i in range(2)]
        await receiver.wait_for(2)

        busy = await sender.deliver(target(slow, "s3"), MESSAGE)
        other = await sender.deliver(target(fast), MESSAGE)

        assert (busy.ok, busy.error_code, busy.retryable) == (False, "endpoint_busy", True)
        assert other.ok
        assert (in_flight(registry, slow), in_flight(registry, fast)) == (2, 0)
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)
        # Cancelled deliveries give their places back.
        assert in_flight(registry, slow) == 0
        assert (await sender.deliver(target(fast), MESSAGE)).ok
    assert len(receiver.at("/slow")) == 2


async def test_the_circuit_opens_on_failures_and_spares_the_endpoint(receiver: Receiver) -> None:
    receiver.reply("/down", Reply(503))
    down, up = receiver.url("/down"), receiver.url("/up")
    breaker = {"min_requests": 4, "failure_rate": 0.5, "open_for": 3600}
    registry = CollectorRegistry()
    async with Sender(loopback_settings(breaker=breaker), registry=registry) as sender:
        failures = [await sender.deliver(target(down), MESSAGE) for _ in range(4)]
        refused = await sender.deliver(target(down), MESSAGE)
        healthy = await sender.deliver(target(up), MESSAGE)
        states = {url: circuit(registry, url) for url in (down, up)}

    assert [f.error_code for f in failures] == ["503"] * 4
    assert (refused.ok, refused.error_code, refused.retryable) == (False, "circuit_open", True)
    assert len(receiver.at("/down")) == 4
    assert healthy.ok
    assert states == {down: "open", up: "closed"}


async def test_client_errors_do_not_open_the_circuit(receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(400))
    registry = CollectorRegistry()
    async with Sender(loopback_settings(breaker={"min_requests": 3}), registry=registry) as sender:
        outcomes = [await sender.deliver(target(receiver.url()), MESSAGE) for _ in range(6)]
        state = circuit(registry, receiver.url())

    assert [o.error_code for o in outcomes] == ["400"] * 6
    assert state == "closed"


async def test_a_half_open_probe_that_succeeds_closes_the_circuit(receiver: Receiver) -> None:
    receiver.reply("/flaky", Reply(500))
    url = receiver.url("/flaky")
    breaker = {"min_requests": 2, "failure_rate": 0.5, "open_for": 0.001}
    registry = CollectorRegistry()
    async with Sender(loopback_settings(breaker=breaker), registry=registry) as sender:
        for _ in range(2):
            await sender.deliver(target(url), MESSAGE)
        await asyncio.sleep(0.01)  # past open_for: the next delivery is the probe
        assert circuit(registry, url) == "half_open"
        receiver.reply("/flaky", Reply(200))

        probe = await sender.deliver(target(url), MESSAGE)

        assert probe.ok
        assert circuit(registry, url) == "closed"


async def test_a_delivery_queues_for_a_slot_that_comes_free(receiver: Receiver) -> None:
    receiver.reply("/slow", Reply(hang=True))
    slow, quick = receiver.url("/slow"), receiver.url("/quick")
    registry = CollectorRegistry()
    async with Sender(loopback_settings(max_in_flight_per_endpoint=1), registry=registry) as sender:
        hanging = asyncio.create_task(sender.deliver(target(slow), MESSAGE))
        await receiver.wait_for(1)
        queued = asyncio.create_task(sender.deliver(target(slow, "second"), MESSAGE))
        await asyncio.sleep(0.05)  # let it reach the queue for the endpoint's only slot
        assert not queued.done()
        assert registry.get_sample_value("hookstream_endpoint_queued", {"endpoint": slow}) == 1
        receiver.reply("/slow", Reply(200))
        hanging.cancel()
        await asyncio.gather(hanging, return_exceptions=True)

        outcome = await queued

        assert outcome.ok, outcome
        assert (await sender.deliver(target(quick), MESSAGE)).ok
    assert len(receiver.at("/slow")) == 2


async def test_endpoints_that_together_want_more_than_the_pool_share_it_without_timeouts(
    receiver: Receiver,
) -> None:
    # Three endpoints of 16 slots each want 48 connections of a pool of 32. A delivery
    # waiting for a connection must get one in its turn, not be overtaken by fresh
    # requests until its timeout runs out (aiohttp's own pool limit lets that happen).
    urls = [receiver.url(f"/e{i}") for i in range(3)]
    settings = loopback_settings(max_in_flight_per_endpoint=16, pool_size=32)
    async with Sender(settings) as sender:
        targets = [
            Target.model_validate({"key": f"e{i}", "endpoint": {"type": "rest", "url": url, "timeout": 1.0}})
            for i, url in enumerate(urls)
        ]
        deliveries = [sender.deliver(targets[n % 3], MESSAGE) for n in range(6000)]
        outcomes = await asyncio.gather(*deliveries)

    failed = [(o.error_code, o.description) for o in outcomes if not o.ok]
    assert failed == []
    assert [len(receiver.at(f"/e{i}")) for i in range(3)] == [2000, 2000, 2000]
