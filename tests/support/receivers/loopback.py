"""Sender settings for tests, whose receivers all listen on this machine."""

from __future__ import annotations

from sender import LOOPBACK_NETWORKS, SenderSettings

__all__ = ["loopback_settings"]


def loopback_settings(**overrides: object) -> SenderSettings:
    """Loopback allow-listed past the SSRF guard and plain http allowed, plus ``overrides``."""
    values: dict[str, object] = {"allow_http": True, "ssrf_allow": LOOPBACK_NETWORKS}
    values.update(overrides)
    return SenderSettings.model_validate(values)
