"""A subscription managed over HTTP, end to end: the admin API of a live `hookstream run` (role all)
creates, suspends, resumes and deletes it, and a real receiver sees what it delivers.

A file subscription on the same events is the control: while the API one is suspended, the process
still delivers to the file one, so "nothing arrived" means "suspended", not "stalled".
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin.api import hash_token
from admin.secrets import generate_key
from consumer.dev.samples import sample_events
from consumer.wire.codec import encode_json
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

ADMIN = secrets.token_urlsafe(24)
OPERATOR = secrets.token_urlsafe(24)
PASSWORD = "typed-in-over-http-" + secrets.token_hex(4)
#: One entity id on a one-partition topic: every event is handled after the one before it.
ENTITY = "object-http-7"


class Api:
    def __init__(self, service: ServiceProcess) -> None:
        self.base = f"http://127.0.0.1:{service.admin_port}/api/v1"
        self.answers: list[bytes] = []

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        self.answers.append(raw)
        return status, json.loads(raw) if raw else None


@pytest.fixture
def service(kafka_bootstrap: str, tmp_path: Path, receiver: Receiver) -> Iterator[ServiceProcess]:
    prefix = unique_prefix("subshttp")
    subs = write_subscriptions(
        tmp_path / "subs.yaml",
        [
            {
                "name": "file-control",
                "entity": "Object",
                "triggers": [{"event_type": "OnNew"}],
                "endpoint": {"url": receiver.url("/file")},
            }
        ],
    )
    tokens = [
        {"name": "alice", "sha256": hash_token(ADMIN), "role": "admin"},
        {"name": "ops", "sha256": hash_token(OPERATOR), "role": "operator"},
    ]
    proc = ServiceProcess(
        kafka_bootstrap,
        prefix,
        subs,
        tmp_path,
        env={"HOOKSTREAM_ADMIN__TOKENS": json.dumps(tokens), "HOOKSTREAM_SECRET_KEY": generate_key()},
    )
    create_topics(kafka_bootstrap, proc.input_topic, partitions=1)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _event() -> bytes:
    first = next(iter(sample_events(1)))
    assert (first["entity"], first["event_type"]) == ("Object", "OnNew")
    return encode_json({**first, "entity_id": ENTITY})


def test_a_subscription_created_over_http_delivers_until_suspended_again_when_resumed_and_not_once_deleted(
    service: ServiceProcess, receiver: Receiver, kafka_bootstrap: str
) -> None:
    api = Api(service)
    seen = {"/api": 0, "/file": 0}

    def send_and_expect(api_count: int) -> None:
        produce(kafka_bootstrap, service.input_topic, [_event()], key=ENTITY.encode())
        want = {"/api": seen["/api"] + api_count, "/file": seen["/file"] + 1}
        assert receiver.wait_for(lambda: all(len(receiver.requests(p)) >= n for p, n in want.items()), 10)
        # Both deliveries of one event go out together; an API one that should not happen would land
        # beside the file one, so give it a moment to show before counting.
        time.sleep(0.5)
        got = {path: len(receiver.requests(path)) for path in want}
        assert got == want, service.log()
        seen.update(got)

    body = {
        "name": "crm-over-http",
        "entity": "Object",
        "triggers": [{"event_type": "OnNew"}],
        "endpoint": {"url": receiver.url("/api")},
        "auth": {"type": "basic", "username": "crm", "password": PASSWORD},
    }
    assert api.call("POST", "/subscriptions", OPERATOR, body)[0] == 403  # creating needs admin
    status, created = api.call("POST", "/subscriptions", ADMIN, body)
    assert status == 201, created
    assert (created["source"], created["created_by"], created["modified_by"]) == ("api", "alice", "alice")
    assert created["config"]["auth"]["password"] == "[redacted]"
    send_and_expect(1)
    sent = receiver.requests("/api")[-1]
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"crm:{PASSWORD}".encode()).decode()

    status, suspended = api.call("POST", "/subscriptions/crm-over-http/suspend", OPERATOR)
    assert status == 200
    assert (suspended["suspended"], suspended["active"], suspended["suspended_by"]) == (True, False, "ops")
    send_and_expect(0)

    status, resumed = api.call("POST", "/subscriptions/crm-over-http/resume", OPERATOR)
    assert (status, resumed["suspended"], resumed["active"]) == (200, False, True)
    send_and_expect(1)

    status, listed = api.call("GET", "/subscriptions?source=api", OPERATOR)
    assert status == 200
    assert [item["name"] for item in listed["items"]] == ["crm-over-http"]

    assert api.call("DELETE", "/subscriptions/crm-over-http", ADMIN)[0] == 204
    assert api.call("GET", "/subscriptions/crm-over-http", ADMIN)[0] == 404
    send_and_expect(0)

    assert all(PASSWORD.encode() not in raw for raw in api.answers)
    assert PASSWORD not in service.log_path.read_text(errors="replace")
