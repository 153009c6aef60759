"""Every named error code hookstream gives a failure: of a delivery, and of an input record.

A failed delivery that got an HTTP answer carries the status as its code instead
(``"503"``; see :func:`http_status_code`). These codes are what the metrics'
``error_code`` and ``reason`` labels, the dead-letter records, the store and the
API show; the README's "Error codes" table lists them. They live in the sender's
room because it is the one every other room may import.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ErrorCode", "counts_against_endpoint", "http_status_code", "is_retryable"]


class ErrorCode(StrEnum):
    # -- a delivery that got no usable HTTP answer -------------------------------------
    TIMEOUT = "timeout"
    """No complete response within the endpoint's timeout."""
    CONNECT_ERROR = "connect_error"
    """The TCP connection could not be opened."""
    CONNECTION_ERROR = "connection_error"
    """The connection broke before the response was complete."""
    DNS_ERROR = "dns_error"
    """The endpoint's host name does not resolve."""
    TLS_ERROR = "tls_error"
    """The TLS handshake failed (certificate, protocol, client certificate refused)."""
    PROTOCOL_ERROR = "protocol_error"
    """The answer was not valid HTTP."""
    SEND_ERROR = "send_error"
    """Any other failure while sending."""
    INVALID_URL = "invalid_url"
    """The endpoint URL cannot be requested (not retried)."""
    SSRF_BLOCKED = "ssrf_blocked"
    """The endpoint's address is private, loopback, link-local or metadata and not allowed (not retried)."""
    CONFIG_ERROR = "config_error"
    """The subscription's target cannot be used as configured: certificate, secret, WSDL (not retried)."""
    OAUTH_TOKEN_ERROR = "oauth_token_error"  # noqa: S105 - a code, not a password
    """The OAuth2 token endpoint gave no token."""
    SOAP_FAULT = "soap_fault"
    """The SOAP service answered with a fault."""
    WSDL_UNAVAILABLE = "wsdl_unavailable"
    """The SOAP service's WSDL could not be fetched just now (it is fetched again next time)."""
    SOAP_BUILD_ERROR = "soap_build_error"
    """The SOAP envelope could not be built from the event (not retried)."""
    # -- a delivery that was never sent ---------------------------------------------------
    CIRCUIT_OPEN = "circuit_open"
    """The endpoint's circuit breaker is open after repeated failures."""
    ENDPOINT_BUSY = "endpoint_busy"
    """The endpoint's slots stayed full (or it stalled): the delivery takes the retry path."""
    INTERNAL_ERROR = "internal_error"
    """A fault inside hookstream while handling the record or delivering it; it is set aside, not lost."""
    SUBSCRIPTION_SUSPENDED = "subscription_suspended"
    """A retry came due while its subscription was suspended: stored as a failed event, to resend later."""
    # -- an input record that is not a valid domain event (sent to <prefix>.invalid) -------
    EMPTY = "empty"
    """The record has no value."""
    UNKNOWN_FORMAT = "unknown_format"
    """Neither Avro single-object encoding nor a JSON object."""
    UNKNOWN_SCHEMA = "unknown_schema"
    """Avro written with a schema other than domain_event.avsc."""
    AVRO_ERROR = "avro_error"
    """The Avro datum cannot be read."""
    JSON_ERROR = "json_error"
    """Not valid JSON."""
    SCHEMA_ERROR = "schema_error"
    """A field is missing, of the wrong type or out of range."""
    NOT_A_DELIVERY_RECORD = "not_a_delivery_record"
    """A record on a retry, dead-letter or log topic that hookstream did not write."""


_NOT_RETRYABLE = frozenset(
    {ErrorCode.INVALID_URL, ErrorCode.SSRF_BLOCKED, ErrorCode.CONFIG_ERROR, ErrorCode.SOAP_BUILD_ERROR}
)

# Failures that say the endpoint is unhealthy, for its circuit breaker. A 4xx
# other than 429 means it is up and answering; ssrf_blocked and configuration
# errors never reach it at all.
_UNHEALTHY = frozenset(
    {
        ErrorCode.TIMEOUT,
        ErrorCode.CONNECT_ERROR,
        ErrorCode.CONNECTION_ERROR,
        ErrorCode.DNS_ERROR,
        ErrorCode.TLS_ERROR,
        "429",
    }
)


def http_status_code(status: int) -> str:
    """The error code of a failed delivery answered with ``status``: the status as text."""
    return str(status)


def is_retryable(code: str | None) -> bool:
    """Whether another attempt can help; every HTTP status is worth another attempt."""
    return code not in _NOT_RETRYABLE


def counts_against_endpoint(code: str | None, status: int | None) -> bool:
    """Whether a failure counts towards opening the endpoint's circuit breaker."""
    if code is None:
        return False
    if code in _UNHEALTHY:
        return True
    # A 5xx counts only when it is the whole story: a SOAP fault comes with a 500
    # from a service that is up and answering.
    return status is not None and status >= 500 and code == http_status_code(status)
