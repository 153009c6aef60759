"""TLS and mTLS against real https receivers with trustme certificates."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from aiohttp import web

from sender import Message, Sender, Target
from tests.support.receivers.http import Receiver
from tests.support.receivers.loopback import loopback_settings
from tests.support.receivers.tls import TlsMaterial

MESSAGE = Message(webhook_id="msg_tls", timestamp=1_700_000_000, body={"event_id": "e-1"})


@pytest.fixture
def tls(tmp_path: Path) -> TlsMaterial:
    return TlsMaterial.create(tmp_path)


@pytest.fixture
async def https_receiver(tls: TlsMaterial) -> AsyncIterator[Receiver]:
    async with Receiver(ssl_context=tls.server_context()) as r:
        yield r


@pytest.fixture
async def mtls_receiver(tls: TlsMaterial) -> AsyncIterator[Receiver]:
    async with Receiver(ssl_context=tls.server_context(require_client_cert=True)) as r:

        async def who(request: web.Request, body: bytes) -> web.Response:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            names = [value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"] if peer else []
            return web.Response(text=",".join(names))

        r.handle("/hook", who)
        yield r


def target(url: str, tls: Mapping[str, object] | None = None) -> Target:
    endpoint: dict[str, object] = {"type": "rest", "url": url}
    if tls is not None:
        endpoint["tls"] = tls
    return Target.model_validate({"key": "sub", "endpoint": endpoint})


async def test_https_with_the_settings_ca_bundle(tls: TlsMaterial, https_receiver: Receiver) -> None:
    async with Sender(loopback_settings(allow_http=False, ca_bundle=tls.ca_file)) as sender:
        outcome = await sender.deliver(target(https_receiver.url()), MESSAGE)

    assert outcome.ok, outcome
    assert len(https_receiver.received) == 1


async def test_https_with_the_endpoint_ca_bundle(tls: TlsMaterial, https_receiver: Receiver) -> None:
    async with Sender(loopback_settings(allow_http=False)) as sender:
        outcome = await sender.deliver(target(https_receiver.url(), {"ca_bundle": str(tls.ca_file)}), MESSAGE)

    assert outcome.ok, outcome


async def test_an_untrusted_server_certificate_is_a_tls_error(https_receiver: Receiver) -> None:
    async with Sender(loopback_settings(allow_http=False)) as sender:
        outcome = await sender.deliver(target(https_receiver.url()), MESSAGE)

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "tls_error", True)
    assert "certificate" in outcome.description.lower()
    assert https_receiver.received == []


async def test_a_certificate_of_another_ca_is_a_tls_error(tls: TlsMaterial, https_receiver: Receiver) -> None:
    async with Sender(loopback_settings(ca_bundle=tls.other_ca_file)) as sender:
        outcome = await sender.deliver(target(https_receiver.url()), MESSAGE)

    assert outcome.error_code == "tls_error"


async def test_a_client_certificate_is_presented_for_mtls(tls: TlsMaterial, mtls_receiver: Receiver) -> None:
    client = {"client_cert": str(tls.client_cert_file), "client_key": str(tls.client_key_file)}
    async with Sender(loopback_settings(ca_bundle=tls.ca_file)) as sender:
        outcome = await sender.deliver(target(mtls_receiver.url(), client), MESSAGE)

    assert outcome.ok, outcome
    assert outcome.response_excerpt == "client.hookstream.test"


async def test_a_receiver_requiring_a_client_certificate_rejects_a_missing_one(
    tls: TlsMaterial, mtls_receiver: Receiver
) -> None:
    async with Sender(loopback_settings(ca_bundle=tls.ca_file)) as sender:
        outcome = await sender.deliver(target(mtls_receiver.url()), MESSAGE)

    assert not outcome.ok
    # With TLS 1.2 the handshake fails (tls_error); with TLS 1.3 the client's handshake
    # completes first and the server's refusal arrives as a reset while sending.
    assert outcome.error_code in ("tls_error", "connection_error"), outcome
    assert mtls_receiver.received == []


async def test_an_unreadable_client_key_is_a_configuration_error(tls: TlsMaterial, tmp_path: Path) -> None:
    client = {"client_cert": str(tls.client_cert_file), "client_key": str(tmp_path / "missing.key")}
    async with Sender(loopback_settings()) as sender:
        outcome = await sender.deliver(target("https://127.0.0.1:9/hook", client), MESSAGE)

    assert (outcome.error_code, outcome.retryable) == ("config_error", False)
