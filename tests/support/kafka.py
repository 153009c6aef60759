"""The real local Kafka broker for tests: started once per session by deploy/local/kafka.sh."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"
# Not `make run`'s folder: the tests' broker starts on empty storage (kafka.sh fresh), and a
# developer's own topics must not vanish with it.
TEST_DATA_DIR = Path(tempfile.gettempdir()) / "hookstream-kafka-tests"
_PASSING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
}


def start_local_kafka(port: int = 9092, data_dir: str | None = None, *, fresh: bool = False) -> str:
    env = dict(os.environ, HOOKSTREAM_KAFKA_PORT=str(port))
    if data_dir:
        env["HOOKSTREAM_KAFKA_DIR"] = data_dir
    subprocess.run([str(KAFKA_SH), "fresh" if fresh else "start"], check=True, env=env)
    return f"127.0.0.1:{port}"


def free_port_pair() -> int:
    """A port whose successor is free too (kafka.sh puts the controller on port + 1)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two adjacent free ports")


def stop_local_kafka(port: int = 9092, data_dir: str | None = None) -> None:
    env = dict(os.environ, HOOKSTREAM_KAFKA_PORT=str(port))
    if data_dir:
        env["HOOKSTREAM_KAFKA_DIR"] = data_dir
    subprocess.run([str(KAFKA_SH), "stop"], check=True, env=env)


def bootstrap_servers() -> Iterator[str]:
    """Yield the broker's address: KAFKA_BOOTSTRAP_SERVERS, or the local broker started here."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    yield start_local_kafka(data_dir=str(TEST_DATA_DIR), fresh=True)


def unique_prefix(name: str = "t") -> str:
    """A topic prefix of its own for one test, so tests never see each other's records."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, *names: str, partitions: int = 4) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=30)


def produce(
    bootstrap: str,
    topic: str,
    values: list[bytes],
    *,
    key: bytes | None = None,
    keys: list[bytes] | None = None,
) -> None:
    """``keys``, one per value, spread the records over the partitions by hash; without a key,
    librdkafka's sticky partitioner fills one partition at a time."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    for n, value in enumerate(values):
        while True:
            try:
                producer.produce(topic, value, keys[n] if keys is not None else key)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[Any]:
    """Read ``expected`` records of ``topic`` from the start (or what came within ``timeout``)."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(records) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(100, 0.5):
            if msg.error() is None:
                records.append(msg)
    consumer.close()
    return records


def committed(bootstrap: str, group: str, topic: str, partition: int = 0, timeout: float = 60.0) -> int:
    """The offset ``group`` has committed on one partition (-1001 when none).

    Asks again while the answer is a passing one (NOT_COORDINATOR, a coordinator still loading):
    after a broker restart the group's coordinator takes a while to settle."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=10)
                return int(tp.offset)
            except KafkaException as e:
                if e.args[0].code() not in _PASSING or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        consumer.close()
