"""hookstream's sender: delivers webhooks over REST and SOAP.

One :class:`Sender` per process holds one aiohttp session (a keep-alive pool).
:meth:`Sender.deliver` takes a :class:`Target` (endpoint, auth, TLS, signing
secrets) and a :class:`Message` and returns an :class:`Outcome`; it never
raises for a failed delivery. :meth:`Sender.submit` does the same for a
:class:`Waiter`, the consumer's hot path.

A delivery's way through: the Sender prepares the target once
(:class:`~sender.attempt.PreparedTarget`: URL checked against the SSRF guard,
TLS, headers, signer, tokens, SOAP call) and hands a job to the endpoint's
:class:`~sender.lanes.Lane` (slots, queue, circuit breaker), whose worker calls
``PreparedTarget.attempt``; :mod:`sender.classify` names the outcome with an
:class:`ErrorCode`, and the waiter is settled with it.

Exceptions raised inside the sender (each becomes an Outcome's error code)::

    SenderError
    ├── TargetConfigError      config_error (not retryable)
    ├── WsdlUnavailable        wsdl_unavailable (retryable)
    ├── OAuthTokenError        oauth_token_error
    └── SoapBuildError         soap_build_error (not retryable)
    OSError
    └── SsrfBlocked            ssrf_blocked (not retryable)
"""

from .client import Sender
from .codes import ErrorCode
from .config import Target
from .errors import (
    OAuthTokenError,
    SenderError,
    SoapBuildError,
    SsrfBlocked,
    TargetConfigError,
    WsdlUnavailable,
)
from .outcome import Message, Outcome
from .settings import LOOPBACK_NETWORKS, BreakerSettings, SenderSettings

__all__ = [
    "LOOPBACK_NETWORKS",
    "BreakerSettings",
    "ErrorCode",
    "Message",
    "OAuthTokenError",
    "Outcome",
    "Sender",
    "SenderError",
    "SenderSettings",
    "SoapBuildError",
    "SsrfBlocked",
    "Target",
    "TargetConfigError",
    "WsdlUnavailable",
]
