"""The consumer's Prometheus metrics: what it consumed, delivered, retried and dead-lettered.

They live on the process's one registry, which :mod:`admin.app` serves at
``/metrics`` next to the sender's (:mod:`sender.metrics`). Labels stay bounded:
subscription names come from configuration, error codes are HTTP statuses or a
short fixed list of names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

__all__ = ["ConsumerMetrics"]

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.events_consumed = Counter(
            "hookstream_events_consumed", "Records read from input topics", ["topic"], registry=r
        )
        self.events_invalid = Counter(
            "hookstream_events_invalid", "Records sent to the invalid-events topic", ["reason"], registry=r
        )
        self.events_matched = Counter(
            "hookstream_events_matched", "Event and subscription pairs matched by the router", registry=r
        )
        self.deliveries = Counter(
            "hookstream_deliveries",
            "Delivery attempts by subscription and outcome (success, retry, deferred, dead_letter)",
            ["subscription", "outcome", "error_code"],
            registry=r,
        )
        self.delivery_duration = Histogram(
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
        self.consumer_committed_lag = Gauge(
            "hookstream_consumer_committed_lag",
            "Records behind the partition's end from the first unfinished offset (the committed one)",
            ["group", "topic", "partition"],
            registry=r,
        )
        self.topic_replicas = Gauge(
            "hookstream_topic_replicas",
            "Fewest replicas of any partition of a topic hookstream reads or writes",
            ["topic"],
            registry=r,
        )
        self.topic_in_sync_replicas = Gauge(
            "hookstream_topic_in_sync_replicas",
            "Fewest in-sync replicas of any partition of a topic hookstream reads or writes",
            ["topic"],
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
            "hookstream_failed_events_stored", "Failed events written to the store (each once)", registry=r
        )
        self.store_available = Gauge(
            "hookstream_store_available",
            "1 while the failed-events store answers, 0 while it does not",
            registry=r,
        )
        self.store_available.set(1)
        self.topic_unsafe = Gauge(
            "hookstream_topic_replication_unsafe",
            "1 for a topic whose replication factor is below 3 or min.insync.replicas below 2",
            ["topic"],
            registry=r,
        )
        self.failed_open = Gauge(
            "hookstream_failed_events_open", "Open failed events in the store", registry=r
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
        # process_start_time_seconds counts restarts, process_resident_memory_bytes shows a leak.
        ProcessCollector(registry=r)
