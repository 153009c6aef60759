"""Authentication headers that do not change: Basic, an access token, an API key."""

from __future__ import annotations

import base64

from .config import ApiKeyAuth, Auth, BasicAuth, BearerAuth

__all__ = ["static_auth_header"]


def static_auth_header(auth: Auth) -> tuple[str, str] | None:
    """``(name, value)`` of the header ``auth`` adds to every request; None for none and OAuth2."""
    if isinstance(auth, BasicAuth):
        pair = f"{auth.username}:{auth.password.get_secret_value()}".encode()
        return "Authorization", "Basic " + base64.b64encode(pair).decode("ascii")
    if isinstance(auth, BearerAuth):
        token = auth.token.get_secret_value()
        return auth.header, f"{auth.header_prefix} {token}" if auth.header_prefix else token
    if isinstance(auth, ApiKeyAuth):
        return auth.header, auth.key.get_secret_value()
    return None
