"""Signing in, the subscriptions list and one subscription's page, in Chromium."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from consumer.wire.codec import encode_avro
from tests.integration.console.conftest import NAMES, Console, SignIn, accessible
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import produce

pytestmark = pytest.mark.kafka


def test_a_page_asks_for_a_token_first_and_refuses_a_wrong_one(
    console: Console, sign_in: SignIn, screenshot: Callable[[Page, str], Path]
) -> None:
    page = sign_in("viewer")
    page.context.clear_cookies()
    page.goto(console.url("/subscriptions/file-orders?from=x"))
    assert "/sign-in?next=" in page.url
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("unknown token")
    expect(page.get_by_label("Token")).to_have_attribute("aria-invalid", "true")
    accessible(page)
    screenshot(page, "sign-in")


def test_the_list_shows_every_subscription_with_its_source_and_a_warning_count(
    console: Console, sign_in: SignIn, screenshot: Callable[[Page, str], Path]
) -> None:
    status, _ = console.api(
        "POST", "/subscriptions", subscription("api-tickets", console.receiver.url("/api"), entity="User")
    )
    assert status == 201
    page = sign_in("admin")
    file_row = page.get_by_role("row", name="file-orders")
    api_row = page.get_by_role("row", name="api-tickets")
    expect(file_row).to_contain_text("File (Git)")
    expect(api_row).to_contain_text("API")
    expect(api_row).to_contain_text(f"by {NAMES['admin']}")
    expect(api_row).to_contain_text("User")
    expect(page.get_by_text("Times in Europe/Berlin")).to_be_visible()
    # A file subscription offers no edit or delete: it is changed in Git.
    file_row.get_by_label("Actions for file-orders").click()
    expect(file_row.get_by_text("Managed in Git")).to_be_visible()
    expect(file_row.get_by_role("link", name="Edit")).to_have_count(0)
    page.keyboard.press("Escape")
    accessible(page)
    screenshot(page, "subscriptions")

    dark = sign_in("admin", theme="dark")
    expect(dark.locator("html")).to_have_attribute("data-theme", "dark")
    accessible(dark)
    dark.get_by_role("button", name="Switch to the light theme").click()
    expect(dark.locator("html")).to_have_attribute("data-theme", "light")
    dark.reload()
    expect(dark.locator("html")).to_have_attribute("data-theme", "light")


def test_the_toggle_suspends_and_resumes_and_a_viewer_gets_no_toggle(
    console: Console, sign_in: SignIn
) -> None:
    page = sign_in("operator")
    switch = page.get_by_role("switch", name="file-orders: on, suspend it")
    switch.click()
    expect(page.get_by_role("status")).to_contain_text("file-orders is suspended")
    assert console.api("GET", "/subscriptions/file-orders")[1]["suspended"] is True
    page.get_by_role("switch", name="file-orders: suspended, resume it").click()
    expect(page.get_by_role("status")).to_contain_text("file-orders delivers again")
    assert console.api("GET", "/subscriptions/file-orders")[1]["suspended"] is False
    # An operator may not edit: no New button, no Edit in the menu.
    expect(page.get_by_role("link", name="New subscription")).to_have_count(0)

    viewer = sign_in("viewer")
    expect(viewer.get_by_role("switch")).to_have_count(0)
    expect(viewer.get_by_role("row", name="file-orders")).to_contain_text("On")


def test_details_show_the_subscription_as_written_without_its_secrets(
    console: Console, sign_in: SignIn
) -> None:
    body = subscription(
        "api-secret",
        console.receiver.url("/api"),
        auth={"type": "basic", "username": "crm", "password": "hunter2-very-secret"},
    )
    assert console.api("POST", "/subscriptions", body)[0] == 201
    page = sign_in("viewer")
    page.get_by_role("link", name="api-secret").click()
    expect(page.get_by_role("heading", name="api-secret")).to_be_visible()
    expect(page.locator("pre")).to_contain_text("[redacted]")
    assert "hunter2" not in page.content()
    accessible(page)


def test_an_admin_deletes_an_api_subscription_from_its_menu(console: Console, sign_in: SignIn) -> None:
    assert (
        console.api("POST", "/subscriptions", subscription("api-doomed", console.receiver.url("/api")))[0]
        == 201
    )
    page = sign_in("admin")
    page.get_by_label("Actions for api-doomed").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row", name="api-doomed").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("api-doomed is deleted")
    expect(page.get_by_role("row", name="api-doomed")).to_have_count(0)
    assert console.api("GET", "/subscriptions/api-doomed")[0] == 404


def test_a_form_post_without_the_pages_guard_is_refused(console: Console, sign_in: SignIn) -> None:
    page = sign_in("admin")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "hookstream_token")
    # Another site's form: the token cookie would come along, but not the guard's value.
    request = urllib.request.Request(
        console.url("/subscriptions/file-orders/toggle"),
        data=b"to=off",
        method="POST",
        headers={"Cookie": f"hookstream_token={token}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert console.api("GET", "/subscriptions/file-orders")[1]["suspended"] is False


def test_suspended_with_the_toggle_nothing_is_delivered_until_resumed(
    console: Console, sign_in: SignIn
) -> None:
    # Only file-orders sends to /ok here (the other tests' subscriptions send to /api).
    held, after = events(2, entity="Object", event_type="OnNew")
    page = sign_in("operator")
    page.get_by_role("switch", name="file-orders: on, suspend it").click()
    expect(page.get_by_role("status")).to_contain_text("file-orders is suspended")
    # Every process applies a suspension within a second; then an event comes, and is read, while it holds.
    time.sleep(2)
    consumed = console.service.metric("hookstream_events_consumed_total", topic=console.service.input_topic)
    produce(console.bootstrap, console.service.input_topic, [encode_avro(held)], key=b"one-partition")
    assert console.receiver.wait_for(
        lambda: (
            console.service.metric("hookstream_events_consumed_total", topic=console.service.input_topic)
            > consumed
        ),
        timeout=30,
    )

    page.get_by_role("switch", name="file-orders: suspended, resume it").click()
    expect(page.get_by_role("status")).to_contain_text("file-orders delivers again")
    time.sleep(2)
    produce(console.bootstrap, console.service.input_topic, [encode_avro(after)], key=b"one-partition")

    # The later event, on the same partition, arrives: the one sent while suspended was read before it.
    assert console.receiver.wait_for(
        lambda: after["event_id"] in console.receiver.event_ids("/ok"), timeout=30
    )
    assert console.receiver.event_ids("/ok") == {after["event_id"]: 1}


def test_the_proxys_user_needs_no_token_and_gets_their_groups_role(
    browser: Browser, console: Console
) -> None:
    context = browser.new_context(extra_http_headers={"X-Forwarded-User": "pat", "X-Forwarded-Groups": "sre"})
    try:
        page = context.new_page()
        page.goto(console.url("/"))
        assert page.url.endswith("/subscriptions")
        expect(page.locator(".who")).to_have_text("pat operator")
        expect(page.get_by_role("switch", name="file-orders: on, suspend it")).to_be_visible()
        # Signed in by the proxy, so signed out there too: no button here.
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    finally:
        context.close()


def test_times_read_in_the_browsers_zone_as_year_month_day(console: Console, sign_in: SignIn) -> None:
    assert (
        console.api("POST", "/subscriptions", subscription("api-dated", console.receiver.url("/api")))[0]
        == 201
    )
    created = console.api("GET", "/subscriptions/api-dated")[1]["created_at"]
    page = sign_in("viewer")
    shown = page.get_by_role("row", name="api-dated").locator("time").first
    # The browser is in Europe/Berlin: UTC+1 in winter, UTC+2 in summer.
    utc = datetime.fromisoformat(created)
    berlin = utc.astimezone(ZoneInfo("Europe/Berlin"))
    expect(shown).to_have_text(berlin.strftime("%Y-%m-%d %H:%M:%S"))
    expect(shown).to_have_attribute("title", utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
