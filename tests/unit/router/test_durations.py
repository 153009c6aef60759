"""The one duration parser: retry intervals, retention and retry-topic suffixes read and print alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("250ms", timedelta(milliseconds=250)),
        ("2w", timedelta(weeks=2)),
        ("1.5d", timedelta(hours=36)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "d", "-3d", "30 days", "3y", ""])
def test_bad_durations_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="such as 5m"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**10))
def test_a_formatted_duration_reads_back(ms: int) -> None:
    delay = timedelta(milliseconds=ms)
    assert parse_duration(format_duration(delay)) == delay


@pytest.mark.parametrize(
    ("delay", "name"),
    [(timedelta(minutes=5), "5m"), (timedelta(hours=1), "1h"), (timedelta(seconds=90), "90s")],
)
def test_the_shortest_whole_unit_names_a_retry_topic(delay: timedelta, name: str) -> None:
    assert format_duration(delay) == name
