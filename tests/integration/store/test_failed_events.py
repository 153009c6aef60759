"""Failed events: record, list with filters and pages, show, resend rule, delete, prune."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from store import (
    AttemptRecord,
    FailedEventFilter,
    FailedEventNotFound,
    FailedEventNotOpen,
    FailedEventState,
    InvalidCursor,
    RecordedFailure,
    Store,
)
from store.models import AttemptRow
from tests.integration.store.factories import BASE_TIME, failed_record, request_log


async def _attempt_rows(url: str) -> int:
    """Attempt rows in the database, to see that deleting a failed event deletes its history."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(AttemptRow))).scalar_one()
    finally:
        await engine.dispose()


async def test_recorded_failure_is_shown_with_its_whole_history(store: Store) -> None:
    record = failed_record(
        "msg_a",
        request_headers={
            "Authorization": "Bearer s3cr3t",
            "X-Api-Key": "k",
            "Content-Type": "application/json",
        },
    )

    failed_id = (await store.record_failure(record)).id
    shown = await store.get_failed(failed_id)

    assert shown is not None
    assert shown.id == failed_id
    assert shown.state is FailedEventState.OPEN
    assert (shown.webhook_id, shown.subscription, shown.entity, shown.entity_id, shown.trigger) == (
        "msg_a",
        "crm-new-objects",
        "Object",
        "obj-42",
        "OnNew",
    )
    assert (shown.channel, shown.subchannel, shown.event_id, shown.url) == (
        "7",
        "whatsapp-main",
        "evt-msg_a",
        "https://crm.example.com/hooks",
    )
    assert shown.request_body == record.request_body
    assert shown.request_headers == {
        "Authorization": "[redacted]",
        "X-Api-Key": "[redacted]",
        "Content-Type": "application/json",
    }
    assert (shown.response_status, shown.response_excerpt) == (503, "Service Unavailable")
    assert (shown.error_code, shown.error_description) == ("503", "HTTP 503 Service Unavailable")
    assert shown.attempt_count == 3
    assert shown.attempts == tuple(record.attempts)
    assert shown.first_attempt_at == BASE_TIME
    assert shown.last_attempt_at == BASE_TIME + timedelta(minutes=10)
    assert shown.closed_at is None
    assert shown.created_at.tzinfo is not None


async def test_times_come_back_in_utc_whatever_zone_went_in(store: Store) -> None:
    plus_two = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    failed_id = (await store.record_failure(failed_record("msg_tz", start=plus_two, tries=1))).id

    shown = await store.get_failed(failed_id)

    assert shown is not None
    assert shown.first_attempt_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert shown.first_attempt_at.utcoffset() == timedelta(0)
    assert shown.attempts[0].at.utcoffset() == timedelta(0)


async def test_a_redelivered_dead_letter_record_makes_no_second_row(store: Store, store_url: str) -> None:
    recorded = await store.record_failure(failed_record("msg_dup"))
    again = await store.record_failure(failed_record("msg_dup", error_code="timeout"))

    assert (recorded.created, again.created) == (True, False)
    assert again.id == recorded.id
    first = recorded.id
    page = await store.list_failed(FailedEventFilter(state=None))
    assert [item.id for item in page.items] == [first]
    shown = await store.get_failed(first)
    assert shown is not None
    assert shown.error_code == "503"
    assert await _attempt_rows(store_url) == 3


