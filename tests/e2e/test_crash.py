"""Nothing is lost when the service dies mid-stream: kill -9, or SIGTERM with work in flight."""

from __future__ import annotations

import time
from typing import Any

import pytest

from consumer.wire.codec import encode_avro
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import produce
from tests.support.receiver import Receiver

pytestmark = pytest.mark.kafka


def test_kill_9_mid_stream_then_restart_delivers_every_event(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    subs = [subscription("objects", receiver.url("/objects"))]
    sample = events(5000, entity="Object", event_type="OnNew")
    first = service_factory(subs)
    produce(kafka_bootstrap, first.input_topic, [encode_avro(e) for e in sample])
    first.start()
    assert receiver.wait_for(lambda: len(receiver.requests()) >= 1500, timeout=60)
    first.kill()
    at_crash = len(receiver.event_ids())
    assert at_crash < 5000, "the crash came too late to prove anything"

    second = service_factory(subs, prefix=first.prefix).start()
    wanted = {e["event_id"] for e in sample}
    assert receiver.wait_for(lambda: wanted <= set(receiver.event_ids()), timeout=120), (
        f"{len(wanted - set(receiver.event_ids()))} events never arrived"
    )
    seen = receiver.event_ids()
    duplicates = sum(n - 1 for n in seen.values())
    print(f"kill -9 after {at_crash} events: all 5000 delivered, {duplicates} duplicates")
    assert set(seen) == wanted
    second.stop()


def test_sigterm_mid_stream_finishes_in_flight_work_and_exits_within_the_grace_period(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/objects", delay=0.3)  # slow enough that many deliveries are in flight at SIGTERM
    subs = [subscription("objects", receiver.url("/objects"))]
    sample = events(1500, entity="Object", event_type="OnNew")
    first = service_factory(subs, HOOKSTREAM_GRACE_PERIOD="10", HOOKSTREAM_MAX_IN_FLIGHT="200")
    produce(kafka_bootstrap, first.input_topic, [encode_avro(e) for e in sample])
    first.start()
    assert receiver.wait_for(lambda: len(receiver.requests()) >= 300, timeout=60)
    stopped_at = time.monotonic()
    first.terminate()
    assert first.wait(timeout=20) == 0
    assert time.monotonic() - stopped_at < 12, "exit took longer than the grace period"
    before_restart = set(receiver.event_ids())
    assert len(before_restart) < 1500

    receiver.behave("/objects")
    second = service_factory(subs, prefix=first.prefix).start()
    wanted = {e["event_id"] for e in sample}
    assert receiver.wait_for(lambda: wanted <= set(receiver.event_ids()), timeout=90)
    # Work finished before SIGTERM was committed: at most the records in flight come again.
    duplicates = sum(n - 1 for n in receiver.event_ids().values())
    assert duplicates <= 200
    second.stop()
