"""Bad input and passing faults never stop the service, and nothing vanishes.

- a poison mix on the input and retry topics: every valid event is delivered, every bad record is on
  the invalid-events topic with its error code, the process never exits and the lag reaches 0;
- the store's PostgreSQL stopped for 20 seconds mid-run: deliveries go on, /readyz says why, the
  dead letters are stored once it is back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from consumer.wire.codec import encode_avro, encode_json
from store import FailedEventFilter, Store
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import committed, create_topics, produce, read_topic, unique_prefix
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

_BIG = 11 * 1024 * 1024  # over the 10 MiB the invalid-events topic takes


def _poison(good: dict[str, Any]) -> dict[str, bytes]:
    """Bad records, each named for the fault it carries."""
    avro = encode_avro(good)
    wrong_types = {
        f"{field}_{kind}": encode_json({**good, field: value})
        for field in ("event_id", "event_time", "entity", "event_type", "entity_id", "channel", "data")
        for kind, value in (("list", [1]), ("object", {"a": 1}), ("bool", True), ("null", None))
        # A channel may be absent and data is an object: those two are valid events.
        if (field, kind) not in {("channel", "null"), ("data", "object")}
    }
    return {
        "garbage": b"\x00\xff\xfegarbage",
        "empty": b"",
        "truncated_avro": avro[: len(avro) // 2],
        "avro_with_a_flipped_header": avro[:2] + bytes([avro[2] ^ 0xFF]) + avro[3:],
        "time_out_of_range": encode_json({**good, "event_time": 99999999999999999}),
        "negative_time": encode_json({**good, "event_time": -99999999999999999}),
        "huge_channel": json.dumps({**good, "channel": 10**30}).encode(),  # beyond what orjson writes
        "json_array": b"[]",
        "json_number": b"42",
        "deep_json": b"[" * 100_000 + b"]" * 100_000,
        "over_the_size_limit": b"{" + b" " * _BIG + b"}",
        **wrong_types,
    }


def _create_input_topic(bootstrap: str, topic: str) -> None:
    # The input topic takes records larger than the invalid-events topic does.
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, num_partitions=2, replication_factor=1, config={"max.message.bytes": str(16 << 20)})
    for future in admin.create_topics([new]).values():
        future.result(timeout=30)


def _produce_big(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 16 << 20})
    for value in values:
        producer.produce(topic, value)
    assert producer.flush(60) == 0


@pytest.fixture
def stopped_after() -> Iterator[list[ServiceProcess]]:
    """Services to stop when the test ends, whether it passed or not."""
    services: list[ServiceProcess] = []
    yield services
    for service in services:
        service.stop()


def test_a_poison_mix_is_set_aside_and_every_valid_event_delivered(
    kafka_bootstrap: str, receiver: Receiver, tmp_path: Path, stopped_after: list[ServiceProcess]
) -> None:
    prefix = unique_prefix("poison")
    service = ServiceProcess(
        kafka_bootstrap,
        prefix,
        write_subscriptions(tmp_path / "subs.yaml", [subscription("objects", receiver.url("/objects"))]),
        tmp_path,
    )
    _create_input_topic(kafka_bootstrap, service.input_topic)
    stopped_after.append(service.start())
    good = events(30, entity="Object", event_type="OnNew")
    poison = _poison(good[0])
    values: list[bytes] = []
    for n, event in enumerate(good):
        values.append(encode_avro(event) if n % 2 else encode_json(event))
    values[5:5] = list(poison.values())
    _produce_big(kafka_bootstrap, service.input_topic, values)
    # A record on a retry topic (the service created it) that hookstream did not write.
    produce(kafka_bootstrap, f"{prefix}.retry.5m", [b"not a delivery record"])

    assert receiver.wait_for(lambda: len(receiver.event_ids("/objects")) == 30, timeout=60), service.log()
    invalid = read_topic(kafka_bootstrap, f"{prefix}.invalid", expected=len(poison) + 1, timeout=60)
    assert len(invalid) == len(poison) + 1
    codes = {dict(m.headers() or [])["hookstream-error-code"].decode() for m in invalid}
    assert codes <= {
        "empty",
        "unknown_format",
        "unknown_schema",
        "avro_error",
        "json_error",
        "schema_error",
        "not_a_delivery_record",
    }, codes
    assert "not_a_delivery_record" in codes
    # The record over the limit is kept as an excerpt that says so.
    [cut] = [m for m in invalid if "hookstream-truncated" in dict(m.headers() or [])]
    assert len(cut.value() or b"") < 1 << 20
    assert service.proc is not None
    assert service.proc.poll() is None, service.log()
    # Every offset is committed: the group's lag reaches 0 on each partition.
    assert receiver.wait_for(
        lambda: (
            sum(max(0, committed(kafka_bootstrap, prefix, service.input_topic, p)) for p in range(2))
            == len(values)
        ),
        timeout=30,
    )


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


def _stored(url: str) -> int:
    async def count() -> int:
        async with Store(url) as store:
            return (await store.list_failed(FailedEventFilter(state=None), limit=500)).total

    try:
        return asyncio.run(count())
    except Exception:  # the database is away
        return -1


@pytest.mark.postgres
def test_the_store_stopped_for_20_seconds_loses_nothing_and_stops_no_delivery(
    kafka_bootstrap: str,
    receiver: Receiver,
    tmp_path: Path,
    postgres: PostgresServer,
    stopped_after: list[ServiceProcess],
) -> None:
    url = postgres.url(postgres.create_database())
    receiver.behave("/broken", status=500)
    subs = [
        subscription("ok", receiver.url("/ok")),
        subscription("broken", receiver.url("/broken"), retry={"attempts": 0}),
    ]
    prefix = unique_prefix("pgdown")
    service = ServiceProcess(
        kafka_bootstrap,
        prefix,
        write_subscriptions(tmp_path / "subs.yaml", subs),
        tmp_path,
        # The breaker stays closed, so that every failure goes to the dead-letter topic at once.
        env={"HOOKSTREAM_STORE_URL": url, "HOOKSTREAM_SENDER__BREAKER__MIN_REQUESTS": "1000000"},
    )
    create_topics(kafka_bootstrap, service.input_topic, partitions=2)
    stopped_after.append(service.start())
    first = events(10, entity="Object", event_type="OnNew")
    produce(kafka_bootstrap, service.input_topic, [encode_json(e) for e in first])
    assert receiver.wait_for(lambda: _stored(url) == 10, timeout=60), service.log()

    postgres.stop()
    try:
        later = events(20, entity="Object", event_type="OnNew")
        produce(kafka_bootstrap, service.input_topic, [encode_json(e) for e in later])
        # Deliveries go on while the store is away, and the service says why it is not ready.
        assert receiver.wait_for(lambda: len(receiver.event_ids("/ok")) == 30, timeout=30), service.log()
        assert receiver.wait_for(lambda: service.get("/readyz")[0] == 503, timeout=30), service.log()
        reason = json.loads(service.get("/readyz")[1])["reason"]
        assert "store is unavailable" in reason
        assert service.metric("hookstream_store_available") == 0
        time.sleep(max(0.0, 20 - 5))
    finally:
        postgres.start()

    assert receiver.wait_for(lambda: _stored(url) == 30, timeout=90), service.log()
    assert receiver.wait_for(lambda: service.get("/readyz")[0] == 200, timeout=30)
    assert service.metric("hookstream_store_available") == 1
    assert service.proc is not None
    assert service.proc.poll() is None
