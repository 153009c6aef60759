"""REST delivery against a real receiver on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import formatdate

import orjson
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from sender import Message, Sender, Target
from sender.config import RestEndpoint
from tests.support.receivers.http import Receiver, Reply
from tests.support.receivers.loopback import loopback_settings

BODY = {"event_id": "e-1", "event_type": "OnNew", "entity": "Object", "data": {"name": "Dana", "n": 1}}


def message(attempt: int = 1) -> Message:
    return Message(webhook_id="msg_e-1.sub", timestamp=1_700_000_000, body=BODY, attempt=attempt)


def rest(url: str, **endpoint: object) -> Target:
    return Target(key="sub", endpoint=RestEndpoint.model_validate({"url": url, **endpoint}))


async def test_posts_the_json_body_with_webhook_headers(sender: Sender, receiver: Receiver) -> None:
    target = rest(receiver.url(), headers={"X-Tenant": "acme"})

    outcome = await sender.deliver(target, message(attempt=3))

    assert outcome.ok, outcome
    assert outcome.status == 200
    assert outcome.error_code is None
    [got] = receiver.received
    assert got.method == "POST"
    assert orjson.loads(got.body) == BODY
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["webhook-id"] == "msg_e-1.sub"
    assert got.headers["webhook-timestamp"] == "1700000000"
    assert got.headers["webhook-attempt"] == "3"
    assert got.headers["User-Agent"] == "hookstream/0.1"
    assert got.headers["X-Tenant"] == "acme"
    assert "webhook-signature" not in got.headers
    assert outcome.request_headers["webhook-id"] == "msg_e-1.sub"


async def test_signatures_verify_with_every_secret_during_rotation(
    sender: Sender, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGhlIG5ldyBzZWNyZXQgb2YgMzIgYnl0ZXMhIQ=="
    monkeypatch.setenv("OLD_SECRET", old)
    monkeypatch.setenv("NEW_SECRET", new)
    target = Target.model_validate(
        {
            "key": "sub",
            "endpoint": {"type": "rest", "url": receiver.url()},
            "signing_secrets": ["${OLD_SECRET}", "${NEW_SECRET}"],
        }
    )
    msg = Message(webhook_id="msg_1", timestamp=int(time.time()), body=BODY)

    outcome = await sender.deliver(target, msg)

    assert outcome.ok, outcome
    [got] = receiver.received
    signatures = got.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret in (old, new):
        # The published library verifies what a receiver holding only one of the secrets sees.
        assert Webhook(secret).verify(got.body, dict(got.headers)) == BODY
    assert outcome.request_headers["webhook-signature"] == "[redacted]"
    tampered = dict(got.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old).verify(got.body + b" ", tampered)


async def test_redirects_are_failures_and_not_followed(sender: Sender, receiver: Receiver) -> None:
    receiver.reply("/moved", Reply(302, headers={"Location": receiver.url("/elsewhere")}))

    outcome = await sender.deliver(rest(receiver.url("/moved")), message())

    assert not outcome.ok
    assert outcome.error_code == "302"
    assert "/elsewhere" in outcome.description
    assert [r.path for r in receiver.received] == ["/moved"]


async def test_server_error_is_retryable_with_an_excerpt(sender: Sender, receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(500, body=b"database down"))

    outcome = await sender.deliver(rest(receiver.url()), message())

    assert not outcome.ok
    assert (outcome.status, outcome.error_code, outcome.retryable) == (500, "500", True)
    assert outcome.response_excerpt == "database down"
    assert outcome.description == "HTTP 500 Internal Server Error"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None)],
)
async def test_retry_after_is_read_on_429(
    sender: Sender, receiver: Receiver, header: str, expected: float | None
) -> None:
    receiver.reply("/hook", Reply(429, headers={"Retry-After": header}))

    outcome = await sender.deliver(rest(receiver.url()), message())

    assert outcome.error_code == "429"
    assert outcome.retry_after == expected


async def test_retry_after_in_the_future_as_an_http_date(sender: Sender, receiver: Receiver) -> None:
    later = formatdate(time.time() + 3600, usegmt=True)
    receiver.reply("/hook", Reply(503, headers={"Retry-After": later}))

    outcome = await sender.deliver(rest(receiver.url()), message())

    assert outcome.error_code == "503"
    assert outcome.retry_after is not None
    assert 3000 < outcome.retry_after <= 3600


async def test_response_bodies_are_read_only_up_to_the_cap(receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(400, body=b"x" * 1_000_000))
    async with Sender(loopback_settings(max_response_bytes=100, response_excerpt_bytes=50)) as sender:
        outcome = await sender.deliver(rest(receiver.url()), message())

    assert outcome.error_code == "400"
    assert outcome.response_excerpt == "x" * 50


async def test_a_hanging_endpoint_times_out(sender: Sender, receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(hang=True))

    outcome = await sender.deliver(rest(receiver.url(), timeout=0.2), message())

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "timeout", True)
    assert "0.2" in outcome.description


async def test_a_timed_out_delivery_hands_its_slot_to_the_next_one(receiver: Receiver) -> None:
    calls = 0

    async def first_hangs(request: web.Request, body: bytes) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(60)
        return web.Response(text="ok")

    receiver.handle("/hook", first_hangs)
    async with Sender(loopback_settings(max_in_flight_per_endpoint=1)) as sender:
        target = rest(receiver.url(), timeout=0.3)
        # One slot: the three go one after another on the same worker.
        outcomes = await asyncio.gather(*(sender.deliver(target, message()) for _ in range(3)))

    assert [o.error_code for o in outcomes] == ["timeout", None, None]
    assert 0.3 <= outcomes[0].duration < 0.5


async def test_a_closed_port_is_a_connect_error(sender: Sender) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port once the socket is closed.

    outcome = await sender.deliver(rest(f"http://127.0.0.1:{port}/hook"), message())

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "connect_error", True)


async def test_an_unknown_host_is_a_dns_error(sender: Sender) -> None:
    outcome = await sender.deliver(rest("http://no-such-host.invalid/hook"), message())

    assert outcome.error_code == "dns_error"


async def test_plain_http_is_refused_unless_allowed(receiver: Receiver) -> None:
    async with Sender(loopback_settings(allow_http=False)) as sender:
        outcome = await sender.deliver(rest(receiver.url()), message())

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "config_error", False)
    assert "https" in outcome.description
    assert receiver.received == []


async def test_connections_are_kept_alive_across_deliveries(sender: Sender, receiver: Receiver) -> None:
    target = rest(receiver.url())
    for _ in range(5):
        assert (await sender.deliver(target, message())).ok

    assert len(receiver.received) == 5
    assert len({r.peer for r in receiver.received}) == 1
