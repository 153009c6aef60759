"""Two ``main`` processes in one consumer group split the input partitions and lose nothing, also
when one of them stops in the middle."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from consumer.wire.codec import encode_avro
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

PARTITIONS = 4


def partitions(service: ServiceProcess) -> set[int]:
    """The input partitions the process reports lag for: the ones it owns."""
    _status, body = service.get("/metrics")
    found = re.findall(
        rf'^hookstream_consumer_lag\{{group="{service.prefix}",partition="(\d+)",topic="{re.escape(service.input_topic)}"\}}',
        body.decode(),
        re.MULTILINE,
    )
    return {int(p) for p in found}


def produce_objects(bootstrap: str, topic: str, n: int) -> None:
    sample = [{**e, "entity": "Object", "event_type": "OnNew"} for e in events(n)]
    produce(
        bootstrap, topic, [encode_avro(e) for e in sample], keys=[e["entity_id"].encode() for e in sample]
    )


def test_two_main_processes_split_the_partitions_and_deliver_every_event(
    receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = unique_prefix("scale")
    subs = write_subscriptions(tmp_path / "subs.yaml", [subscription("objects", receiver.url("/objects"))])
    members = []
    for name in ("a", "b"):
        logs = tmp_path / name
        logs.mkdir()
        members.append(ServiceProcess(kafka_bootstrap, prefix, subs, logs, role="main"))
    a, b = members
    create_topics(kafka_bootstrap, a.input_topic, partitions=PARTITIONS)
    try:
        for member in members:
            member.start()
        for member in members:
            member.wait_ready()
        # Keyed, so every partition gets some and both members have records to deliver.
        produce_objects(kafka_bootstrap, a.input_topic, 200)
        assert receiver.wait_for(lambda: len(receiver.event_ids("/objects")) >= 200, timeout=60)
        assert a.metric("hookstream_events_consumed_total") > 0
        assert b.metric("hookstream_events_consumed_total") > 0
        assert (
            a.metric("hookstream_events_consumed_total") + b.metric("hookstream_events_consumed_total") == 200
        )

        # Each reports the lag of its own partitions only (the gauges refresh every 5 s).
        split = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not split:
            owned_a, owned_b = partitions(a), partitions(b)
            split = bool(owned_a) and bool(owned_b) and owned_a | owned_b == set(range(PARTITIONS))
            split = split and not owned_a & owned_b
            time.sleep(0.5)
        assert split, f"a: {partitions(a)}, b: {partitions(b)}\n{a.log()}\n{b.log()}"

        # One member leaves (a rolling update, a scale-in): the other takes its partitions over.
        b.terminate()
        assert b.wait(40) == 0, b.log()
        produce_objects(kafka_bootstrap, a.input_topic, 200)
        assert receiver.wait_for(lambda: len(receiver.event_ids("/objects")) >= 400, timeout=90), a.log()
        delivered = receiver.event_ids("/objects")
        assert len(delivered) == 400  # every event at least once, none lost
        assert receiver.wait_for(lambda: partitions(a) == set(range(PARTITIONS)), timeout=20), partitions(a)
    finally:
        for member in members:
            member.stop()
