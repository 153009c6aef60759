"""API-managed subscriptions through a real topic, to two real `hookstream run` processes.

The test process writes through the service layer (admin/subscriptions.py) over a feed of its own
on the same subscriptions topic, as the admin role does; each hookstream process has its own input
topic and group, so an event a process delivers proves that process applied the change.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from admin.secrets import generate_key
from admin.subscriptions import NameTaken, SubscriptionService
from consumer.dev.samples import sample_events
from consumer.settings import load_settings
from consumer.subscription_feed import SubscriptionFeed
from consumer.wire.codec import encode_json
from router.reload import SubscriptionSource
from tests.support.kafka import create_topics, produce, read_topic, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

pytestmark = pytest.mark.kafka

PASSWORD = "pa55word-typed-into-the-api"
SIGNING = "whsec_dHlwZWQtaW50by10aGUtYXBpLXNpZ25pbmc="
API_KEY = "x-api-key-typed-into-the-api"
SECRETS = (PASSWORD, SIGNING, API_KEY)
#: One entity id: every event goes to one partition, so each is handled after the one before it.
ENTITY = "object-42"


def event() -> bytes:
    first = next(e for e in sample_events(1))
    return encode_json({**first, "entity_id": ENTITY})


def api_body(url: str) -> dict[str, Any]:
    return {
        "name": "api-sub",
        "entity": "Object",
        "triggers": [{"event_type": "OnNew"}],
        "endpoint": {"url": url, "headers": {"X-Api-Key": API_KEY}},
        "auth": {"type": "basic", "username": "crm", "password": PASSWORD},
        "signing_secrets": [SIGNING],
        "retry": {"attempts": 1, "interval": "7s"},
    }


class Pair:
    """Two hookstream processes on one subscriptions topic, each with its own input topic and group."""

    def __init__(self, bootstrap: str, prefix: str, subs: Path, tmp: Path, key: str) -> None:
        self.bootstrap = bootstrap
        self.procs: list[ServiceProcess] = []
        for name in ("a", "b"):
            (tmp / name).mkdir()
            topic = f"{prefix}.events-{name}"
            env = {
                "HOOKSTREAM_KAFKA__INPUT_TOPICS": json.dumps([topic]),
                "HOOKSTREAM_KAFKA__GROUP_ID": f"{prefix}-{name}",
                "HOOKSTREAM_SECRET_KEY": key,
                "HOOKSTREAM_RELOAD_INTERVAL": "0.5",
            }
            proc = ServiceProcess(bootstrap, prefix, subs, tmp / name, env=env)
            proc.input_topic = topic
            create_topics(bootstrap, topic, partitions=2)
            self.procs.append(proc)

    async def start(self) -> None:
        for proc in self.procs:
            proc.start(wait_ready=False)
        for proc in self.procs:
            await asyncio.to_thread(proc.wait_ready)

    async def restart(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            await asyncio.to_thread(proc.wait, 30)
        await self.start()

    async def send_one_each(self) -> None:
        for proc in self.procs:
            await asyncio.to_thread(produce, self.bootstrap, proc.input_topic, [event()], key=ENTITY.encode())

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()

    def logs(self) -> str:
        return "".join(proc.log_path.read_text(errors="replace") for proc in self.procs)


class Deliveries:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.seen = {"/api": 0, "/file": 0}

    async def expect(self, api: int, file: int) -> None:
        """The next ``api`` and ``file`` deliveries arrive, and only those (see ENTITY)."""
        want = {"/api": self.seen["/api"] + api, "/file": self.seen["/file"] + file}

        def arrived() -> bool:
            return all(len(self.receiver.requests(path)) >= n for path, n in want.items())

        assert await asyncio.to_thread(self.receiver.wait_for, arrived, 30)
        # A delivery that should not happen would go out beside the expected ones: give it time to land.
        await asyncio.sleep(0.3)
        got = {path: len(self.receiver.requests(path)) for path in want}
        assert got == want
        self.seen = got


@pytest.fixture
async def setup(kafka_bootstrap: str, tmp_path: Path, receiver: Receiver) -> AsyncIterator[Any]:
    prefix = unique_prefix("subs")
    key = generate_key()
    subs = write_subscriptions(
        tmp_path / "subs.yaml",
        [
            {
                "name": "file-sub",
                "entity": "Object",
                "triggers": [{"event_type": "OnNew"}],
                "endpoint": {"url": receiver.url("/file")},
            }
        ],
    )
    settings = load_settings(
        kafka={"bootstrap_servers": kafka_bootstrap, "topic_prefix": prefix},
        development=True,
        secret_key=key,
        subscriptions=subs,
    )
    source = SubscriptionSource(subs, settings.catalog, development=True)
    files = source.load()
    feed = SubscriptionFeed(settings, catalog=lambda: files.catalog)
    await feed.start()
    pair = Pair(kafka_bootstrap, prefix, subs, tmp_path, key)
    try:
        yield pair, feed.service(lambda: files.subscriptions), feed
    finally:
        pair.stop()
        await feed.close()


async def test_api_subscription_lifecycle_on_two_processes_survives_restarts(
    setup: Any, receiver: Receiver
) -> None:
    pair, service, _feed = setup
    assert isinstance(service, SubscriptionService)
    await pair.start()
    seen = Deliveries(receiver)

    created = await service.create(api_body(receiver.url("/api")), actor="alice")
    assert (created.source, created.created_by, created.active) == ("api", "alice", True)
    await asyncio.sleep(1.0)  # the promise: every process applies a change within a second
    await pair.send_one_each()
    await seen.expect(api=2, file=2)
    sent = receiver.requests("/api")[-1]
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"crm:{PASSWORD}".encode()).decode()
    assert sent.headers["X-Api-Key"] == API_KEY
    assert "webhook-signature" in sent.headers

    await service.suspend("api-sub", actor="operator")
    await asyncio.sleep(1.0)
    await pair.send_one_each()
    await seen.expect(api=0, file=2)

    await service.resume("api-sub", actor="operator")
    await asyncio.sleep(1.0)
    await pair.send_one_each()
    await seen.expect(api=2, file=2)

    # Suspension holds for a file subscription too, and both kinds of state survive a restart;
    # a process is ready only once it has read the topic, so the first event after it counts.
    await service.suspend("file-sub", actor="operator")
    await pair.restart()
    await pair.send_one_each()
    await seen.expect(api=2, file=0)

    await service.delete("api-sub", actor="alice")
    await service.resume("file-sub", actor="operator")
    await asyncio.sleep(1.0)
    await pair.send_one_each()
    await seen.expect(api=0, file=2)

    await pair.restart()
    await pair.send_one_each()
    await seen.expect(api=0, file=2)
    assert [view.name for view in service.list()] == ["file-sub"]
    assert "Traceback" not in pair.logs()


async def test_a_secret_typed_in_is_in_no_answer_log_line_or_record_and_a_file_name_is_refused(
    setup: Any, receiver: Receiver, kafka_bootstrap: str
) -> None:
    pair, service, feed = setup
    await pair.start()
    with pytest.raises(NameTaken, match="subscriptions file"):
        await service.create({**api_body(receiver.url("/api")), "name": "file-sub"}, actor="alice")

    created = await service.create(api_body(receiver.url("/api")), actor="alice")
    replaced_body = dict(created.config)
    replaced_body["retry"] = {"attempts": 2, "interval": "7s"}
    replaced = await service.replace("api-sub", replaced_body, actor="bob")
    answers = [created, replaced, service.get("api-sub"), service.list(), service.validate(api_body("x"))]
    await asyncio.sleep(1.0)
    await pair.send_one_each()
    await Deliveries(receiver).expect(api=2, file=2)  # the kept secrets still deliver
    assert receiver.requests("/api")[-1].headers["X-Api-Key"] == API_KEY

    records = await asyncio.to_thread(read_topic, kafka_bootstrap, feed.topic, 2, 10.0)
    assert len(records) == 2
    raw = b"".join((m.key() or b"") + (m.value() or b"") for m in records)
    assert b"$encrypted" in raw
    for secret in SECRETS:
        assert secret.encode() not in raw
        assert secret not in repr(answers)
        assert secret not in pair.logs()
