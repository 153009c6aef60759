"""The sender's own metrics, read from its lanes when Prometheus scrapes (nothing on the hot path).

Per endpoint: the circuit breaker's state, the deliveries queued for a slot and
those under way. The endpoint label is the URL without userinfo, query or
fragment, where secrets sometimes ride; endpoints that differ only there share
one label, summed (the circuit: the worst of them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from yarl import URL

from .lanes import Lane

__all__ = ["CIRCUIT_STATES", "LaneCollector", "endpoint_label"]

#: The value of ``hookstream_circuit_state`` for each breaker state.
CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}


def endpoint_label(url: str) -> str:
    """``url`` without userinfo, query string or fragment."""
    try:
        parsed = URL(url)
    except ValueError:
        return "invalid-url"
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


class LaneCollector(Collector):
    """Collects from the lanes of one :class:`~sender.Sender` (keyed by endpoint URL) at scrape time."""

    def __init__(self, lanes: Mapping[str, Lane]) -> None:
        self._lanes = lanes

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        circuit, queued, in_flight = self._families()
        state: dict[str, int] = {}
        waiting: dict[str, int] = {}
        running: dict[str, int] = {}
        for url, lane in list(self._lanes.items()):
            label = endpoint_label(url)
            state[label] = max(state.get(label, 0), CIRCUIT_STATES[lane.breaker.state])
            waiting[label] = waiting.get(label, 0) + lane.queued
            running[label] = running.get(label, 0) + lane.in_flight
        for label in state:
            circuit.add_metric([label], state[label])
            queued.add_metric([label], waiting[label])
            in_flight.add_metric([label], running[label])
        yield from (circuit, queued, in_flight)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "hookstream_circuit_state",
                "Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open",
                labels=["endpoint"],
            ),
            GaugeMetricFamily(
                "hookstream_endpoint_queued",
                "Deliveries waiting for one of the endpoint's slots",
                labels=["endpoint"],
            ),
            GaugeMetricFamily(
                "hookstream_endpoint_in_flight", "Deliveries under way to the endpoint", labels=["endpoint"]
            ),
        )
