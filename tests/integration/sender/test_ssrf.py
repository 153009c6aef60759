"""The SSRF guard with its default settings: nothing private, loopback or reserved is reached."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sender import Message, Sender, SenderSettings, Target
from tests.support.receivers.http import Receiver

MESSAGE = Message(webhook_id="msg_ssrf", timestamp=1_700_000_000, body={"event_id": "e-1"})


def target(url: str) -> Target:
    return Target.model_validate({"key": "sub", "endpoint": {"type": "rest", "url": url}})


@pytest.fixture
async def guarded() -> AsyncIterator[Sender]:
    # Only plain http is allowed, to reach the loopback receiver; the allow-list stays empty.
    async with Sender(SenderSettings(allow_http=True)) as sender:
        yield sender


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://127.0.0.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:{port}/hook",
    ],
)
async def test_private_and_loopback_destinations_are_refused(
    guarded: Sender, receiver: Receiver, url: str
) -> None:
    outcome = await guarded.deliver(target(url.format(port=receiver.port)), MESSAGE)

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "ssrf_blocked", False)
    assert "not a public address" in outcome.description
    assert receiver.received == []


async def test_the_allow_list_lets_a_network_through(receiver: Receiver) -> None:
    settings = SenderSettings(allow_http=True, ssrf_allow=("127.0.0.0/8",))
    async with Sender(settings) as sender:
        by_name = await sender.deliver(target(receiver.url(host="localhost")), MESSAGE)
        by_address = await sender.deliver(target(receiver.url()), MESSAGE)

    assert by_name.ok, by_name
    assert by_address.ok, by_address
    assert len(receiver.received) == 2


async def test_a_token_url_on_a_private_address_is_refused(
    guarded: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_SECRET", "x")
    t = Target.model_validate(
        {
            "key": "sub",
            "endpoint": {"type": "rest", "url": "http://93.184.216.34/hook"},
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "http://192.168.1.10/token",
                "client_id": "c",
                "client_secret": "${CLIENT_SECRET}",
            },
        }
    )

    outcome = await guarded.deliver(t, MESSAGE)

    assert (outcome.error_code, outcome.retryable) == ("ssrf_blocked", False)
