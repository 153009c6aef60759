"""Nothing is lost when the broker dies mid-stream: kill -9 of Kafka itself, then a restart.

The test runs a broker of its own (deploy/local/kafka.sh on other ports, another
data folder), so killing it disturbs no other test.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from consumer.wire.codec import encode_avro
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import (
    committed,
    create_topics,
    free_port_pair,
    produce,
    start_local_kafka,
    stop_local_kafka,
)
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka


@dataclass
class Broker:
    port: int
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill_9(self) -> None:
        pid = int((self.data_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def start(self) -> None:
        start_local_kafka(self.port, str(self.data_dir))


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(free_port_pair(), tmp_path / "kafka")
    broker.start()
    yield broker
    stop_local_kafka(broker.port, str(broker.data_dir))


def test_kill_9_of_the_broker_mid_stream_loses_nothing(
    own_broker: Broker, receiver: Receiver, tmp_path: Path
) -> None:
    n = 4000
    # Slow enough that the stream is still under way when the broker dies; the flaky
    # endpoint sends its first failures to the retry topic, some of them during the outage.
    receiver.behave("/objects", delay=0.05)
    receiver.behave("/flaky", delay=0.05, fail_first=300, fail_status=503)
    subs = [
        subscription("objects", receiver.url("/objects")),
        subscription("flaky", receiver.url("/flaky"), retry={"attempts": 3, "interval": "2s"}),
    ]
    service = ServiceProcess(
        own_broker.bootstrap,
        "restart",
        write_subscriptions(tmp_path / "subs.yaml", subs),
        tmp_path,
        # The breaker stays closed, so that every failure takes the retry topic (not the dead-letter one).
        env={"HOOKSTREAM_MAX_IN_FLIGHT": "40", "HOOKSTREAM_SENDER__BREAKER__MIN_REQUESTS": "1000000"},
    )
    create_topics(own_broker.bootstrap, service.input_topic, partitions=4)
    sample = events(n, entity="Object", event_type="OnNew")
    produce(own_broker.bootstrap, service.input_topic, [encode_avro(e) for e in sample])
    service.start()
    try:
        assert receiver.wait_for(lambda: len(receiver.requests("/objects")) >= 600, timeout=60)
        own_broker.kill_9()
        at_kill = len(receiver.event_ids("/objects"))
        # The service goes on without its broker for a while, and says it is not ready.
        reasons = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            status, body = service.get("/readyz")
            if status == 503:
                reasons.append(json.loads(body)["reason"])
            time.sleep(0.2)
        own_broker.start()
        assert any("Kafka" in reason or "cannot write" in reason for reason in reasons), reasons

        wanted = {e["event_id"] for e in sample}
        for path in ("/objects", "/flaky"):
            assert receiver.wait_for(lambda p=path: wanted <= set(receiver.event_ids(p)), timeout=90), (
                f"{path}: {len(wanted - set(receiver.event_ids(path)))} events never arrived\n{service.log()}"
            )
        assert at_kill < n, "the broker died too late to prove anything"

        # Every input offset is committed in the end: nothing waits to be redelivered. The group may
        # have to rejoin first (its session expires when the outage outlasts it), behind a coordinator
        # that is still loading: give it a minute and a half.
        def offsets() -> list[int]:
            return [committed(own_broker.bootstrap, service.prefix, service.input_topic, p) for p in range(4)]

        # A partition that got no record has no commit (-1001): it has nothing to commit.
        assert receiver.wait_for(lambda: sum(max(0, o) for o in offsets()) == n, timeout=90), (
            f"committed {offsets()} of {n}\n{service.log()}"
        )
        # Ready again once the broker is back.
        assert receiver.wait_for(lambda: service.get("/readyz")[0] == 200, timeout=30), service.get("/readyz")
        duplicates = sum(c - 1 for c in receiver.event_ids("/objects").values())
        print(f"broker killed after {at_kill} of {n} events: all delivered, {duplicates} duplicates")
    finally:
        service.stop()
