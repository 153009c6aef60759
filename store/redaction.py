"""Redaction of credential-bearing request headers.

The sender redacts before anything reaches the store; the store does it again on write and the
command line on output, so that a sender bug or an old row can never print a secret.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["REDACTED", "is_sensitive_header", "redact_headers"]

REDACTED = "[redacted]"

# Substrings of header names that carry credentials: Authorization, Proxy-Authorization,
# X-Api-Key, Cookie, X-Auth-Token, X-Client-Secret, Password headers... Matching on parts of the
# name errs on the side of hiding (webhook-signature is not a secret, but hiding it costs nothing).
_SENSITIVE_PARTS = ("auth", "token", "secret", "key", "cookie", "password", "passwd", "signature", "session")


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SENSITIVE_PARTS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with the value of every credential-bearing header replaced."""
    return {name: REDACTED if is_sensitive_header(name) else value for name, value in headers.items()}
