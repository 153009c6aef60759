"""Retry topics, the dead-letter topic and the failed-events store, on a real broker and a real process."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from consumer.wire.codec import encode_avro
from consumer.wire.records import decode_delivery
from store import FailedEvent, FailedEventFilter, Store
from tests.integration.test_pipeline import events, service_factory, subscription
from tests.support.kafka import ROOT, produce, read_topic
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

__all__ = ["service_factory"]


def stored(service: ServiceProcess, timeout: float = 30.0, count: int = 1) -> list[FailedEvent]:
    """The failed events in the service's store, once ``count`` of them are there."""

    async def read() -> list[FailedEvent]:
        async with Store(service.env["HOOKSTREAM_STORE_URL"]) as store:
            page = await store.list_failed(FailedEventFilter(state=None), limit=100)
            full = [await store.get_failed(item.id) for item in page.items]
            return [f for f in full if f is not None]

    deadline = time.monotonic() + timeout
    while True:
        found = (
            asyncio.run(read()) if Path(service.env["HOOKSTREAM_STORE_URL"].split("///")[1]).exists() else []
        )
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_fails_twice_then_succeeds_on_the_third_attempt_each_interval_respected(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/flaky", fail_first=2, fail_status=503)
    service = service_factory(
        [subscription("flaky", receiver.url("/flaky"), retry={"attempts": 3, "interval": "2s"})]
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])

    assert receiver.wait_for(lambda: len(receiver.requests("/flaky")) == 3, timeout=40)
    requests = receiver.requests("/flaky")
    assert [r.headers["webhook-attempt"] for r in requests] == ["1", "2", "3"]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for gap in gaps([r.at for r in requests]):
        assert 2.0 <= gap < 3.0, f"retry came {gap:.2f}s after the previous attempt (interval 2s)"
    time.sleep(1)
    assert read_topic(kafka_bootstrap, f"{service.prefix}.dlq", expected=1, timeout=3) == []
    assert service.metric("hookstream_retries_scheduled_total", subscription="flaky") == 2


