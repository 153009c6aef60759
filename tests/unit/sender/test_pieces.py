from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from sender.codes import counts_against_endpoint
from sender.errors import SsrfBlocked
from sender.responses import parse_retry_after
from sender.ssrf import AddressPolicy
from sender.webhook import Signer


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("169.254.169.254", False),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("240.0.0.1", False),
        ("fc00::1", False),
    ],
)
def test_only_public_addresses_are_allowed_by_default(address: str, allowed: bool) -> None:
    assert AddressPolicy(()).allows(ipaddress.ip_address(address)) is allowed


def test_the_allow_list_admits_its_networks_only() -> None:
    policy = AddressPolicy([ipaddress.ip_network("10.1.0.0/16")])
    assert policy.allows(ipaddress.ip_address("10.1.2.3"))
    assert not policy.allows(ipaddress.ip_address("10.2.0.1"))


def test_ip_literal_hosts_are_checked_and_names_left_to_the_resolver() -> None:
    policy = AddressPolicy(())
    with pytest.raises(SsrfBlocked):
        policy.check_host("[::1]")
    policy.check_host("example.com")


def test_signatures_match_the_published_library() -> None:
    secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGhlIG5ldyBzZWNyZXQgb2YgMzIgYnl0ZXMhIQ=="]
    body = b'{"a":1}'
    ours = Signer(secrets).sign("msg_1", 1_700_000_000, body).split(" ")
    at = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert ours == [Webhook(s).sign("msg_1", at, body.decode()) for s in secrets]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 7 ", 7.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),
        ("-5", None),
        ("", None),
        (None, None),
        ("later", None),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == expected


@pytest.mark.parametrize(
    ("code", "status", "counts"),
    [
        (None, 200, False),
        ("timeout", None, True),
        ("connect_error", None, True),
        ("503", 503, True),
        ("429", 429, True),
        ("404", 404, False),
        ("soap_fault", 500, False),
        ("ssrf_blocked", None, False),
    ],
)
def test_what_counts_against_an_endpoint(code: str | None, status: int | None, counts: bool) -> None:
    assert counts_against_endpoint(code, status) is counts