async def test_a_closed_failed_event_that_fails_again_is_reopened_with_the_new_attempts(
    store: Store, store_url: str
) -> None:
    original = failed_record("msg_back")
    failed_id = (await store.record_failure(original)).id
    resend_at = BASE_TIME + timedelta(days=1)
    await store.resend_succeeded(failed_id, AttemptRecord(number=4, at=resend_at, status=200))
    # A crash redelivers the input; the event fails all its attempts once more.
    again = failed_record(
        "msg_back",
        start=BASE_TIME + timedelta(days=2),
        error_code="timeout",
        error_description="no complete response within 15 s",
        response_status=None,
        response_excerpt=None,
    )

    recorded = await store.record_failure(again)
    redelivered = await store.record_failure(again)
    original_redelivered = await store.record_failure(original)

    assert recorded == RecordedFailure(failed_id, created=False, reopened=True)
    assert redelivered == original_redelivered == RecordedFailure(failed_id, created=False, reopened=False)
    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert (shown.state, shown.closed_at) == (FailedEventState.OPEN, None)
    assert (shown.error_code, shown.error_description) == ("timeout", "no complete response within 15 s")
    assert (shown.response_status, shown.response_excerpt) == (None, None)
    assert shown.attempt_count == 7
    assert shown.attempts == (
        *original.attempts,
        AttemptRecord(number=4, at=resend_at, status=200),
        *again.attempts,
    )
    assert (shown.first_attempt_at, shown.last_attempt_at) == (
        original.first_attempt_at,
        again.last_attempt_at,
    )
    assert await _attempt_rows(store_url) == 7
    assert await store.count_open() == 1


async def test_an_open_failed_event_that_fails_again_gains_the_new_attempts_once(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("msg_open"))).id
    later = failed_record("msg_open", start=BASE_TIME + timedelta(hours=1), error_code="502")

    first = await store.record_failure(later)
    second = await store.record_failure(later)

    assert first == second == RecordedFailure(failed_id, created=False, reopened=False)
    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert (shown.state, shown.error_code, shown.attempt_count) == (FailedEventState.OPEN, "502", 6)


async def test_concurrent_redeliveries_make_one_row(store: Store) -> None:
    ids = await asyncio.gather(*(store.record_failure(failed_record("msg_race")) for _ in range(5)))

    assert len({recorded.id for recorded in ids}) == 1
    assert [recorded.created for recorded in ids].count(True) == 1
    assert await store.count_open() == 1


async def test_get_of_a_missing_id_is_none(store: Store) -> None:
    assert await store.get_failed(12345) is None


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (FailedEventFilter(), {"a", "b", "c", "d"}),
        (FailedEventFilter(subscription="billing"), {"b"}),
        (FailedEventFilter(entity="User"), {"c"}),
        (FailedEventFilter(trigger="OnNewActivity"), {"d"}),
        (FailedEventFilter(channel="4"), {"c"}),
        (FailedEventFilter(subchannel="mail-support"), {"c"}),
        (FailedEventFilter(error_code="timeout"), {"b", "d"}),
        (FailedEventFilter(error_code="timeout", subscription="billing"), {"b"}),
        (FailedEventFilter(since=BASE_TIME + timedelta(days=1)), {"b", "c", "d"}),
        (FailedEventFilter(until=BASE_TIME + timedelta(days=2)), {"a", "b"}),
        (
            FailedEventFilter(since=BASE_TIME + timedelta(days=1), until=BASE_TIME + timedelta(days=3)),
            {"b", "c"},
        ),
        (FailedEventFilter(subscription="nobody"), set()),
    ],
)
async def test_list_filters(store: Store, criteria: FailedEventFilter, expected: set[str]) -> None:
    # Last attempts: a at day 0, b day 1, c day 2, d day 3 (each + 10 minutes).
    day = timedelta(days=1)
    await store.record_failure(failed_record("a"))
    await store.record_failure(
        failed_record("b", start=BASE_TIME + day, subscription="billing", error_code="timeout")
    )
    await store.record_failure(
        failed_record("c", start=BASE_TIME + 2 * day, entity="User", channel="4", subchannel="mail-support")
    )
    await store.record_failure(
        failed_record("d", start=BASE_TIME + 3 * day, trigger="OnNewActivity", error_code="timeout")
    )

    page = await store.list_failed(criteria)

    assert {item.webhook_id for item in page.items} == expected
    assert page.total == len(expected)


