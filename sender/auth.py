"""Authentication headers that do not change: Basic, an access token, an API key."""

from __future__ import annotations

import base64

from .config import ApiKeyAuth, Auth, BasicAuth, BearerAuth

__all__ = ["basic_authorization", "static_auth_header"]


def basic_authorization(user: str, password: str) -> str:
    """An ``Authorization`` value for HTTP Basic (RFC 7617), UTF-8."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def static_auth_header(auth: Auth) -> tuple[str, str] | None:
    """``(name, value)`` of the header ``auth`` adds to every request; None for none and OAuth2."""
    if isinstance(auth, BasicAuth):
        return "Authorization", basic_authorization(auth.username, auth.password.get_secret_value())
    if isinstance(auth, BearerAuth):
        token = auth.token.get_secret_value()
        return auth.header, f"{auth.header_prefix} {token}" if auth.header_prefix else token
    if isinstance(auth, ApiKeyAuth):
        return auth.header, auth.key.get_secret_value()
    return None
