"""The sender's input (:class:`Message`) and result (:class:`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "Outcome"]


@dataclass(frozen=True, slots=True)
class Message:
    """One webhook to send. ``body`` is the JSON body (REST); SOAP maps its parameters from it."""

    webhook_id: str
    timestamp: int
    body: Mapping[str, Any]
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one delivery attempt ended. The sender never raises for a failed delivery.

    ``error_code`` is the HTTP status as text (``"503"``) or a name such as
    ``timeout``, ``connect_error``, ``tls_error``, ``ssrf_blocked``,
    ``oauth_token_error``, ``soap_fault``, ``circuit_open``. ``retryable`` is
    False where another attempt cannot help (``ssrf_blocked``).
    ``retry_after`` is the receiver's ``Retry-After`` in seconds, if any.
    """

    ok: bool
    status: int | None = None
    error_code: str | None = None
    description: str = ""
    duration: float = 0.0
    retryable: bool = True
    retry_after: float | None = None
    response_excerpt: str = ""
    request_headers: Mapping[str, str] = field(default_factory=dict)