async def test_list_shows_open_events_by_default_and_closed_ones_on_request(store: Store) -> None:
    open_id = (await store.record_failure(failed_record("open"))).id
    closed_id = (await store.record_failure(failed_record("closed"))).id
    await store.resend_succeeded(
        closed_id, AttemptRecord(number=4, at=BASE_TIME + timedelta(hours=1), status=200)
    )

    default = await store.list_failed()
    closed = await store.list_failed(FailedEventFilter(state=FailedEventState.CLOSED))
    every = await store.list_failed(FailedEventFilter(state=None))

    assert [item.id for item in default.items] == [open_id]
    assert [item.id for item in closed.items] == [closed_id]
    assert {item.id for item in every.items} == {open_id, closed_id}


async def test_pages_cover_every_event_once_newest_first(store: Store) -> None:
    # Seven events; three share one last-attempt time, so the id breaks the tie.
    starts = [BASE_TIME + timedelta(hours=hours) for hours in (0, 1, 2, 2, 2, 3, 4)]
    for number, start in enumerate(starts):
        await store.record_failure(failed_record(f"p{number}", start=start, tries=1))

    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = await store.list_failed(FailedEventFilter(), limit=3, cursor=cursor)
        assert page.total == 7
        seen.extend(item.webhook_id for item in page.items)
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sizes == [3, 3, 1]
    assert sorted(seen) == sorted(f"p{number}" for number in range(7))
    assert seen[:2] == ["p6", "p5"]
    assert seen[2:5] == ["p4", "p3", "p2"]  # same time: higher id first
    assert seen[5:] == ["p1", "p0"]


async def test_a_page_exactly_full_has_no_next_cursor(store: Store) -> None:
    for number in range(2):
        await store.record_failure(failed_record(f"full{number}"))

    page = await store.list_failed(limit=2)

    assert len(page.items) == 2
    assert page.next_cursor is None


async def test_a_foreign_cursor_is_refused(store: Store) -> None:
    with pytest.raises(InvalidCursor):
        await store.list_failed(cursor="not-a-cursor")


async def test_resend_success_closes_the_failed_event(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("msg_ok"))).id
    resend_at = BASE_TIME + timedelta(days=1)

    await store.resend_succeeded(
        failed_id,
        AttemptRecord(number=4, at=resend_at, status=200, duration_ms=40.0),
        log=request_log("msg_ok", at=resend_at, attempt=4),
    )

    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert shown.state is FailedEventState.CLOSED
    assert shown.closed_at == resend_at
    assert shown.last_attempt_at == resend_at
    assert shown.attempt_count == 4
    assert shown.attempts[-1] == AttemptRecord(number=4, at=resend_at, status=200, duration_ms=40.0)
    assert await store.count_open() == 0
    assert await store.count_requests(subscription="crm-all") == 1


async def test_resend_failure_updates_the_error_and_extends_the_history(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("msg_again"))).id
    resend_at = BASE_TIME + timedelta(days=1)
    attempt = AttemptRecord(
        number=4, at=resend_at, status=None, error_code="timeout", error_description="no answer in 30 s"
    )

    await store.resend_failed(failed_id, attempt)

    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert shown.state is FailedEventState.OPEN
    assert (shown.error_code, shown.error_description) == ("timeout", "no answer in 30 s")
    assert (shown.response_status, shown.response_excerpt) == (None, None)
    assert shown.last_attempt_at == resend_at
    assert shown.updated_at > shown.created_at
    assert shown.attempt_count == 4
    assert shown.attempts[-1] == attempt
    assert [a.number for a in shown.attempts] == [1, 2, 3, 4]
    assert await store.count_open() == 1


