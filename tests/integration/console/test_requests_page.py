"""The Requests page (successful and rejected requests in one list), in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from store import Store
from tests.integration.console.conftest import Console, SignIn, accessible
from tests.integration.store.factories import failed_record, request_log
from tests.integration.test_pipeline import subscription
from tests.support.store_bulk import run_apart

pytestmark = pytest.mark.kafka

Screenshot = Callable[[Page, str], Path]
DAY = datetime(2024, 9, 2, 9, 30, tzinfo=UTC)


def _log(console: Console, *entries: object) -> None:
    """Successful requests written to the store's request log, as the log writer would."""

    async def write() -> None:
        async with Store(console.store_url) as store:
            await store.log_requests(list(entries))  # type: ignore[arg-type]

    run_apart(write())


def _body(event_id: str, n: int) -> str:
    return f'{{"event_id": "{event_id}", "event_type": "OnNew", "data": {{"id": {n}}}}}'


def _seed_mixed(console: Console, name: str, day: datetime) -> None:
    """Three successful and two rejected requests of ``name`` on ``day``."""
    _log(
        console,
        *(
            request_log(
                f"{name}-ok-{n}",
                subscription=name,
                entity="Object",
                entity_id=f"obj-{100 + n}",
                trigger="OnNew",
                channel="7",
                subchannel="support-wa",
                at=day + timedelta(minutes=10 * n),
                request_body=_body(f"{name}-evt-{n}", n),
                response_excerpt='{"received": true}',
            )
            for n in range(3)
        ),
    )
    console.seed(
        *(
            failed_record(
                f"{name}-bad-{n}",
                subscription=name,
                start=day + timedelta(minutes=5 + 10 * n),
                tries=n + 2,
                request_body=_body(f"{name}-bad-evt-{n}", n),
            )
            for n in range(2)
        )
    )


def test_successful_and_rejected_requests_in_one_list_filtered_by_state(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    _seed_mixed(console, "crm-objects", DAY)
    page = sign_in("operator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    page.goto(console.url("/requests?subscription=crm-objects"))
    rows = page.locator("table.requests tbody tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_role("row", name=re.compile("successful-"))).to_have_count(3)
    expect(page.get_by_role("row", name=re.compile("rejected-"))).to_have_count(2)
    first_ok = page.get_by_role("row", name=re.compile("successful-")).first
    expect(first_ok).to_contain_text("obj-102")
    expect(first_ok).to_contain_text("HTTP 200")
    first_ok.get_by_text("Request and response").click()
    expect(first_ok.locator("pre").first).to_contain_text('"event_id": "crm-objects-evt-2"')
    expect(first_ok.locator("pre").nth(1)).to_contain_text('{"received": true}')
    accessible(page)
    screenshot(page, "requests")

    page.get_by_role("navigation", name="Requests by state").get_by_role("link", name="Rejected").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_role("link", name="Rejected", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Webhook")).to_have_value("crm-objects")
    expect(rows.first).to_contain_text("503")
    page.get_by_role("navigation", name="Requests by state").get_by_role("link", name="Successful").click()
    expect(rows).to_have_count(3)
    # Rejected ones have their failed event's details.
    page.get_by_role("navigation", name="Requests by state").get_by_role("link", name="All").click()
    page.get_by_label(re.compile("^Details of request rejected-")).first.click()
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")

    dark = sign_in("viewer", theme="dark")
    dark.goto(console.url("/requests?subscription=crm-objects"))
    expect(dark.locator("table.requests tbody tr")).to_have_count(5)
    accessible(dark)


def test_an_operator_deletes_many_after_confirming_and_a_viewer_may_not(
    console: Console, sign_in: SignIn
) -> None:
    _seed_mixed(console, "crm-delete", DAY + timedelta(days=1))
    listing = console.url("/requests?subscription=crm-delete")

    viewer = sign_in("viewer")
    viewer.goto(listing)
    expect(viewer.locator("table.requests tbody tr")).to_have_count(5)
    expect(viewer.get_by_role("checkbox")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Delete")).to_have_count(0)
    expect(viewer.get_by_role("button", name=re.compile("Resend"))).to_have_count(0)

    page = sign_in("operator")
    page.goto(listing)
    delete = page.get_by_role("button", name="Delete", exact=True)
    expect(delete).to_be_disabled()
    ok = page.get_by_role("row", name=re.compile("successful-")).first
    bad = page.get_by_role("row", name=re.compile("rejected-")).first
    ok_id = ok.locator("th").inner_text().split()[0]
    bad_id = bad.locator("th").inner_text().split()[0]
    ok.get_by_role("checkbox").check()
    bad.get_by_role("checkbox").check()
    expect(page.get_by_text("2 selected")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    expect(page.locator("table.requests tbody tr")).to_have_count(5)
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.get_by_role("status")).to_have_text("Deleted 2 requests")
    expect(page.locator("table.requests tbody tr")).to_have_count(3)
    expect(page).to_have_url(listing)
    rejected_id = int(bad_id.removeprefix("rejected-"))
    assert console.api("GET", f"/failed-events/{rejected_id}")[0] == 404
    left = {item["id"] for item in console.api("GET", "/requests?subscription=crm-delete")[1]["items"]}
    assert ok_id not in left
    assert bad_id not in left
    assert len(left) == 3

    # Select all on the page, then delete: the empty state says what to do.
    page.get_by_label("Select every request on this page").check()
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.get_by_role("status")).to_have_text("Deleted 3 requests")
    expect(page.get_by_role("heading", name="No requests match")).to_be_visible()
    accessible(page)


def test_a_rejected_request_is_resent_from_the_list(console: Console, sign_in: SignIn) -> None:
    console.receiver.behave("/resend-ok", status=200)
    body = subscription("crm-resend", console.receiver.url("/resend-ok"), "User", "OnUpdate", log="all")
    assert console.api("POST", "/subscriptions", body)[0] == 201
    [failed_id] = console.seed(
        failed_record(
            "crm-resend-1",
            subscription="crm-resend",
            start=DAY,
            request_body='{"event_id": "evt-resend-1", "event_type": "OnUpdate", "data": {}}',
        )
    )
    page = sign_in("operator")
    page.goto(console.url("/requests?subscription=crm-resend"))
    row = page.get_by_role("row", name=re.compile(f"rejected-{failed_id}\\b"))
    expect(row.get_by_role("button", name=f"Resend request rejected-{failed_id}")).to_be_visible()
    # Only rejected requests can be resent.
    expect(page.get_by_role("button", name=re.compile("Resend request successful-"))).to_have_count(0)
    row.get_by_role("button", name=f"Resend request rejected-{failed_id}").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Request rejected-{failed_id} was resent and delivered: it is closed"
    )
    rows = page.locator("table.requests tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Successful")
    expect(rows.first).to_contain_text("resent by otto")
    assert console.receiver.event_ids("/resend-ok") == {"evt-resend-1": 1}
