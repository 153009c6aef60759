"""Records refuse what the store could not store faithfully."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store import AttemptRecord, FailedEventFilter, FailedEventRecord, PruneResult, RequestLogRecord

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _failed(**overrides: Any) -> FailedEventRecord:
    fields: dict[str, Any] = {
        "webhook_id": "msg_1",
        "subscription": "s",
        "entity": "Object",
        "entity_id": "1",
        "trigger": "OnNew",
        "event_id": "e1",
        "url": "https://example.com/hook",
        "request_headers": {},
        "request_body": "{}",
        "error_code": "500",
        "error_description": "boom",
        "attempts": [AttemptRecord(number=1, at=AT, status=500, error_code="500")],
        "first_attempt_at": AT,
        "last_attempt_at": AT,
    }
    fields.update(overrides)
    return FailedEventRecord(**fields)


def test_a_well_formed_failed_event_is_accepted() -> None:
    assert _failed().webhook_id == "msg_1"


@pytest.mark.parametrize("field", ["first_attempt_at", "last_attempt_at"])
def test_naive_times_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _failed(**{field: datetime(2024, 5, 1, 12, 0)})


def test_naive_attempt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AttemptRecord(number=1, at=datetime(2024, 5, 1))


def test_naive_filter_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FailedEventFilter(since=datetime(2024, 5, 1))


def test_naive_request_log_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RequestLogRecord(
            webhook_id="w",
            subscription="s",
            entity="User",
            entity_id="1",
            trigger="OnNew",
            event_id="e",
            url="https://example.com",
            status=200,
            attempt=1,
            at=datetime(2024, 5, 1),
        )


def test_a_failed_event_needs_a_trial_history() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        _failed(attempts=[])


def test_first_attempt_cannot_follow_the_last() -> None:
    with pytest.raises(ValueError, match="after"):
        _failed(first_attempt_at=AT + timedelta(seconds=1))


def test_the_default_filter_shows_open_events() -> None:
    assert FailedEventFilter().state == "open"


def test_prune_result_total() -> None:
    assert PruneResult(failed_events=2, requests=3).total == 5
