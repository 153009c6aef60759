"""Process-wide sender settings (one :class:`SenderSettings` per service)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

__all__ = ["LOOPBACK_NETWORKS", "BreakerSettings", "SenderSettings"]

# What tests and local development allow-list to deliver to receivers on this machine.
LOOPBACK_NETWORKS: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


class BreakerSettings(BaseModel):
    """When an endpoint's circuit opens and how it recovers.

    The defaults follow what open-source webhook senders converged on: trip at 70 %
    failures over at least 10 requests in 5 minutes, probe again after 30 s.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_rate: float = Field(default=0.7, gt=0, le=1)
    min_requests: int = Field(default=10, ge=1)
    window: float = Field(default=300.0, gt=0, description="seconds of history the rate is computed over")
    open_for: float = Field(default=30.0, gt=0, description="seconds before a half-open probe")
    half_open_probes: int = Field(default=1, ge=1, description="concurrent probes while half-open")


class SenderSettings(BaseModel):
    """How the one sender of a process behaves. Plain model: the service's settings embed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = "hookstream/0.1"
    pool_size: int = Field(
        default=1024,
        ge=1,
        description="deliveries under way at once across all endpoints, each on a keep-alive connection; "
        "beyond it a delivery waits its turn, and the wait does not count against its timeout",
    )
    keepalive_timeout: float = Field(default=30.0, gt=0)
    dns_cache_ttl: int = Field(default=10, ge=0, description="seconds a resolved, checked host is reused")
    allow_http: bool = Field(default=False, description="allow plain http endpoints (development only)")
    ssrf_allow: tuple[IPvAnyNetwork, ...] = Field(
        default=(),
        description="networks delivered to although private, loopback, link-local or reserved",
    )
    ca_bundle: Path | None = Field(default=None, description="trusted CAs; the system store when unset")
    max_response_bytes: int = Field(default=65536, ge=0, description="response body bytes read at most")
    response_excerpt_bytes: int = Field(default=1024, ge=0, description="response bytes kept in an Outcome")
    max_in_flight_per_endpoint: int = Field(
        default=128,
        ge=1,
        description="deliveries at once to one endpoint URL; beyond it deliver returns endpoint_busy",
    )
    endpoint_queue_wait: float = Field(
        default=5.0,
        ge=0,
        description="seconds a delivery waits for one of its endpoint's slots before it takes the retry "
        "path as endpoint_busy",
    )
    endpoint_stall: float = Field(
        default=1.0,
        gt=0,
        description="seconds an endpoint may hold all its slots without finishing a delivery before its "
        "queued deliveries take the retry path at once",
    )
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    oauth_timeout: float = Field(default=10.0, gt=0, description="seconds for one token request")
    oauth_refresh_margin: float = Field(
        default=30.0, ge=0, description="seconds before expiry a cached token is replaced"
    )
    wsdl_timeout: float = Field(default=30.0, gt=0, description="seconds to load one WSDL or XSD document")
