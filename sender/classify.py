"""How a delivery attempt ended: its error code from an exception or from the response.

The codes themselves are listed in :mod:`sender.codes`.
"""

from __future__ import annotations

import ssl

import aiohttp

from .codes import ErrorCode, http_status_code
from .errors import SsrfBlocked

__all__ = ["classify_exception", "classify_response"]


def _caused_by_ssl(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify_exception(exc: Exception) -> tuple[ErrorCode, str]:
    """``(error_code, description)`` of an exception raised while sending."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, SsrfBlocked):
            return ErrorCode.SSRF_BLOCKED, str(os_error)
        if isinstance(exc, aiohttp.ClientSSLError):
            return ErrorCode.TLS_ERROR, f"TLS handshake with {exc.host}:{exc.port} failed: {os_error}"
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return ErrorCode.DNS_ERROR, f"{exc.host} cannot be resolved: {os_error}"
        return ErrorCode.CONNECT_ERROR, f"cannot connect to {exc.host}:{exc.port}: {os_error}"
    if isinstance(exc, TimeoutError):
        return ErrorCode.TIMEOUT, "no complete response within the timeout"
    if _caused_by_ssl(exc):
        # TLS 1.3 reports a refused client certificate only after the handshake.
        return ErrorCode.TLS_ERROR, f"TLS failure: {exc}"
    if isinstance(exc, aiohttp.InvalidURL):
        return ErrorCode.INVALID_URL, f"invalid URL {exc.url}"
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        return ErrorCode.CONNECTION_ERROR, f"connection lost: {exc!r}"
    if isinstance(exc, aiohttp.ClientError):
        return ErrorCode.PROTOCOL_ERROR, f"invalid HTTP response: {exc!r}"
    return ErrorCode.SEND_ERROR, f"{type(exc).__name__}: {exc}"


def classify_response(
    status: int, reason: str | None, location: str | None, fault: str | None
) -> tuple[str, str]:
    """``(error_code, description)`` of a response that is not a success.

    ``location`` is the Location header (redirects are never followed);
    ``fault`` the SOAP fault's text, if the body holds one.
    """
    if fault is not None:
        return ErrorCode.SOAP_FAULT, fault
    code = http_status_code(status)
    if 300 <= status < 400:
        return code, f"HTTP {status} {reason}: redirect to {location or '?'} not followed"
    return code, f"HTTP {status} {reason}"
