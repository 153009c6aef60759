"""The SSRF guard with its default settings: nothing private, loopback or reserved is reached."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest

from sender import Message, Sender, SenderSettings, SsrfBlocked, Target
from sender.ssrf import AddressPolicy, GuardedResolver
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


class Listener:
    """A bare TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


# Every way a URL can write an address that inet_aton, getaddrinfo or a browser reads as one.
LOOPBACK_FORMS = [
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "2130706433",
    "017700000001",
    "0177.0.0.1",
    "0177.1",
    "0x7f.0.0.1",
    "0x7F.0x0.0x0.0x1",
    "0x7f.1",
    "0x7f000001",
    "127.0.0.1.",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "localhost",
]
PRIVATE_FORMS = [
    "10.0.0.1",
    "10.1",
    "167772161",
    "012.0.0.1",
    "0xa.0.0.1",
    "0x0a000001",
    "172.16.0.1",
    "172.16.1",
    "0xac.0x1f.0xff.0xfe",
    "2886729729",
    "192.168.0.1",
    "192.168.1",
    "0300.0250.0.1",
    "0xc0a80001",
    "[::ffff:10.0.0.1]",
    "[::ffff:c0a8:1]",
    "[fd12:3456::1]",
    "[fc00::1]",
]
LINK_LOCAL_AND_METADATA_FORMS = [
    "169.254.169.254",
    "169.254.43518",
    "2852039166",
    "0251.0376.0251.0376",
    "0xa9.0xfe.0xa9.0xfe",
    "0xa9fea9fe",
    "169.254.1.1",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[fe80::1]",
    "[fd00:ec2::254]",
]


@pytest.mark.parametrize("host", LOOPBACK_FORMS + PRIVATE_FORMS + LINK_LOCAL_AND_METADATA_FORMS)
async def test_every_form_of_a_non_public_address_is_refused_as_ssrf_blocked(
    guarded: Sender, host: str
) -> None:
    async with Listener() as listener:
        outcome = await guarded.deliver(target(f"http://{host}:{listener.port}/hook"), MESSAGE)

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "ssrf_blocked", False), outcome
    assert listener.connections == 0


@pytest.mark.parametrize("host", [h for h in LOOPBACK_FORMS if ":" not in h])
async def test_the_allow_list_lets_every_form_of_an_allowed_address_through(
    receiver: Receiver, host: str
) -> None:
    settings = SenderSettings(allow_http=True, ssrf_allow=("127.0.0.0/8",))
    async with Sender(settings) as sender:
        outcome = await sender.deliver(target(receiver.url(host=host)), MESSAGE)

    assert outcome.ok, outcome
    assert len(receiver.received) == 1


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "::ffff:7f00:1"])
async def test_the_resolver_decides_on_an_address_it_is_handed_as_a_name(host: str) -> None:
    # Documents a WSDL imports reach the resolver without the endpoint URL's check.
    refusing = GuardedResolver(AddressPolicy(()))
    allowing = GuardedResolver(AddressPolicy([ipaddress.ip_network("127.0.0.0/8")]))
    try:
        with pytest.raises(SsrfBlocked, match="not a public address"):
            await refusing.resolve(host, 80)
        [result] = await allowing.resolve(host, 80)
    finally:
        await refusing.close()
        await allowing.close()

    assert ipaddress.ip_address(result["host"]) in (
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::ffff:7f00:1"),
    )
