"""The sender's metrics, read from its lanes at scrape time: no secrets in labels, one sample per endpoint."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from sender.lanes import Job, Lane
from sender.metrics import LaneCollector, endpoint_label
from sender.outcome import Message, Outcome
from sender.settings import BreakerSettings


def test_the_endpoint_label_drops_userinfo_query_and_fragment() -> None:
    label = endpoint_label("https://user:pw@crm.example.com:8443/hooks?token=s3cret#x")
    assert label == "https://crm.example.com:8443/hooks"


async def test_lanes_are_read_at_scrape_time_and_urls_differing_in_secrets_share_a_label() -> None:
    gate: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

    class Hanging:
        async def attempt(self, _message: Message) -> Outcome:
            return await gate

    breaker = BreakerSettings(min_requests=1, failure_rate=0.5, open_for=3600)
    busy, tripped = Lane(1, breaker), Lane(1, breaker)
    tripped.breaker.record(tripped.breaker.acquire() or 0, True)
    lanes = {"https://a.example.com/h?key=1": busy, "https://a.example.com/h?key=2": tripped}
    registry = CollectorRegistry()
    registry.register(LaneCollector(lanes))
    for n in range(3):
        busy.submit(Job(Hanging(), Message(f"msg_{n}", 0, {}), _Ignored()))
    await asyncio.sleep(0)

    labels = {"endpoint": "https://a.example.com/h"}
    assert registry.get_sample_value("hookstream_endpoint_in_flight", labels) == 1
    assert registry.get_sample_value("hookstream_endpoint_queued", labels) == 2
    assert registry.get_sample_value("hookstream_circuit_state", labels) == 2  # the worst: open
    assert b"key=" not in generate_latest(registry)
    gate.set_result(Outcome(ok=True, status=200))
    for lane in lanes.values():
        await asyncio.gather(*lane.close(), return_exceptions=True)


class _Ignored:
    def settle(self, outcome: Outcome) -> None:
        pass
