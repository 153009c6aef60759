"""event_time in the webhook body: UTC, milliseconds, a Z suffix, whatever the decoded time's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sender.webhook import format_time

MOMENT = datetime(2026, 11, 23, 10, 0, 0, 123_456, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment",
    [
        MOMENT,
        MOMENT.replace(tzinfo=None),  # naive: taken as UTC
        MOMENT.astimezone(timezone(timedelta(hours=2))),
        MOMENT.astimezone(timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_every_zone_is_written_as_utc_milliseconds(moment: datetime) -> None:
    assert format_time(moment) == "2026-11-23T10:00:00.123Z"


def test_a_whole_second_keeps_its_milliseconds() -> None:
    assert format_time(MOMENT.replace(microsecond=0)) == "2026-11-23T10:00:00.000Z"
