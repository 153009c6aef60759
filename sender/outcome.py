"""The sender's input (:class:`Message`) and result (:class:`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = ["Message", "Outcome"]


# Named tuples, not frozen dataclasses: one of each is built per delivery, and a
# frozen dataclass's __init__ costs several times as much.


class Message(NamedTuple):
    """One webhook to send. ``body`` is the JSON body (REST); SOAP maps its parameters from it."""

    webhook_id: str
    timestamp: int
    body: Mapping[str, Any]
    attempt: int = 1


class Outcome(NamedTuple):
    """How one delivery attempt ended. The sender never raises for a failed delivery.

    ``error_code`` is the HTTP status as text (``"503"``) or a name such as
    ``timeout``, ``connect_error``, ``tls_error``, ``ssrf_blocked``,
    ``oauth_token_error``, ``soap_fault``, ``wsdl_unavailable``, ``circuit_open``. ``retryable`` is
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
    request_headers: Mapping[str, str] = MappingProxyType({})
