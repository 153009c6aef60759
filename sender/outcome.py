"""The sender's input (:class:`Message`) and result (:class:`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from .codes import is_retryable

__all__ = ["Message", "Outcome", "Waiter"]


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

    ``error_code`` is an :class:`~sender.codes.ErrorCode` or, when the endpoint
    answered, the HTTP status as text (``"503"``); None on success.
    ``retry_after`` is the receiver's ``Retry-After`` in seconds, if any.
    """

    ok: bool
    status: int | None = None
    error_code: str | None = None
    description: str = ""
    duration: float = 0.0
    retry_after: float | None = None
    response_excerpt: str = ""
    request_headers: Mapping[str, str] = MappingProxyType({})

    @property
    def retryable(self) -> bool:
        """False where another attempt cannot help (``ssrf_blocked``, ``config_error`` ...)."""
        return is_retryable(self.error_code)


class Waiter(Protocol):
    """Whoever waits for a delivery submitted with :meth:`sender.Sender.submit`.

    ``settle`` is called once, on the event loop, with the delivery's outcome;
    never for a delivery dropped by :meth:`sender.Sender.close`. A waiter may
    also have ``log_fields()``: the fields of the sender's log lines about the
    delivery besides its ``webhook_id`` (the sender knows no Kafka record).
    """

    def settle(self, outcome: Outcome) -> None: ...
