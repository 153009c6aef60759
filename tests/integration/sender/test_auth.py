"""Authentication against real receivers: Basic, access token, API key, OAuth2 with a real token endpoint."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from sender import Message, Sender, Target
from tests.support.receivers.http import Receiver
from tests.support.receivers.loopback import loopback_settings
from tests.support.receivers.oauth import TokenServer

BODY = {"event_id": "e-1", "data": {}}


def message() -> Message:
    return Message(webhook_id="msg_auth", timestamp=1_700_000_000, body=BODY)


def target(url: str, auth: Mapping[str, object]) -> Target:
    return Target.model_validate({"key": "sub", "endpoint": {"type": "rest", "url": url}, "auth": auth})


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PW": "s3cret:with colon",
        "WRONG_PW": "guess",
        "TOKEN": "tok-123",
        "API_KEY": "key-456",
        "CLIENT_SECRET": "client-secret",
        "USER_PW": "user-pw",
    }.items():
        monkeypatch.setenv(name, value)


async def test_basic_auth_is_accepted_and_a_wrong_password_gives_401(
    sender: Sender, receiver: Receiver
) -> None:
    expected = "Basic " + base64.b64encode(b"ann:s3cret:with colon").decode()

    async def check(request: web.Request, body: bytes) -> web.Response:
        return web.Response(status=200 if request.headers.get("Authorization") == expected else 401)

    receiver.handle("/hook", check)

    good = await sender.deliver(
        target(receiver.url(), {"type": "basic", "username": "ann", "password": "${PW}"}), message()
    )
    bad = await sender.deliver(
        target(receiver.url(), {"type": "basic", "username": "ann", "password": "${WRONG_PW}"}), message()
    )

    assert good.ok, good
    assert good.request_headers["Authorization"] == "[redacted]"
    assert (bad.ok, bad.error_code, bad.status) == (False, "401", 401)


async def test_access_token_with_header_and_prefix(sender: Sender, receiver: Receiver) -> None:
    auth = {"type": "bearer", "token": "${TOKEN}", "header": "X-Auth", "header_prefix": "Token"}

    outcome = await sender.deliver(target(receiver.url(), auth), message())

    assert outcome.ok
    assert receiver.received[0].headers["X-Auth"] == "Token tok-123"
    assert outcome.request_headers["X-Auth"] == "[redacted]"


async def test_api_key_in_a_named_header(sender: Sender, receiver: Receiver) -> None:
    outcome = await sender.deliver(
        target(receiver.url(), {"type": "api_key", "header": "X-Api-Key", "key": "${API_KEY}"}), message()
    )

    assert outcome.ok
    assert receiver.received[0].headers["X-Api-Key"] == "key-456"
    assert "key-456" not in str(outcome)


@pytest.fixture
async def token_receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


@pytest.fixture
def tokens(token_receiver: Receiver, receiver: Receiver) -> TokenServer:
    server = TokenServer(clients={"hookstream": "client-secret"}, users={"ann": "user-pw"})
    server.mount(token_receiver)
    receiver.handle("/hook", server.protected)
    return server


def client_credentials(token_receiver: Receiver, **extra: object) -> dict[str, object]:
    return {
        "type": "oauth2_client_credentials",
        "token_url": token_receiver.url("/token"),
        "client_id": "hookstream",
        "client_secret": "${CLIENT_SECRET}",
        "scope": "webhooks.write",
        **extra,
    }


async def test_client_credentials_token_is_fetched_once_and_reused(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    t = target(receiver.url(), client_credentials(token_receiver))

    first = await sender.deliver(t, message())
    second = await sender.deliver(t, message())

    assert first.ok, first
    assert second.ok, second
    assert tokens.requests == [{"grant_type": "client_credentials", "scope": "webhooks.write"}]
    [issued] = tokens.issued.values()
    assert (issued.client_id, issued.scope) == ("hookstream", "webhooks.write")
    assert first.request_headers["Authorization"] == "[redacted]"


async def test_password_credentials_grant(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    auth = client_credentials(token_receiver, type="oauth2_password", username="ann", password="${USER_PW}")

    outcome = await sender.deliver(target(receiver.url(), auth), message())

    assert outcome.ok, outcome
    [issued] = tokens.issued.values()
    assert issued.username == "ann"
    assert tokens.requests[0]["grant_type"] == "password"


async def test_a_wrong_user_password_is_an_oauth_token_error(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    auth = client_credentials(token_receiver, type="oauth2_password", username="ann", password="${WRONG_PW}")

    outcome = await sender.deliver(target(receiver.url(), auth), message())

    assert (outcome.ok, outcome.error_code) == (False, "oauth_token_error")
    assert "answered 400" in outcome.description
    assert "password" in outcome.description  # authlib's error_description
    assert receiver.received == []


async def test_a_revoked_token_is_refreshed_and_the_delivery_retried_once(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    t = target(receiver.url(), client_credentials(token_receiver))
    assert (await sender.deliver(t, message())).ok
    tokens.revoke_all()  # as if it had expired early on the server

    outcome = await sender.deliver(t, message())

    assert outcome.ok, outcome
    assert len(tokens.requests) == 2
    first, refused, retried = (r.headers["Authorization"] for r in receiver.received)
    assert refused == first
    assert retried != first
    assert tokens.check_bearer(retried) is not None


async def test_a_token_near_expiry_is_replaced_before_use(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    # Shorter than the default 30 s refresh margin: every delivery needs a fresh token.
    tokens.expires_in = 10
    t = target(receiver.url(), client_credentials(token_receiver))

    assert (await sender.deliver(t, message())).ok
    assert (await sender.deliver(t, message())).ok

    assert len(tokens.requests) == 2
    assert len({r.headers["Authorization"] for r in receiver.received}) == 2


async def test_concurrent_deliveries_share_one_token_fetch(
    receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    tokens.gate = asyncio.Event()
    t = target(receiver.url(), client_credentials(token_receiver))
    registry = CollectorRegistry()
    async with Sender(loopback_settings(), registry=registry) as sender:
        deliveries = [asyncio.create_task(sender.deliver(t, message())) for _ in range(20)]
        # Every delivery is under way, waiting for a token, while the token endpoint holds its answer.
        labels = {"endpoint": receiver.url()}
        while registry.get_sample_value("hookstream_endpoint_in_flight", labels) != 20:
            await asyncio.sleep(0.01)
        tokens.gate.set()
        outcomes = await asyncio.gather(*deliveries)

    assert all(o.ok for o in outcomes)
    assert len(tokens.requests) == 1
    assert len(receiver.received) == 20


async def test_a_failing_token_endpoint_is_an_oauth_token_error(
    sender: Sender, receiver: Receiver, token_receiver: Receiver, tokens: TokenServer
) -> None:
    tokens.fail_with = 503
    t = target(receiver.url(), client_credentials(token_receiver))

    outcome = await sender.deliver(t, message())

    assert (outcome.ok, outcome.error_code, outcome.retryable) == (False, "oauth_token_error", True)
    assert "503" in outcome.description
    assert receiver.received == []
    # A later delivery asks again instead of remembering the failure.
    tokens.fail_with = None
    assert (await sender.deliver(t, message())).ok


async def test_an_unreachable_token_endpoint_is_an_oauth_token_error(receiver: Receiver) -> None:
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": "http://127.0.0.1:9/token",
        "client_id": "hookstream",
        "client_secret": "${CLIENT_SECRET}",
    }
    async with Sender(loopback_settings()) as sender:
        outcome = await sender.deliver(target(receiver.url(), auth), message())

    assert outcome.error_code == "oauth_token_error"
    assert "connect_error" in outcome.description


async def test_client_secret_post_sends_the_client_credentials_in_the_form(
    sender: Sender, receiver: Receiver, token_receiver: Receiver
) -> None:
    # A token endpoint that accepts client_secret_post only, as many providers do.
    server = TokenServer(clients={"hookstream": "client-secret"}, auth_methods=("client_secret_post",))
    server.mount(token_receiver)
    receiver.handle("/hook", server.protected)

    posted = await sender.deliver(
        target(receiver.url(), client_credentials(token_receiver, client_auth="post")), message()
    )
    basic = await sender.deliver(target(receiver.url(), client_credentials(token_receiver)), message())

    assert posted.ok, posted.description
    assert server.requests[0]["client_id"] == "hookstream"
    assert server.requests[0]["client_secret"] == "client-secret"
    assert (basic.ok, basic.error_code) == (False, "oauth_token_error")
    assert "client_secret_basic" in basic.description  # the endpoint says why it refused
    assert "client-secret" not in basic.description
