"""The request log view: logged successes and open failed events in one list, paged, filtered, deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import AttemptRecord, InvalidCursor, RequestFilter, RequestState, Store, SubscriptionCounts
from tests.integration.store.factories import BASE_TIME, failed_record, request_log


async def test_successful_and_rejected_requests_form_one_list_newest_first(store: Store) -> None:
    await store.log_requests(
        [request_log("ok_old", at=BASE_TIME - timedelta(days=1)), request_log("ok_new", at=BASE_TIME)]
    )
    rejected = (await store.record_failure(failed_record("bad", start=BASE_TIME - timedelta(hours=1)))).id
    closed = (await store.record_failure(failed_record("closed", start=BASE_TIME))).id
    await store.resend_succeeded(closed, AttemptRecord(number=4, at=BASE_TIME, status=200))

    page = await store.list_requests()

    assert [(item.state, item.webhook_id) for item in page.items] == [
        (RequestState.SUCCESSFUL, "ok_new"),
        (RequestState.REJECTED, "bad"),  # its last attempt is 50 minutes before ok_new
        (RequestState.SUCCESSFUL, "ok_old"),
    ]
    assert page.total == 3
    bad = page.items[1]
    assert bad.id == rejected
    assert bad.error_code == "503"
    assert bad.error_description == "HTTP 503 Service Unavailable"
    assert bad.status == 503
    assert bad.attempts == 3
    assert bad.request_body == '{"event_type": "OnNew", "data": {"id": 42}}'
    ok = page.items[0]
    assert ok.error_code is None
    assert ok.status == 200
    assert ok.at == BASE_TIME


async def test_requests_filter_by_state_subscription_and_time(store: Store) -> None:
    await store.log_requests([request_log("ok_1"), request_log("ok_2", subscription="billing")])
    await store.record_failure(failed_record("bad_1", subscription="billing"))

    billing = await store.list_requests(RequestFilter(subscription="billing"))
    rejected = await store.list_requests(RequestFilter(state=RequestState.REJECTED))
    later = await store.list_requests(RequestFilter(since=BASE_TIME + timedelta(minutes=1)))

    assert {item.webhook_id for item in billing.items} == {"ok_2", "bad_1"}
    assert [item.webhook_id for item in rejected.items] == ["bad_1"]
    assert [item.webhook_id for item in later.items] == ["bad_1"]  # its last attempt is 10 min later


async def test_request_pages_cover_every_request_once(store: Store) -> None:
    await store.log_requests([request_log(f"ok_{n}", at=BASE_TIME) for n in range(5)])
    for n in range(4):
        await store.record_failure(failed_record(f"bad_{n}", start=BASE_TIME - timedelta(minutes=10)))

    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_requests(limit=2, cursor=cursor)
        seen += [item.webhook_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted([f"ok_{n}" for n in range(5)] + [f"bad_{n}" for n in range(4)])


async def test_a_foreign_request_cursor_is_refused(store: Store) -> None:
    with pytest.raises(InvalidCursor):
        await store.list_requests(cursor="bm90IGEgY3Vyc29y")


async def test_delete_requests_counts_what_existed(store: Store) -> None:
    await store.log_requests([request_log("ok_1"), request_log("ok_2")])
    ids = [item.id for item in (await store.list_requests()).items]

    assert await store.delete_requests([*ids, 999_999]) == sorted(ids)
    assert await store.count_requests() == 0


async def test_a_resend_records_who_acted(store: Store) -> None:
    failed_id = (await store.record_failure(failed_record("acted"))).id
    attempt = AttemptRecord(number=4, at=BASE_TIME, error_code="500", resent_by="alice")
    await store.resend_failed(failed_id, attempt)
    ok = AttemptRecord(number=5, at=BASE_TIME + timedelta(minutes=1), status=200, resent_by="bob")
    await store.resend_succeeded(
        failed_id, ok, log=request_log("acted", at=ok.at, attempt=5, resent_by="bob")
    )

    shown = await store.get_failed(failed_id)
    assert shown is not None
    assert shown.acted_by == "bob"
    assert [a.resent_by for a in shown.attempts] == [None, None, None, "alice", "bob"]
    logged = (await store.list_requests(RequestFilter(state=RequestState.SUCCESSFUL))).items
    assert [entry.acted_by for entry in logged] == ["bob"]


async def test_counts_per_subscription_since_a_time_in_one_call(store: Store) -> None:
    since = BASE_TIME - timedelta(hours=1)
    await store.log_requests(
        [
            request_log("ok_1", subscription="crm-all"),
            request_log("ok_2", subscription="crm-all"),
            request_log("ok_old", subscription="crm-all", at=since - timedelta(seconds=1)),
            request_log("ok_3", subscription="billing"),
        ]
    )
    await store.record_failure(failed_record("bad_1", subscription="billing"))
    await store.record_failure(
        failed_record("bad_old", subscription="billing", start=since - timedelta(days=2))
    )
    closed = (await store.record_failure(failed_record("closed", subscription="billing"))).id
    await store.resend_succeeded(closed, AttemptRecord(number=4, at=BASE_TIME, status=200))

    counts = await store.count_by_subscription(since)

    assert counts == {
        "crm-all": SubscriptionCounts(open_failed=0, successful=2, rejected=0),
        # The old failed event is still open (counted) but was last attempted before `since`.
        "billing": SubscriptionCounts(open_failed=2, successful=1, rejected=1),
    }
    assert await store.count_requests(subscription="crm-all", since=since) == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.count_by_subscription(since.replace(tzinfo=None))
