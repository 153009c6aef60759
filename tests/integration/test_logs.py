"""The service's JSON log on a real run: lines parse, record lines carry their fields, no secret shows."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from consumer.wire.codec import encode_avro
from sender.webhook import webhook_id
from tests.integration.test_pipeline import events, service_factory, subscription
from tests.integration.test_retries import stored
from tests.support.kafka import produce
from tests.support.receiver import Receiver
from tests.support.service import write_subscriptions

pytestmark = pytest.mark.kafka

__all__ = ["service_factory"]

RECORD_FIELDS = ("topic", "partition", "offset", "webhook_id", "subscription")


def test_a_failing_run_logs_json_lines_with_record_fields_and_no_secret(
    service_factory: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    secret = {
        "LOGTEST_BEARER": "bearer-" + secrets.token_hex(12),
        "LOGTEST_BASIC": "basic-" + secrets.token_hex(12),
        "LOGTEST_CLIENT_SECRET": "client-" + secrets.token_hex(12),
        "LOGTEST_API_KEY": "apikey-" + secrets.token_hex(12),
        "LOGTEST_SIGNING": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    }
    for url in ("/bearer", "/basic", "/oauth", "/key", "/token", "/paused"):
        receiver.behave(url, status=503)
    once = {"attempts": 1, "interval": "1s"}
    subs = [
        subscription(
            "bearer",
            receiver.url("/bearer"),
            auth={"type": "bearer", "token": "${LOGTEST_BEARER}"},
            signing_secrets=["${LOGTEST_SIGNING}"],
            retry=once,
        ),
        subscription(
            "basic",
            receiver.url("/basic"),
            auth={"type": "basic", "username": "ann", "password": "${LOGTEST_BASIC}"},
            retry=once,
        ),
        subscription(
            "oauth",
            receiver.url("/oauth"),
            auth={
                "type": "oauth2_client_credentials",
                "token_url": receiver.url("/token"),
                "client_id": "hookstream",
                "client_secret": "${LOGTEST_CLIENT_SECRET}",
            },
            retry=once,
        ),
        subscription(
            "key",
            receiver.url("/key"),
            auth={"type": "api_key", "header": "X-Api-Key", "key": "${LOGTEST_API_KEY}"},
            retry=once,
        ),
    ]
    paused = subscription(
        "paused",
        receiver.url("/paused"),
        auth={"type": "bearer", "token": "${LOGTEST_BEARER}"},
        retry={"attempts": 3, "interval": "4s"},
    )
    service = service_factory(
        [*subs, paused],
        HOOKSTREAM_LOG_FORMAT="json",
        HOOKSTREAM_LOG_LEVEL="DEBUG",
        HOOKSTREAM_RELOAD_INTERVAL="0.5",
        **secret,
    ).start()
    [event] = events(1, entity="Object")
    produce(kafka_bootstrap, service.input_topic, [b"\x00\xffnot an event", encode_avro(event)])

    # A change the service refuses, then one it applies: paused is deleted, so its retry is dropped when due.
    assert receiver.wait_for(lambda: len(receiver.requests("/paused")) == 1, timeout=30)
    path = Path(service.env["HOOKSTREAM_SUBSCRIPTIONS"])
    write_subscriptions(path, [*subs, {**paused, "retry": {"attempts": 9}}])
    assert receiver.wait_for(lambda: service.metric("hookstream_config_reloads_total", result="rejected"))
    write_subscriptions(path, subs)
    assert receiver.wait_for(
        lambda: service.metric("hookstream_retries_dropped_total", subscription="paused") == 1, timeout=30
    )
    assert len(stored(service, timeout=60, count=4)) == 4
    # The secrets did go out (the receiver saw them), so their absence from the log means something.
    sent = json.dumps([r.headers for r in receiver.requests()])
    assert secret["LOGTEST_BEARER"] in sent
    assert secret["LOGTEST_API_KEY"] in sent
    assert base64.b64encode(f"ann:{secret['LOGTEST_BASIC']}".encode()).decode() in sent
    # (The token request is a form, which the receiver does not record: it answers it 500.)
    assert "webhook-signature" in receiver.requests("/bearer")[0].headers
    service.stop()

    text = service.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON document
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= line.keys(), line
    for name, value in secret.items():
        assert value not in text, f"{name} is in the log"
    assert secret["LOGTEST_SIGNING"].removeprefix("whsec_") not in text
    for user, password in (("ann", "LOGTEST_BASIC"), ("hookstream", "LOGTEST_CLIENT_SECRET")):
        assert base64.b64encode(f"{user}:{secret[password]}".encode()).decode() not in text

    def about(message: str) -> list[dict[str, Any]]:
        return [line for line in lines if line["message"].startswith(message)]

    dead = about("delivery failed for good")
    assert sorted(line["subscription"] for line in dead) == ["basic", "bearer", "key", "oauth"]
    for line in [*dead, *about("delivery failed, retry scheduled"), *about("dropped a retry")]:
        assert all(line.get(key) is not None for key in RECORD_FIELDS), line
        assert line["topic"] == service.input_topic
        assert line["webhook_id"] == webhook_id(event["event_id"], line["subscription"])
    assert {line["error_code"] for line in dead} == {"503", "oauth_token_error"}
    assert [line["subscription"] for line in about("dropped a retry")] == ["paused"]
    [invalid] = about("invalid event")
    assert (invalid["topic"], invalid["offset"]) == (service.input_topic, 0)
    assert isinstance(invalid["partition"], int)
    # Each reload is logged once, by the service.
    assert len(about("subscriptions reloaded")) == 1
    [refused] = about("subscription change refused")
    assert "retry.attempts" in refused["error"]
