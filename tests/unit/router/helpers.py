"""Building subscriptions and events in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from router import DomainEvent, Subscription


def subscription(name: str, entity: str, *triggers: dict[str, Any], **extra: Any) -> Subscription:
    return Subscription.model_validate(
        {
            "name": name,
            "entity": entity,
            "triggers": list(triggers),
            "endpoint": {"url": f"https://{name}.example.com/hook"},
            **extra,
        }
    )


def event(entity: str, event_type: str, data: dict[str, Any] | None = None, **components: Any) -> DomainEvent:
    return DomainEvent(
        event_id="evt-1",
        event_time=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        entity=entity,
        event_type=event_type,
        entity_id="42",
        data=data or {},
        **components,
    )
