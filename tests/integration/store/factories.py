"""Builders of store records for tests: a plausible record, with any field overridden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from store import AttemptRecord, FailedEventRecord, RequestLogRecord

BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def attempts(count: int, *, start: datetime = BASE_TIME, error_code: str = "503") -> list[AttemptRecord]:
    """``count`` failed attempts five minutes apart, starting at ``start``."""
    return [
        AttemptRecord(
            number=number,
            at=start + timedelta(minutes=5 * (number - 1)),
            status=int(error_code) if error_code.isdigit() else None,
            error_code=error_code,
            error_description=f"attempt {number} failed",
            duration_ms=12.5 * number,
        )
        for number in range(1, count + 1)
    ]


def failed_record(
    webhook_id: str = "msg_1", *, start: datetime = BASE_TIME, tries: int = 3, **overrides: Any
) -> FailedEventRecord:
    history = overrides.pop("attempts", None) or attempts(
        tries, start=start, error_code=overrides.get("error_code", "503")
    )
    fields: dict[str, Any] = {
        "webhook_id": webhook_id,
        "subscription": "crm-new-objects",
        "entity": "Object",
        "entity_id": "obj-42",
        "trigger": "OnNew",
        "channel": "7",
        "subchannel": "whatsapp-main",
        "event_id": f"evt-{webhook_id}",
        "url": "https://crm.example.com/hooks",
        "request_headers": {"Content-Type": "application/json", "webhook-id": webhook_id},
        "request_body": '{"event_type": "OnNew", "data": {"id": 42}}',
        "response_status": 503,
        "response_excerpt": "Service Unavailable",
        "error_code": "503",
        "error_description": "HTTP 503 Service Unavailable",
        "attempts": history,
        "first_attempt_at": history[0].at,
        "last_attempt_at": history[-1].at,
    }
    fields.update(overrides)
    return FailedEventRecord(**fields)


def request_log(
    webhook_id: str = "msg_ok_1", *, at: datetime = BASE_TIME, **overrides: Any
) -> RequestLogRecord:
    fields: dict[str, Any] = {
        "webhook_id": webhook_id,
        "subscription": "crm-all",
        "entity": "User",
        "entity_id": "user-7",
        "trigger": "OnUpdate",
        "event_id": f"evt-{webhook_id}",
        "url": "https://crm.example.com/hooks",
        "status": 200,
        "attempt": 1,
        "at": at,
        "duration_ms": 31.0,
    }
    fields.update(overrides)
    return RequestLogRecord(**fields)
