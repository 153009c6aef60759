"""The lock-free hot-path metrics export exactly what prometheus-client's own types would."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from admin.metrics import LoopCounter, LoopHistogram

BUCKETS = (0.005, 0.1, 1.0)
OBSERVED = (0.001, 0.005, 0.0051, 0.1, 0.5, 2.0, 7.5)


def _exposition(registry: CollectorRegistry) -> list[str]:
    # prometheus-client's own types add a _created sample per child; ours have no use for it.
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_a_loop_histogram_exposes_the_same_buckets_count_and_sum_as_prometheus_client() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopHistogram("d_seconds", "doc", ["sub"], buckets=BUCKETS, registry=ours)
    reference = Histogram("d_seconds", "doc", ["sub"], buckets=BUCKETS, registry=theirs)
    for value in OBSERVED:
        mine.labels("a").observe(value)
        reference.labels("a").observe(value)
    mine.labels("b").observe(0.2)
    reference.labels("b").observe(0.2)

    assert _exposition(ours) == _exposition(theirs)
    assert ours.get_sample_value("d_seconds_bucket", {"sub": "a", "le": "0.005"}) == 2


def test_a_loop_counter_exposes_the_same_samples_as_prometheus_client() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopCounter("hits", "doc", ["topic", "outcome"], registry=ours)
    reference = Counter("hits", "doc", ["topic", "outcome"], registry=theirs)
    for counter in (mine, reference):
        counter.labels("t", "ok").inc()
        counter.labels("t", "ok").inc(2)
        counter.labels("u", "failed").inc()
    plain = LoopCounter("plain", "doc", registry=ours)
    plain.inc(5)

    assert _exposition(ours)[: len(_exposition(theirs))] == _exposition(theirs)
    assert ours.get_sample_value("plain_total") == 5


def test_wrong_labels_are_refused_with_the_metric_name() -> None:
    counter = LoopCounter("hits", "doc", ["topic"], registry=CollectorRegistry())
    with pytest.raises(ValueError, match="hits takes labels"):
        counter.labels("a", "b")
    with pytest.raises(ValueError, match="hits has labels"):
        counter.inc()


def test_a_name_taken_twice_in_one_registry_is_refused() -> None:
    registry = CollectorRegistry()
    LoopCounter("hits", "doc", registry=registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Counter("hits", "doc", registry=registry)
