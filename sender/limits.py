"""Isolation of one endpoint from the others: an in-flight limit and a circuit breaker."""

from __future__ import annotations

from .breaker import CircuitBreaker
from .settings import BreakerSettings

__all__ = ["EndpointGuard", "counts_as_failure"]

# Failures that say the endpoint is unhealthy. A 4xx other than 429 means it is
# up and answering, so it does not trip the breaker; ssrf_blocked and
# configuration errors never reach the endpoint at all.
_UNHEALTHY_CODES = frozenset(
    {"timeout", "connect_error", "connection_error", "dns_error", "tls_error", "429"}
)


def counts_as_failure(error_code: str | None, status: int | None) -> bool:
    if error_code is None:
        return False
    if error_code in _UNHEALTHY_CODES:
        return True
    # A 5xx counts only when it is the whole story: a SOAP fault comes with a 500
    # from a service that is up and answering.
    return status is not None and status >= 500 and error_code == str(status)


class EndpointGuard:
    """Shared by every target that delivers to one endpoint URL."""

    __slots__ = ("breaker", "in_flight", "limit")

    def __init__(self, limit: int, breaker: BreakerSettings) -> None:
        self.limit = limit
        self.in_flight = 0
        self.breaker = CircuitBreaker(breaker)
