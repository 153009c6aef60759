"""The domain event, as the consumer decodes it from Avro or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["DomainEvent"]


class DomainEvent(NamedTuple):
    """A domain event (schemas/domain_event.avsc). Trigger components are None when absent.

    A named tuple rather than a frozen dataclass: one is built per consumed record,
    and a frozen dataclass's ``__init__`` costs several times as much.
    """

    event_id: str
    event_time: datetime
    entity: str
    event_type: str
    entity_id: str
    data: Mapping[str, Any]
    brand: str | None = None
    channel: int | None = None
    subchannel: str | None = None
    activity_type: int | None = None
    status_id: int | None = None
    whatsapp_status: str | None = None
    current_context: Mapping[str, Any] | None = None
