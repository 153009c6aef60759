"""Exceptions raised inside the sender; :meth:`Sender.deliver` turns each into an Outcome."""

from __future__ import annotations

__all__ = [
    "OAuthTokenError",
    "SenderError",
    "SoapBuildError",
    "SsrfBlocked",
    "TargetConfigError",
    "WsdlUnavailable",
]


class SenderError(Exception):
    """Base of the sender's own failures."""


class TargetConfigError(SenderError):
    """A target cannot be used as configured (bad certificate file, secret, URL, WSDL ...)."""


class WsdlUnavailable(SenderError):
    """A WSDL, or a document it imports, could not be fetched just now (no connection, timeout, 5xx).

    Unlike a WSDL that loads but is wrong, this passes: the delivery is retried, and the next one
    fetches the WSDL again.
    """


class OAuthTokenError(SenderError):
    """The OAuth2 token endpoint did not hand out a token."""


class SoapBuildError(SenderError):
    """The SOAP envelope could not be built from the message."""


class SsrfBlocked(OSError):
    """A destination address is not allowed.

    An :class:`OSError`, so that raised from a resolver aiohttp carries it as the
    ``os_error`` of the connection error it raises.
    """
