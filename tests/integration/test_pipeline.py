"""Events in, webhooks out, through a real broker and a real `hookstream run` process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consumer.dev.samples import sample_events
from consumer.wire.codec import encode_avro, encode_json
from consumer.wire.records import decode_delivery
from tests.support.kafka import committed, create_topics, produce, read_topic, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka


def subscription(
    name: str, url: str, entity: str = "Object", trigger: str = "OnNew", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "entity": entity,
        "triggers": [{"event_type": trigger, **extra.pop("components", {})}],
        "endpoint": {"type": "rest", "url": url, **extra.pop("endpoint", {})},
        **extra,
    }


@pytest.fixture
def service_factory(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Any]:
    started: list[ServiceProcess] = []

    def make(
        subscriptions: list[dict[str, Any]], *, partitions: int = 4, prefix: str | None = None, **env: str
    ) -> ServiceProcess:
        prefix = prefix or unique_prefix()
        path = write_subscriptions(tmp_path / f"subs-{len(started)}.yaml", subscriptions)
        service = ServiceProcess(kafka_bootstrap, prefix, path, tmp_path, env=env)
        if not started or started[-1].prefix != prefix:
            create_topics(kafka_bootstrap, service.input_topic, partitions=partitions)
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()


def events(n: int, **override: Any) -> list[dict[str, Any]]:
    return [{**e, **override} for e in sample_events(n)]


def test_each_event_reaches_exactly_the_matching_active_subscriptions(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    service = service_factory(
        [
            subscription("objects", receiver.url("/objects")),
            subscription("objects-off", receiver.url("/objects-off"), active=False),
            subscription("users", receiver.url("/users"), entity="User"),
            subscription(
                "resolved",
                receiver.url("/resolved"),
                trigger="OnNewActivity",
                components={"activity_types": [2], "statuses": [2]},
            ),
        ]
    ).start()
    sample = events(8)  # two of each kind: Object.OnNew, User.OnNew, Object.OnNewActivity(status 2), WhatsApp
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample])

    assert receiver.wait_for(lambda: len(receiver.requests()) >= 6, timeout=30)
    time.sleep(1.0)  # anything misrouted would arrive by now
    by_kind = {(e["entity"], e["event_type"]): [] for e in sample}  # type: dict[tuple[str, str], list[str]]
    for e in sample:
        by_kind[(e["entity"], e["event_type"])].append(e["event_id"])
    assert sorted(receiver.event_ids("/objects")) == sorted(by_kind[("Object", "OnNew")])
    assert sorted(receiver.event_ids("/users")) == sorted(by_kind[("User", "OnNew")])
    assert sorted(receiver.event_ids("/resolved")) == sorted(by_kind[("Object", "OnNewActivity")])
    assert receiver.requests("/objects-off") == []
    assert len(receiver.requests()) == 6

    request = receiver.requests("/users")[0]
    assert set(request.body) == {
        "event_id",
        "event_time",
        "event_type",
        "entity",
        "entity_id",
        "current_context",
        "data",
    }
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["Content-Type"].startswith("application/json")
    assert "hookstream" in request.headers["User-Agent"]
    assert service.metric("hookstream_deliveries_total", subscription="users", outcome="success") == 2
    # The sender's own metrics are served from the same registry: a healthy endpoint's circuit is closed.
    exposition = service.get("/metrics")[1].decode()
    assert f'hookstream_circuit_state{{endpoint="{receiver.url("/users")}"}} 0.0' in exposition
    assert f'hookstream_endpoint_in_flight{{endpoint="{receiver.url("/users")}"}}' in exposition


def test_poison_records_go_to_the_invalid_topic_and_good_ones_are_delivered(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    service = service_factory([subscription("objects", receiver.url("/objects"))]).start()
    good = events(40, entity="Object", event_type="OnNew")
    bad = [b"\x00\xffgarbage", b'{"event_id": 1}', b"[]", encode_json({**good[0], "data": "not an object"})]
    values: list[bytes] = []
    for n, event in enumerate(good):
        values.append(encode_avro(event) if n % 2 else encode_json(event))
        if n % 10 == 0:
            values.append(bad[n // 10])
    produce(kafka_bootstrap, service.input_topic, values)

    assert receiver.wait_for(lambda: len(receiver.event_ids("/objects")) == 40, timeout=30)
    invalid = read_topic(kafka_bootstrap, f"{service.prefix}.invalid", expected=4)
    assert sorted(m.value() for m in invalid) == sorted(bad)
    headers = dict(invalid[0].headers())
    assert headers["hookstream-source-topic"] == service.input_topic.encode()
    assert headers["hookstream-error-code"] in {b"unknown_format", b"schema_error", b"json_error"}
    assert int(headers["hookstream-source-offset"]) >= 0
    assert service.metric("hookstream_events_invalid_total") == 4


def test_a_hanging_delivery_holds_the_committed_offset_while_later_ones_finish(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/slow", delay=12)
    service = service_factory(
        [
            subscription("slow", receiver.url("/slow"), endpoint={"timeout": 30}),
            subscription("fast", receiver.url("/fast"), entity="User"),
        ],
        partitions=1,
    ).start()
    first = events(1, entity="Object", event_type="OnNew")
    rest = events(30, entity="User", event_type="OnNew")
    produce(kafka_bootstrap, service.input_topic, [encode_json(e) for e in first + rest])

    assert receiver.wait_for(lambda: len(receiver.event_ids("/fast")) == 30, timeout=30)
    time.sleep(2.5)  # past the auto-commit interval: anything stored would be committed by now
    assert committed(kafka_bootstrap, service.prefix, service.input_topic) < 1

    assert receiver.wait_for(
        lambda: committed(kafka_bootstrap, service.prefix, service.input_topic) == 31, timeout=40
    )
    assert len(receiver.event_ids("/slow")) == 1


@pytest.mark.parametrize(
    ("delay", "n"),
    [(0.3, 16), (1.5, 12)],
    ids=["room-comes-quickly", "paused-while-stuck"],
)
def test_in_flight_deliveries_never_exceed_the_limit_and_none_is_lost(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str, delay: float, n: int
) -> None:
    # A slow receiver: the intake stops consuming at the limit, and pauses its
    # partitions when no room comes for a second (which purges librdkafka's
    # prefetched records: they must be fetched again, not skipped).
    receiver.behave("/slow", delay=delay)
    service = service_factory(
        [subscription("slow", receiver.url("/slow"))], partitions=1, HOOKSTREAM_MAX_IN_FLIGHT="4"
    ).start()
    produce(
        kafka_bootstrap,
        service.input_topic,
        [encode_json(e) for e in events(n, entity="Object", event_type="OnNew")],
    )

    assert receiver.wait_for(lambda: len(receiver.requests("/slow")) >= n, timeout=60)
    assert receiver.wait_for(
        lambda: committed(kafka_bootstrap, service.prefix, service.input_topic) == n, timeout=20
    )
    assert receiver.most_under_way == 4
    assert sorted(receiver.event_ids("/slow").values()) == [1] * n


def test_a_hanging_endpoint_does_not_hold_back_the_events_of_a_healthy_one(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    # Every event goes to both. The input may hold 20 events at once and the hanging
    # endpoint 4 deliveries: without isolation its queue would hold the other 16 places
    # for the whole queue wait (5 s), and the healthy endpoint would get 16 events per 5 s.
    receiver.behave("/hang", delay=60)
    service = service_factory(
        [
            subscription("hanging", receiver.url("/hang"), endpoint={"timeout": 12}),
            subscription("healthy", receiver.url("/ok")),
        ],
        HOOKSTREAM_MAX_IN_FLIGHT="20",
        HOOKSTREAM_SENDER__MAX_IN_FLIGHT_PER_ENDPOINT="4",
    ).start()
    n = 100
    produce(
        kafka_bootstrap,
        service.input_topic,
        [encode_json(e) for e in events(n, entity="Object", event_type="OnNew")],
    )

    assert receiver.wait_for(lambda: len(receiver.event_ids("/ok")) == n, timeout=8)
    assert receiver.most_under_way == 4
    # The hanging endpoint's other deliveries were never sent: they wait on the lowest rung of the
    # retry ladder for the same first attempt, which they have not used up.
    retries = read_topic(kafka_bootstrap, f"{service.prefix}.retry.1m", expected=n - 4, timeout=10)
    records = [decode_delivery(r.value()) for r in retries]
    assert len(records) == n - 4
    assert {(r.subscription, r.attempt, r.history) for r in records} == {("hanging", 1, ())}
    assert {dict(r.headers() or [])["hookstream-deferrals"] for r in retries} == {b"1"}
    assert (
        service.metric("hookstream_deliveries_total", outcome="deferred", error_code="endpoint_busy") == n - 4
    )


def test_a_catalog_reload_changes_the_shaping_of_the_next_events(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.yaml"
    original = (Path(__file__).resolve().parents[2] / "config" / "catalog.yaml").read_text()
    catalog.write_text(original)
    service = service_factory(
        [subscription("objects", receiver.url("/objects"))],
        HOOKSTREAM_CATALOG=str(catalog),
        HOOKSTREAM_RELOAD_INTERVAL="0.2",
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_json(e) for e in events(1)])
    assert receiver.wait_for(lambda: len(receiver.requests("/objects")) == 1, timeout=30)
    assert "tags" not in receiver.requests("/objects")[0].body["data"]

    catalog.write_text(original.replace("assigned_user_id, created, modified]", "assigned_user_id, tags]", 1))
    deadline = time.monotonic() + 20
    while service.metric("hookstream_config_reloads_total", result="applied") < 1:
        assert time.monotonic() < deadline, service.log()
        time.sleep(0.1)
    produce(kafka_bootstrap, service.input_topic, [encode_json(e) for e in events(1)])

    assert receiver.wait_for(lambda: len(receiver.requests("/objects")) == 2, timeout=30)
    data = receiver.requests("/objects")[1].body["data"]
    # The reloaded catalog's fields, not the ones the process started with.
    assert data["tags"] == ["vip", "sample"]
    assert "created" not in data


def test_topics_a_broker_failure_could_lose_records_from_are_named_at_start(
    service_factory: Any, kafka_bootstrap: str
) -> None:
    # Outside development mode; the local broker is a single node, so every topic is unsafe.
    service = service_factory(
        [subscription("remote", "https://hooks.example.com/in")], HOOKSTREAM_DEVELOPMENT="false"
    ).start()
    for topic in (service.input_topic, f"{service.prefix}.dlq", f"{service.prefix}.retry.5m"):
        assert service.metric("hookstream_topic_replication_unsafe", topic=topic) == 1
    assert "replication factor 1 < 3, min.insync.replicas 1 < 2" in service.log()
