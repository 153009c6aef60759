"""Credential-bearing headers are redacted; the rest pass through."""

from __future__ import annotations

import pytest

from store import redact_headers


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "X-API-Key",
        "Cookie",
        "X-Auth-Token",
        "X-Client-Secret",
        "Password",
    ],
)
def test_credential_headers_are_redacted(name: str) -> None:
    assert redact_headers({name: "hunter2"}) == {name: "[redacted]"}


def test_other_headers_are_kept() -> None:
    headers = {"Content-Type": "application/json", "webhook-id": "msg_1", "User-Agent": "hookstream"}

    assert redact_headers(headers) == headers