async def test_resend_of_a_closed_event_is_refused(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("msg_twice"))).id
    await store.resend_succeeded(failed_id, AttemptRecord(number=4, at=BASE_TIME, status=200))

    with pytest.raises(FailedEventNotOpen):
        await store.resend_succeeded(failed_id, AttemptRecord(number=5, at=BASE_TIME, status=200))
    with pytest.raises(FailedEventNotOpen):
        await store.resend_failed(failed_id, AttemptRecord(number=5, at=BASE_TIME, error_code="500"))

    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert shown.attempt_count == 4
    assert len(shown.attempts) == 4


async def test_resend_of_a_missing_event_is_refused(store: Store) -> None:
    with pytest.raises(FailedEventNotFound):
        await store.resend_succeeded(999, AttemptRecord(number=1, at=BASE_TIME, status=200))
    with pytest.raises(FailedEventNotFound):
        await store.resend_failed(999, AttemptRecord(number=1, at=BASE_TIME, error_code="500"))


async def test_resend_outcome_must_match_the_method(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("msg_mismatch"))).id

    with pytest.raises(ValueError, match="no error code"):
        await store.resend_succeeded(failed_id, AttemptRecord(number=4, at=BASE_TIME, error_code="500"))
    with pytest.raises(ValueError, match="needs an error code"):
        await store.resend_failed(failed_id, AttemptRecord(number=4, at=BASE_TIME, status=200))


async def test_delete_one(store: Store, store_url: str) -> None:
    keep = (await store.record_failure(failed_record("keep"))).id
    gone = (await store.record_failure(failed_record("gone"))).id

    assert await store.delete_failed([gone]) == 1

    assert await store.get_failed(gone) is None
    assert await store.get_failed(keep) is not None
    assert await _attempt_rows(store_url) == 3


async def test_delete_many_counts_only_what_existed(store: Store, store_url: str) -> None:
    ids = [(await store.record_failure(failed_record(f"many{n}"))).id for n in range(4)]

    assert await store.delete_failed([ids[0], ids[1], ids[1], ids[3], 99999]) == 3

    remaining = await store.list_failed(FailedEventFilter(state=None))
    assert [item.id for item in remaining.items] == [ids[2]]
    assert await _attempt_rows(store_url) == 3
    assert await store.delete_failed([]) == 0


async def test_prune_removes_what_is_older_than_the_retention(store: Store) -> None:
    now = datetime.now(UTC)
    old = (await store.record_failure(failed_record("old", start=now - timedelta(days=40), tries=1))).id
    # Recorded long ago but resent yesterday: its last attempt is recent, so it stays.
    resent = (await store.record_failure(failed_record("resent", start=now - timedelta(days=40), tries=1))).id
    await store.resend_failed(resent, AttemptRecord(number=2, at=now - timedelta(days=1), error_code="500"))
    recent = (await store.record_failure(failed_record("recent", start=now - timedelta(days=2), tries=1))).id
    await store.log_requests(
        [
            request_log("log_old", at=now - timedelta(days=31)),
            request_log("log_new", at=now - timedelta(hours=1)),
        ]
    )

    result = await store.prune(timedelta(days=30))

    assert (result.failed_events, result.requests, result.total) == (1, 1, 2)
    assert await store.get_failed(old) is None
    assert await store.get_failed(resent) is not None
    assert await store.get_failed(recent) is not None
    assert await store.count_requests() == 1


async def test_count_open(store: Store) -> None:
    assert await store.count_open() == 0
    first = (await store.record_failure(failed_record("one"))).id
    await store.record_failure(failed_record("two"))
    assert await store.count_open() == 2
    await store.resend_succeeded(first, AttemptRecord(number=4, at=BASE_TIME, status=204))
    assert await store.count_open() == 1


async def test_request_log_keeps_one_entry_per_webhook_id(store: Store) -> None:
    await store.log_request(request_log("ok_1"))
    await store.log_requests(
        [request_log("ok_1"), request_log("ok_2"), request_log("ok_3", subscription="other")]
    )
    await store.log_requests([])

    assert await store.count_requests() == 3
    assert await store.count_requests(subscription="crm-all") == 2
