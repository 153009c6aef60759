"""Error codes for the ways a request can fail before an HTTP status is known."""

from __future__ import annotations

import ssl

import aiohttp

from .errors import SsrfBlocked

__all__ = ["classify_exception"]


def _caused_by_ssl(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify_exception(exc: Exception) -> tuple[str, str, bool]:
    """``(error_code, description, retryable)`` of an exception raised while sending."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, SsrfBlocked):
            return "ssrf_blocked", str(os_error), False
        if isinstance(exc, aiohttp.ClientSSLError):
            return "tls_error", f"TLS handshake with {exc.host}:{exc.port} failed: {os_error}", True
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return "dns_error", f"{exc.host} cannot be resolved: {os_error}", True
        return "connect_error", f"cannot connect to {exc.host}:{exc.port}: {os_error}", True
    if isinstance(exc, TimeoutError):
        return "timeout", "no complete response within the timeout", True
    if _caused_by_ssl(exc):
        # TLS 1.3 reports a refused client certificate only after the handshake.
        return "tls_error", f"TLS failure: {exc}", True
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid_url", f"invalid URL {exc.url}", False
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        return "connection_error", f"connection lost: {exc!r}", True
    if isinstance(exc, aiohttp.ClientError):
        return "protocol_error", f"invalid HTTP response: {exc!r}", True
    return "send_error", f"{type(exc).__name__}: {exc}", True
