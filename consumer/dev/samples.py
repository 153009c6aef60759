"""Sample domain events, as a publishing service would write them (for ``produce-sample`` and the bench)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["sample_events"]

_KINDS: tuple[dict[str, Any], ...] = (
    {"entity": "Object", "event_type": "OnNew", "channel": 7, "subchannel": "support-wa"},
    {"entity": "User", "event_type": "OnNew", "channel": 8, "subchannel": "web"},
    {
        "entity": "Object",
        "event_type": "OnNewActivity",
        "activity_type": 2,
        "status_id": 2,
        "channel": 4,
        "subchannel": "mail-desk",
    },
    {
        "entity": "WhatsApp",
        "event_type": "OnMessageStatus",
        "whatsapp_status": "read",
        "channel": 16,
        "subchannel": "wa-cloud",
    },
)


def sample_events(count: int, *, brand: str = "acme") -> Iterator[dict[str, Any]]:
    """``count`` events cycling through a few kinds, each with a fresh id and the time of making."""
    for n, kind in zip(range(count), itertools.cycle(_KINDS), strict=False):
        entity_id = f"{kind['entity'].lower()}-{1000 + n}"
        yield {
            "event_id": str(uuid.uuid4()),
            "event_time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "entity_id": entity_id,
            "brand": brand,
            "current_context": {"user": "agent-7", "source": "hookstream produce-sample"},
            "data": {
                "id": entity_id,
                "subject": f"Sample {kind['entity']} {n}",
                "customer": {"id": f"cust-{n % 97}", "name": "Dana Levi", "email": "dana@example.com"},
                "status_id": kind.get("status_id", 1),
                "channel": kind["channel"],
                "subchannel": kind["subchannel"],
                "tags": ["vip", "sample"],
            },
            **kind,
        }
