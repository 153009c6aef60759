"""The Failed events list and one failed event's details, in Chromium, against a live hookstream."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from consumer.wire.codec import encode_avro
from tests.integration.console.conftest import Console, SignIn, accessible
from tests.integration.store.factories import failed_record
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import produce
from tests.support.store_bulk import record_failures

pytestmark = pytest.mark.kafka

Screenshot = Callable[[Page, str], Path]
DASH = "\u2013"


def shown(page: Page) -> Locator:
    """The range of rows above the list: ``1-50 of 10,000`` (with an en dash)."""
    return page.locator(".list-bar .range strong")


def _create(
    console: Console, name: str, path: str, entity: str = "User", trigger: str = "OnUpdate", **extra: Any
) -> None:
    """An API subscription to the receiver; ``User``/``OnUpdate`` unless told, which no test produces."""
    body = subscription(name, console.receiver.url(path), entity, trigger, **extra)
    status, answer = console.api("POST", "/subscriptions", body)
    assert status == 201, answer


def _body(event_id: str) -> str:
    return f'{{"event_id": "{event_id}", "event_type": "OnUpdate", "entity": "User", "data": {{"id": 7}}}}'


def test_a_failed_delivery_is_opened_from_the_subscriptions_page_resent_and_logged(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    console.receiver.behave("/flaky", status=503)
    _create(console, "e2e-users", "/flaky", entity="User", trigger="OnNew", retry={"attempts": 0}, log="all")
    [event] = events(1, entity="User", event_type="OnNew", channel=7, subchannel="whatsapp-main")
    produce(console.bootstrap, console.service.input_topic, [encode_avro(event)])
    assert console.receiver.wait_for(
        lambda: console.api("GET", "/failed-events?subscription=e2e-users")[1]["total"] == 1, timeout=60
    )

    page = sign_in("operator")
    page.get_by_label("1 failed deliveries of e2e-users").click()
    expect(page).to_have_url(re.compile(r"/failed-events\?subscription=e2e-users$"))
    expect(page.get_by_label("Webhook")).to_have_value("e2e-users")
    row = page.get_by_role("row", name=re.compile("e2e-users"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("User")
    expect(row).to_contain_text("OnNew")
    expect(row).to_contain_text("WhatsApp")
    expect(row).to_contain_text("whatsapp-main")
    expect(row).to_contain_text("503")
    row.get_by_role("link", name="e2e-users").click()

    # Overview, then the keyboard through the tabs: Payload, Trial History.
    overview = page.get_by_role("tab", name="Overview")
    expect(overview).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_contain_text("HTTP 503 Service Unavailable")
    expect(page.get_by_role("tabpanel")).to_contain_text(event["event_id"])
    accessible(page)
    screenshot(page, "failed-event")
    overview.focus()
    page.keyboard.press("ArrowRight")
    payload = page.get_by_role("tab", name="Payload")
    expect(payload).to_be_focused()
    expect(payload).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel")
    expect(panel).to_contain_text(f'"event_id": "{event["event_id"]}"')
    expect(panel.get_by_role("row", name=re.compile("webhook-id"))).to_have_count(1)
    assert "tab=payload" in page.url
    accessible(page)
    page.keyboard.press("ArrowRight")
    history = page.get_by_role("tabpanel")
    expect(page.get_by_role("tab", name=re.compile("Trial History"))).to_have_attribute(
        "aria-selected", "true"
    )
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr")).to_contain_text("503")
    expect(history.locator("tbody tr")).to_contain_text("automatic")
    accessible(page)

    # Without the script, a tab is a link the server answers: the same panel, the others hidden.
    page.goto(page.url.replace("tab=history", "tab=payload"))
    expect(page.get_by_role("tabpanel")).to_contain_text('"event_type": "OnNew"')

    # Resent while the receiver still fails: the new attempt joins the trial history, by its resender.
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status")).to_contain_text("was resent and failed again (503")
    # Not a success: the message is a warning, not the green of one.
    expect(page.get_by_role("status")).to_have_class("flash warn")
    expect(page.get_by_role("tab", name=re.compile("Trial History"))).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.get_by_role("tabpanel").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("tabpanel").locator("tbody tr").nth(1)).to_contain_text("otto")

    console.receiver.behave("/flaky", status=200)
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status")).to_contain_text("was resent and delivered: it is closed")
    expect(page.get_by_role("status")).to_have_class("flash")
    expect(page.get_by_role("heading", name="No failed events match these filters")).to_be_visible()
    accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    page.goto(console.url("/requests?subscription=e2e-users"))
    logged = page.get_by_role("row", name=re.compile("successful-"))
    expect(logged).to_have_count(1)
    expect(logged).to_contain_text("Successful")
    expect(logged).to_contain_text("HTTP 200")
    expect(logged).to_contain_text("resent by otto")


def test_filters_narrow_the_list_and_keep_their_values(console: Console, sign_in: SignIn) -> None:
    _create(console, "filter-a", "/filters")
    _create(console, "filter-b", "/filters")
    day = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    console.seed(
        failed_record("flt-a1", subscription="filter-a", start=day, tries=1, channel="7"),
        failed_record(
            "flt-a2",
            subscription="filter-a",
            start=day + timedelta(days=4),
            tries=2,
            error_code="timeout",
            error_description="no answer within 15 s",
            response_status=None,
            channel="7",
        ),
        failed_record("flt-b1", subscription="filter-b", start=day, tries=1, channel="1", trigger="OnUpdate"),
    )
    page = sign_in("viewer")
    page.goto(console.url("/failed-events"))
    page.get_by_label("Webhook").select_option("filter-a")
    page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("table.failed tbody tr")
    expect(rows).to_have_count(2)
    expect(shown(page)).to_have_text(f"1{DASH}2 of 2")
    # Empty fields stay out of the address.
    assert page.url.endswith("/failed-events?subscription=filter-a&state=open")

    page.get_by_label("Error code").fill("timeout")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("timeout")
    expect(page.get_by_label("Webhook")).to_have_value("filter-a")
    expect(page.get_by_label("Error code")).to_have_value("timeout")

    # Days in the browser's zone (Europe/Berlin), both included.
    page.get_by_label("Error code").fill("")
    page.get_by_label("From", exact=True).fill("2024-03-04")
    page.get_by_label("To", exact=True).fill("2024-03-05")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("timeout")
    assert "tz=Europe%2FBerlin" in page.url
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-03-04")
    page.get_by_label("From", exact=True).fill("2024-03-01")
    page.get_by_label("To", exact=True).fill("2024-03-01")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("503")

    # Another webhook on a channel it has no failures on: the empty state says what to do.
    page.goto(console.url("/failed-events?subscription=filter-b&channel=7"))
    expect(page.get_by_label("Channel", exact=True)).to_have_value("7")
    expect(page.get_by_role("heading", name="No failed events match these filters")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Clear the filters").click()
    expect(page).to_have_url(console.url("/failed-events"))
    expect(page.get_by_label("Webhook")).to_have_value("")

    # A day that is not one is shown by its field, not as an error page.
    page.goto(console.url("/failed-events?subscription=filter-a&since=yesterday"))
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("not a date")).to_be_visible()

    # A forged place in the list: said so, with the way to the first page.
    page.goto(console.url("/failed-events?subscription=filter-a&cursor=bm90LWEtY3Vyc29y&trail="))
    expect(page.get_by_role("alert")).to_contain_text("This address cannot be shown")
    page.get_by_role("link", name="Start from the first page").click()
    expect(page.locator("table.failed tbody tr")).to_have_count(2)


def test_ten_thousand_failed_events_page_by_page(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    codes = ["503", "timeout", "500", "connect_error", "429"]
    record_failures(
        console.store_url,
        [
            failed_record(
                f"bulk-{n}",
                subscription=f"bulk-orders-{n % 3}",
                start=start + timedelta(minutes=n),
                tries=1 + n % 4,
                entity_id=f"obj-{n}",
                error_code=codes[n % len(codes)],
                error_description=f"attempt failed with {codes[n % len(codes)]}",
                channel=str(n % 18),
                subchannel=f"stream-{n % 7}",
            )
            for n in range(10_000)
        ],
    )
    page = sign_in("operator")
    page.goto(console.url("/failed-events?since=2025-01-01&until=2025-01-31&tz=UTC"))
    rows = page.locator("table.failed tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator("h1 .count")).to_have_text("10,000")
    expect(shown(page)).to_have_text(f"1{DASH}50 of 10,000")
    newest = rows.first.locator("th").inner_text()
    page.get_by_label("Select every failed event on this page").check()
    expect(page.get_by_text("50 selected")).to_be_visible()
    accessible(page)
    screenshot(page, "failed-events")

    page.get_by_role("navigation", name="Pages of failed events", exact=True).get_by_role(
        "link", name="Next"
    ).click()
    expect(shown(page)).to_have_text(f"51{DASH}100 of 10,000")
    expect(rows).to_have_count(50)
    assert rows.first.locator("th").inner_text() != newest
    page.get_by_role("navigation", name="Pages of failed events", exact=True).get_by_role(
        "link", name="Next"
    ).click()
    expect(shown(page)).to_have_text(f"101{DASH}150 of 10,000")
    page.get_by_role("navigation", name="Pages of failed events", exact=True).get_by_role(
        "link", name="Previous"
    ).click()
    expect(shown(page)).to_have_text(f"51{DASH}100 of 10,000")
    page.get_by_role("navigation", name="Pages of failed events", exact=True).get_by_role(
        "link", name="First page"
    ).click()
    expect(shown(page)).to_have_text(f"1{DASH}50 of 10,000")
    expect(rows.first.locator("th")).to_have_text(newest)

    dark = sign_in("operator", theme="dark")
    dark.goto(page.url)
    expect(dark.locator("table.failed tbody tr")).to_have_count(50)
    accessible(dark)


def test_an_operator_resends_and_deletes_many_and_a_viewer_may_do_neither(
    console: Console, sign_in: SignIn
) -> None:
    console.receiver.behave("/many", status=200)
    _create(console, "many-ok", "/many")
    when = datetime(2024, 6, 1, tzinfo=UTC)
    ok_1, ok_2, ghost, doomed = console.seed(
        failed_record("many-1", subscription="many-ok", start=when, request_body=_body("evt-many-1")),
        failed_record("many-2", subscription="many-ok", start=when, request_body=_body("evt-many-2")),
        failed_record("many-3", subscription="many-gone", start=when, request_body=_body("evt-many-3")),
        failed_record("many-4", subscription="many-ok", start=when, request_body=_body("evt-many-4")),
    )
    listing = "/failed-events?since=2024-06-01&until=2024-06-01&tz=UTC&entity=Object"

    viewer = sign_in("viewer")
    viewer.goto(console.url(listing))
    expect(viewer.locator("table.failed tbody tr")).to_have_count(4)
    expect(viewer.get_by_role("checkbox")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Resend")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Delete")).to_have_count(0)
    viewer.get_by_role("link", name="many-gone").click()
    expect(viewer.get_by_role("heading", name=re.compile("many-gone"))).to_be_visible()
    expect(viewer.get_by_role("button", name="Resend")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Delete")).to_have_count(0)

    page = sign_in("operator")
    page.goto(console.url(listing))
    resend = page.get_by_role("button", name="Resend")
    expect(resend).to_be_disabled()
    for failed_id in (ok_1, ok_2, ghost):
        page.get_by_label(re.compile(f"^Select failed event {failed_id} ")).check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    resend.click()
    expect(page.get_by_role("status")).to_have_text(
        "Resent 3 failed events: 2 resent and delivered and "
        "1 not sent: the subscription is deleted or suspended"
    )
    expect(page.locator("table.failed tbody tr")).to_have_count(2)
    assert sorted(console.receiver.event_ids("/many")) == ["evt-many-1", "evt-many-2"]

    # Delete asks first: dismissed, nothing goes; accepted, the selected ones go.
    page.get_by_label(re.compile(f"^Select failed event {doomed} ")).check()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("table.failed tbody tr")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Deleted 1 failed event")
    expect(page.locator("table.failed tbody tr")).to_have_count(1)
    assert console.api("GET", f"/failed-events/{doomed}")[0] == 404

    # From the details page: delete that one.
    page.get_by_role("link", name="many-gone").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text(f"Failed event {ghost} is deleted")
    expect(page).to_have_url(console.url(listing))
    expect(page.get_by_role("heading", name="No failed events match these filters")).to_be_visible()