def test_zero_attempts_go_straight_to_the_dead_letter_topic_and_the_store(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/down", status=500)
    service = service_factory(
        [subscription("no-retry", receiver.url("/down"), retry={"attempts": 0})]
    ).start()
    [event] = events(1, entity="Object")
    produce(kafka_bootstrap, service.input_topic, [encode_avro(event)])

    [dead] = read_topic(kafka_bootstrap, f"{service.prefix}.dlq", expected=1)
    record = decode_delivery(dead.value())
    assert record.event.event_id == event["event_id"]
    assert [a.error_code for a in record.history] == ["500"]
    [failed] = stored(service)
    assert failed.subscription == "no-retry"
    assert failed.event_id == event["event_id"]
    assert failed.error_code == "500"
    assert failed.attempt_count == 1
    assert len(receiver.requests("/down")) == 1


def test_configured_header_values_are_masked_in_dead_letters_unless_public(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    receiver.behave("/headers", status=500)
    key_file = tmp_path / "partner-key"
    key_file.write_text("key-from-a-file\n")
    endpoint = {
        "headers": {
            "X-Api-Key": "${PARTNER_API_KEY}",
            "X-Partner-Key": str(key_file),
            "X-Inline-Token": "inline-credential",
            "X-Tenant": "acme",
        },
        "public_headers": ["X-Tenant"],
    }
    service = service_factory(
        [subscription("headers", receiver.url("/headers"), retry={"attempts": 0}, endpoint=endpoint)],
        PARTNER_API_KEY="key-from-the-environment",
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])

    [dead] = read_topic(kafka_bootstrap, f"{service.prefix}.dlq", expected=1)
    [failed] = stored(service)

    [sent] = receiver.requests("/headers")
    assert sent.headers["X-Api-Key"] == "key-from-the-environment"
    assert sent.headers["X-Partner-Key"] == "key-from-a-file"
    assert sent.headers["X-Inline-Token"] == "inline-credential"
    expected = {
        "X-Api-Key": "[redacted]",
        "X-Partner-Key": "[redacted]",
        "X-Inline-Token": "[redacted]",
        "X-Tenant": "acme",
    }
    for copy in (decode_delivery(dead.value()).request_headers, failed.request_headers):
        assert {name: copy[name] for name in expected} == expected
        assert "key-from" not in str(copy)
        assert "inline-credential" not in str(copy)


def test_five_attempts_make_six_tries_and_the_store_keeps_the_whole_trial_history(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/broken", status=502)
    service = service_factory(
        [subscription("broken", receiver.url("/broken"), retry={"attempts": 5, "interval": "1s"})]
    ).start()
    [event] = events(1, entity="Object", channel=7, subchannel="wa-support")
    produce(kafka_bootstrap, service.input_topic, [encode_avro(event)])

    [failed] = stored(service, timeout=60)
    assert len(receiver.requests("/broken")) == 6
    assert failed.attempt_count == 6
    assert [a.number for a in failed.attempts] == [1, 2, 3, 4, 5, 6]
    assert {a.error_code for a in failed.attempts} == {"502"}
    assert failed.response_status == 502
    assert (failed.entity, failed.trigger, failed.channel, failed.subchannel) == (
        "Object",
        "OnNew",
        "7",
        "wa-support",
    )
    assert failed.url == receiver.url("/broken")
    assert '"event_id"' in failed.request_body
    assert service.metric("hookstream_dead_lettered_total", subscription="broken") == 1


def test_retry_after_pushes_the_next_attempt_later(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/limited", fail_first=1, fail_status=429, headers={"Retry-After": "4"})
    service = service_factory(
        [subscription("limited", receiver.url("/limited"), retry={"attempts": 2, "interval": "1s"})],
        HOOKSTREAM_RETRY_LADDER='["4s", "10s"]',
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])

    assert receiver.wait_for(lambda: len(receiver.requests("/limited")) == 2, timeout=30)
    [gap] = gaps([r.at for r in receiver.requests("/limited")])
    assert 4.0 <= gap < 5.5


def test_an_hour_of_retry_after_on_one_subscription_holds_up_no_other(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    # One partition, so both subscriptions' retries would share it if they shared a topic.
    receiver.behave("/limited", status=429, headers={"Retry-After": "3600"})
    receiver.behave("/flaky", fail_first=1, fail_status=503)
    service = service_factory(
        [
            subscription("limited", receiver.url("/limited"), retry={"attempts": 2, "interval": "2s"}),
            subscription("flaky", receiver.url("/flaky"), retry={"attempts": 2, "interval": "2s"}),
        ],
        partitions=1,
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])

    assert receiver.wait_for(lambda: len(receiver.requests("/flaky")) == 2, timeout=30)
    [gap] = gaps([r.at for r in receiver.requests("/flaky")])
    assert gap < 2.0 + 1.0  # its own interval plus a second, not the other's hour
    # The rate-limited one waits on the ladder's one-hour rung, alone.
    [waiting] = read_topic(kafka_bootstrap, f"{service.prefix}.retry.1h", expected=1, timeout=10)
    assert decode_delivery(waiting.value()).subscription == "limited"
    assert len(receiver.requests("/limited")) == 1


def test_kill_9_of_the_retry_consumer_while_paused_loses_nothing_and_delivers_nothing_early(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/later", fail_first=200, fail_status=503)
    subs = [subscription("later", receiver.url("/later"), retry={"attempts": 3, "interval": "8s"})]
    # The breaker would (rightly) open on 200 failures in a row; this test is about the retry topic.
    no_breaker = {"HOOKSTREAM_SENDER__BREAKER__MIN_REQUESTS": "100000"}
    first = service_factory(subs, **no_breaker)
    sample = events(200, entity="Object", event_type="OnNew")
    produce(kafka_bootstrap, first.input_topic, [encode_avro(e) for e in sample])
    first.start()
    assert receiver.wait_for(lambda: len(receiver.requests("/later")) >= 200, timeout=60)
    time.sleep(1.0)  # the retry intake has now paused its partitions until the records are due
    first.kill()

    second = service_factory(subs, prefix=first.prefix, **no_breaker).start()
    wanted = {e["event_id"] for e in sample}

    def delivered() -> set[str]:  # the receiver failed the first 200 requests and accepts the rest
        return {r.body["event_id"] for r in receiver.requests("/later")[200:]}

    assert receiver.wait_for(lambda: delivered() >= wanted, timeout=60), (
        f"{len(wanted - delivered())} events never delivered\n{second.log()}"
    )
    requests = receiver.requests("/later")
    firsts = {r.body["event_id"]: r.at for r in reversed(requests) if r.headers["webhook-attempt"] == "1"}
    retried = [r for r in requests if r.headers["webhook-attempt"] != "1"]
    assert retried, "no retry was delivered after the restart"
    for r in retried:
        assert r.at - firsts[r.body["event_id"]] >= 8.0, "a retry was delivered early"
    second.stop()


def test_retries_of_a_suspended_subscription_are_kept_as_failed_events_to_resend(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    receiver.behave("/paused", status=503)
    sub = subscription("paused", receiver.url("/paused"), retry={"attempts": 3, "interval": "4s"})
    service = service_factory([sub], HOOKSTREAM_RELOAD_INTERVAL="0.5").start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])
    assert receiver.wait_for(lambda: len(receiver.requests("/paused")) == 1, timeout=30)

    subscriptions = Path(service.env["HOOKSTREAM_SUBSCRIPTIONS"])
    write_subscriptions(subscriptions, [{**sub, "active": False}])
    [failed] = stored(service, timeout=30)
    assert (failed.subscription, failed.error_code) == ("paused", "subscription_suspended")
    assert [a.error_code for a in failed.attempts] == ["503", "subscription_suspended"]
    assert len(receiver.requests("/paused")) == 1  # nothing was sent while suspended

    # Resumed, and the endpoint healthy again: the operator resends it.
    receiver.behave("/paused", status=200)
    write_subscriptions(subscriptions, [sub])
    result = _resend(service, failed.id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(receiver.requests("/paused")) == 2


def _resend(service: ServiceProcess, failed_id: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in service.env.items() if k != "HOOKSTREAM_ROLE"}
    return subprocess.run(
        [sys.executable, "-m", "consumer.cli", "failed", "resend", str(failed_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_resend_on_failure_updates_and_on_success_closes_the_failed_event(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    receiver.behave("/crm", status=500)
    service = service_factory(
        [subscription("crm", receiver.url("/crm"), retry={"attempts": 0}, log="all")]
    ).start()
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in events(1, entity="Object")])
    [failed] = stored(service)

    receiver.behave("/crm", status=404)
    result = _resend(service, failed.id)
    assert result.returncode == 1, result.stdout + result.stderr
    [again] = stored(service)
    assert again.state == "open"
    assert again.attempt_count == 2
    assert again.error_code == "404"
    assert again.last_attempt_at > failed.last_attempt_at

    receiver.behave("/crm", status=200)
    result = _resend(service, failed.id)
    assert result.returncode == 0, result.stdout + result.stderr
    [closed] = stored(service)
    assert closed.state == "closed"
    assert [a.error_code for a in closed.attempts] == ["500", "404", None]
    requests = receiver.requests("/crm")
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert requests[-1].body == requests[0].body
    assert os.environ.get("HOOKSTREAM_ROLE") is None


def test_log_all_records_successful_requests_in_the_store(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    service = service_factory(
        [
            subscription("audited", receiver.url("/audited"), log="all"),
            subscription("quiet", receiver.url("/quiet"), entity="User"),
        ]
    ).start()
    sample = events(8)  # two Object.OnNew for "audited", two User.OnNew for "quiet"
    produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample])
    assert receiver.wait_for(lambda: len(receiver.requests()) == 4, timeout=30)

    async def counts() -> tuple[int, int]:
        async with Store(service.env["HOOKSTREAM_STORE_URL"]) as store:
            return await store.count_requests(subscription="audited"), await store.count_requests()

    deadline = time.monotonic() + 20
    while asyncio.run(counts()) != (2, 2) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert asyncio.run(counts()) == (2, 2)
