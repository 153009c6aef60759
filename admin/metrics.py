"""The admin room's own metric: resends of failed events.

Every room registers its metrics on the process's one registry; :mod:`admin.app`
serves it at ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["AdminMetrics"]


class AdminMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.resends = Counter(
            "hookstream_resends", "Resends of failed events by result", ["result"], registry=registry
        )
