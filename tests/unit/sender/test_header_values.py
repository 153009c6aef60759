"""Endpoint header values: secrets by reference, inline text as written, public only when named so."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sender.config import RestEndpoint


def test_references_are_resolved_and_every_value_is_kept_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PARTNER_KEY", "from-env")
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    endpoint = RestEndpoint.model_validate(
        {
            "url": "https://example.com/hook",
            "headers": {"X-Env": "${PARTNER_KEY}", "X-File": str(key_file), "X-Tenant": "acme"},
            "public_headers": ["x-tenant"],
        }
    )

    values = {name: value.get_secret_value() for name, value in endpoint.headers.items()}
    assert values == {"X-Env": "from-env", "X-File": "from-file", "X-Tenant": "acme"}
    assert "from-env" not in repr(endpoint)
    assert "acme" not in repr(endpoint)
    assert endpoint.masked_headers() == ("X-Env", "X-File")


def test_without_secrets_the_references_are_kept() -> None:
    endpoint = RestEndpoint.model_validate(
        {"url": "https://example.com/hook", "headers": {"X-Env": "${NOT_SET_HERE}"}},
        context={"resolve_secrets": False},
    )

    assert endpoint.headers["X-Env"].get_secret_value() == "${NOT_SET_HERE}"


def test_an_unset_variable_is_named() -> None:
    with pytest.raises(ValidationError, match="environment variable NOT_SET_HERE is not set"):
        RestEndpoint.model_validate(
            {"url": "https://example.com/hook", "headers": {"X-Env": "${NOT_SET_HERE}"}}
        )


def test_public_headers_must_be_configured_headers() -> None:
    with pytest.raises(ValidationError, match="public_headers names headers not in headers: X-Other"):
        RestEndpoint.model_validate(
            {
                "url": "https://example.com/hook",
                "headers": {"X-Tenant": "acme"},
                "public_headers": ["X-Other"],
            }
        )
