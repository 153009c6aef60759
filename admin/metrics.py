"""Prometheus metrics of the service, one registry per process.

The consumer and the senders record; :mod:`admin.app` serves ``/metrics``.
Labels stay bounded: subscription names come from configuration, error codes
are HTTP statuses or a short fixed list of names.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric

__all__ = ["LoopCounter", "LoopHistogram", "Metrics"]

Child = TypeVar("Child")
Family = TypeVar("Family", CounterMetricFamily, HistogramMetricFamily)

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _Count:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class _Observations:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.sum += value
        self.counts[bisect_left(self.bounds, value)] += 1


class _LoopMetric(Generic[Child, Family]):
    """What the loop metrics share: children per label values, registered for scrapes."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self._name, self._documentation, self._labelnames = name, documentation, tuple(labelnames)
        self._children: dict[tuple[str, ...], Child] = {}
        registry.register(self)

    def labels(self, *values: str) -> Child:
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self._labelnames):
                raise ValueError(f"{self._name} takes labels {self._labelnames}, not {values}")
            child = self._children[values] = self._child()
        return child

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, child in self._children.items():
            self._add(family, values, child)
        yield family

    def _child(self) -> Child:
        raise NotImplementedError

    def _family(self) -> Family:
        raise NotImplementedError

    def _add(self, family: Family, values: tuple[str, ...], child: Child) -> None:
        raise NotImplementedError


class LoopCounter(_LoopMetric[_Count, CounterMetricFamily]):
    """A counter for the per-event hot path, touched only from the event loop's thread.

    prometheus-client's own metrics take a lock on every increment; these are
    plain numbers, read at scrape time (the admin server runs on the same loop).
    Same surface: ``labels(...).inc()``, or ``inc()`` without labels.
    """

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str] = (), *, registry: CollectorRegistry
    ) -> None:
        super().__init__(name, documentation, labelnames, registry)
        self._unlabelled = None if labelnames else self.labels()

    def inc(self, amount: float = 1.0) -> None:
        if self._unlabelled is None:
            raise ValueError(f"{self._name} has labels {self._labelnames}")
        self._unlabelled.value += amount

    def _child(self) -> _Count:
        return _Count()

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: CounterMetricFamily, values: tuple[str, ...], child: _Count) -> None:
        family.add_metric(values, child.value)


class LoopHistogram(_LoopMetric[_Observations, HistogramMetricFamily]):
    """A histogram for the per-event hot path; see :class:`LoopCounter`."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._bounds = (*sorted(buckets), float("inf"))
        super().__init__(name, documentation, labelnames, registry)

    def _child(self) -> _Observations:
        return _Observations(self._bounds)

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)

    def _add(self, family: HistogramMetricFamily, values: tuple[str, ...], child: _Observations) -> None:
        cumulative, buckets = 0, []
        for bound, count in zip(child.bounds, child.counts, strict=True):
            cumulative += count
            buckets.append((_bound_text(bound), float(cumulative)))
        family.add_metric(values, buckets, child.sum)


def _bound_text(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class Metrics:
    """Every metric hookstream exports, on a registry of its own (tests build one each)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # Touched once or more per event: lock-free.
        self.events_consumed = LoopCounter(
            "hookstream_events_consumed", "Records read from input topics", ["topic"], registry=r
        )
        self.events_invalid = Counter(
            "hookstream_events_invalid", "Records sent to the invalid-events topic", ["reason"], registry=r
        )
        self.events_matched = LoopCounter(
            "hookstream_events_matched", "Event and subscription pairs matched by the router", registry=r
        )
        self.deliveries = LoopCounter(
            "hookstream_deliveries",
            "Delivery attempts by subscription and outcome (success, retry, dead_letter, dropped)",
            ["subscription", "outcome", "error_code"],
            registry=r,
        )
        self.delivery_duration = LoopHistogram(
            "hookstream_delivery_duration_seconds",
            "Time of one delivery attempt, request sent to response read",
            ["subscription"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("hookstream_deliveries_in_flight", "Deliveries under way", registry=r)
        self.consumer_lag = Gauge(
            "hookstream_consumer_lag",
            "Records behind the partition's end, per consumed partition",
            ["group", "topic", "partition"],
            registry=r,
        )
        self.retries_scheduled = Counter(
            "hookstream_retries_scheduled",
            "Deliveries written to a retry topic",
            ["subscription"],
            registry=r,
        )
        self.retries_dropped = Counter(
            "hookstream_retries_dropped",
            "Retries not delivered because their subscription is gone or inactive",
            ["subscription"],
            registry=r,
        )
        self.retry_backlog = Gauge(
            "hookstream_retry_backlog", "Records waiting in a retry topic", ["topic"], registry=r
        )
        self.retry_head_age = Gauge(
            "hookstream_retry_head_age_seconds",
            "Age of the oldest waiting record of a retry topic",
            ["topic"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "hookstream_dead_lettered",
            "Deliveries written to the dead-letter topic",
            ["subscription"],
            registry=r,
        )
        self.failed_stored = Counter(
            "hookstream_failed_events_stored",
            "Failed events written to the store (each once) or opened again by a new failure",
            registry=r,
        )
        self.failed_open = Gauge(
            "hookstream_failed_events_open", "Open failed events in the store", registry=r
        )
        self.resends = Counter(
            "hookstream_resends", "Resends of failed events by result", ["result"], registry=r
        )
        self.config_reloads = Counter(
            "hookstream_config_reloads",
            "Subscription reloads by result (applied, rejected)",
            ["result"],
            registry=r,
        )
        self.subscriptions = Gauge(
            "hookstream_subscriptions", "Subscriptions in force", ["state"], registry=r
        )
