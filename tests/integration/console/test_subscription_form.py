"""The New and Edit subscription pages, in Chromium against a live hookstream: a subscription made
in the form delivers, greyed-out choices, the server's errors by their field, secrets never shown."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from consumer.wire.codec import encode_avro
from tests.integration.console.conftest import TOKENS, Console, SignIn, accessible
from tests.integration.test_pipeline import events, subscription
from tests.support.kafka import produce

pytestmark = pytest.mark.kafka

Screenshot = Callable[[Page, str], Path]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _deliver_one(console: Console, path: str, entity: str, event_type: str) -> dict[str, str]:
    """Produce one matching event; the headers of the webhook that arrives at ``path``."""
    [event] = events(1, entity=entity, event_type=event_type)
    produce(console.bootstrap, console.service.input_topic, [encode_avro(event)])
    assert console.receiver.wait_for(
        lambda: event["event_id"] in console.receiver.event_ids(path), timeout=30
    ), f"no webhook at {path}"
    [arrived] = [r for r in console.receiver.requests(path) if r.body["event_id"] == event["event_id"]]
    return {k.lower(): v for k, v in arrived.headers.items()}


def _picture(screenshot: Screenshot, page: Page, name: str) -> None:
    """A full-page picture from the top (the top bar is sticky: scrolled, it would show mid-page)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def _trigger(page: Page, number: int) -> Locator:
    return page.get_by_role("region", name=f"Trigger {number}")


def _group(page: Page, trigger: int, label: str) -> Locator:
    """A component's checkbox group in the trigger's panel of the event type chosen (OnNewActivity)."""
    return (
        _trigger(page, trigger)
        .locator('.panel[data-event-type="OnNewActivity"]')
        .get_by_role("group", name=label)
    )


@pytest.fixture
def without_script(browser: Browser, console: Console) -> Iterator[Page]:
    """A browser tab with JavaScript off, signed in as an admin."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(console.url("/sign-in"))
    page.get_by_label("Token").fill(TOKENS["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/subscriptions")
    yield page
    context.close()


def test_a_subscription_made_step_by_step_delivers_with_its_basic_auth(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    page = sign_in("admin")
    page.get_by_role("link", name="New subscription").click()
    expect(page.get_by_role("heading", name="New subscription")).to_be_visible()
    assert page.url.endswith("/subscriptions/new")  # the form, not the details of one named "new"
    accessible(page)

    page.get_by_label("Name", exact=True).fill("form-users")
    with page.expect_navigation():  # another entity: the server draws its triggers
        page.get_by_label("Entity").select_option("User")
    expect(page.get_by_label("Name", exact=True)).to_have_value("form-users")
    page.get_by_label("Event").select_option("OnNew")
    page.get_by_role("button", name="Next: Webhook type").click()

    expect(page.get_by_role("group", name="Webhook type")).to_be_focused()
    page.get_by_label("REST").check()
    page.get_by_label("URL", exact=True).fill(console.receiver.url("/form-users"))
    page.get_by_role("button", name="Next: Authentication").click()

    page.get_by_label("Basic", exact=True).check()
    basic = page.locator('[data-auth-type="basic"]')
    basic.get_by_label("User name").fill("crm")
    basic.get_by_label("Password").fill("s3cret-typed-in")
    page.get_by_role("button", name="Next: Retries").click()

    page.get_by_label("Retries after a failed delivery").select_option("2")
    expect(page.get_by_text("0 to 5, 5 minutes apart")).to_be_visible()
    _picture(screenshot, page, "subscription-form-retries")
    page.get_by_role("button", name="Create subscription").click()

    expect(page.get_by_role("status")).to_contain_text("form-users is created")
    expect(page.get_by_role("heading", name="form-users")).to_be_visible()
    assert "s3cret-typed-in" not in page.content()
    status, item = console.api("GET", "/subscriptions/form-users")
    assert status == 200
    assert item["config"]["triggers"] == [{"event_type": "OnNew"}]
    assert item["config"]["auth"] == {"type": "basic", "username": "crm", "password": "[redacted]"}
    assert item["config"]["retry"]["attempts"] == 2

    headers = _deliver_one(console, "/form-users", "User", "OnNew")
    assert headers["authorization"] == _basic("crm", "s3cret-typed-in")


def test_a_status_chosen_in_one_trigger_is_greyed_out_in_the_others_and_channels_go_on_the_first(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    page = sign_in("admin")
    page.goto(console.url("/subscriptions/new"))
    page.get_by_label("Event").select_option("OnNewActivity")
    _group(page, 1, "Activity types").get_by_role("checkbox", name="StatusChange").check()
    _group(page, 1, "Status changes").get_by_role("checkbox", name="Resolved").check()
    _group(page, 1, "Channels").get_by_role("checkbox", name="WhatsApp", exact=True).check()
    page.get_by_role("button", name="Add trigger").click()  # a round trip that keeps every choice

    expect(_trigger(page, 2).get_by_label("Event")).to_be_focused()
    expect(_group(page, 1, "Status changes").get_by_role("checkbox", name="Resolved")).to_be_checked()
    _trigger(page, 2).get_by_label("Event").select_option("OnNewActivity")
    resolved = _group(page, 2, "Status changes").get_by_role("checkbox", name="Resolved")
    expect(resolved).to_be_disabled()
    expect(resolved).to_have_attribute("aria-disabled", "true")
    expect(_group(page, 2, "Status changes").locator("label", has_text="Resolved")).to_contain_text(
        "in trigger 1"
    )
    expect(_group(page, 2, "Status changes").get_by_role("checkbox", name="Open")).to_be_enabled()
    # Channels are set once, on the first OnNewActivity trigger.
    expect(page.locator('input[name="t1.OnNewActivity.channels"][value="4"]')).to_be_disabled()
    expect(_group(page, 2, "Channels").get_by_role("checkbox")).to_have_count(0)  # not offered there
    expect(_group(page, 2, "Channels")).to_contain_text("Set on trigger 1: they apply to this trigger too")
    accessible(page)
    _picture(screenshot, page, "subscription-form")

    # Unticked in trigger 1, it is free in trigger 2 again; ticked there, greyed out in trigger 1.
    _group(page, 1, "Status changes").get_by_role("checkbox", name="Resolved").uncheck()
    expect(resolved).to_be_enabled()
    resolved.check()
    expect(_group(page, 1, "Status changes").get_by_role("checkbox", name="Resolved")).to_be_disabled()

    # The server refuses the same: its rules, not only the page's.
    body = subscription(
        "form-dupes",
        console.receiver.url("/x"),
        trigger="OnNewActivity",
        components={"activity_types": ["StatusChange"], "statuses": ["Resolved"], "channels": ["WhatsApp"]},
    )
    body["triggers"].append(
        {"event_type": "OnNewActivity", "activity_types": [2], "statuses": [2], "channels": ["Mail"]}
    )
    status, answer = console.api("POST", "/subscriptions/validate", body)
    assert status == 200
    assert answer["valid"] is False
    assert {e["path"] for e in answer["errors"]} == {"$.triggers[1].statuses[0]", "$.triggers[1].channels"}


def _error(page: Page, field_id: str) -> Locator:
    return page.locator(f"#{field_id}-error")


def test_the_servers_errors_appear_next_to_their_fields(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    page = sign_in("admin")
    page.goto(console.url("/subscriptions/new"))
    page.get_by_label("Name", exact=True).fill("form-errors")
    page.get_by_label("Event").select_option("OnNewActivity")
    _group(page, 1, "Activity types").get_by_role("checkbox", name="StatusChange").check()
    _group(page, 1, "Status changes").get_by_role("checkbox", name="Resolved").check()
    _group(page, 1, "Channels").get_by_role("checkbox", name="WhatsApp", exact=True).check()
    page.get_by_role("button", name="Add trigger").click()
    _trigger(page, 2).get_by_label("Event").select_option("OnNewActivity")
    _group(page, 2, "Activity types").get_by_role("checkbox", name="StatusChange").check()
    # A browser that ignores the greying out (or a page out of date) sends what the page would not.
    page.evaluate(
        """() => {
          document.querySelectorAll("form :disabled").forEach((node) => { node.disabled = false; });
          document.querySelector('input[name="t1.OnNewActivity.statuses"][value="2"]').checked = true;
          document.querySelector('input[name="t1.OnNewActivity.channels"][value="4"]').checked = true;
        }"""
    )
    page.get_by_role("link", name="Webhook type").click()
    page.get_by_label("URL", exact=True).fill("ftp://crm.example.com/hooks")
    page.get_by_role("link", name="Authentication").click()
    page.get_by_label("OAuth 2.0 client credentials").check()
    client = page.locator('[data-auth-type="oauth2_client_credentials"]')
    client.get_by_label("Client ID").fill("hookstream")
    client.get_by_label("Client secret").fill("typed-client-secret")
    page.get_by_role("link", name="Retries").click()
    page.get_by_role("button", name="Create subscription").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The subscription was not created: 4 problems")
    statuses = _error(page, "f-t1-OnNewActivity-statuses")
    expect(statuses).to_contain_text("Resolved is already chosen in trigger 1")
    expect(_error(page, "f-t1-OnNewActivity-channels")).to_contain_text("(already in trigger 1)")
    group = _group(page, 2, "Status changes")
    expect(group).to_have_attribute(
        "aria-describedby", "f-t1-OnNewActivity-statuses-hint f-t1-OnNewActivity-statuses-error"
    )
    expect(group.get_by_role("checkbox", name="Resolved")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("link", name="Details")).to_have_attribute("aria-current", "step")
    accessible(page)
    _picture(screenshot, page, "subscription-form-errors")

    summary.get_by_role("link", name="URL", exact=True).click()
    url = page.get_by_label("URL", exact=True)
    expect(url).to_be_focused()
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(url).to_have_attribute("aria-describedby", "f-endpoint-url-hint f-endpoint-url-error")
    expect(_error(page, "f-endpoint-url")).to_contain_text("must be an absolute https:// URL")
    expect(url).to_have_value("ftp://crm.example.com/hooks")
    page.get_by_role("link", name="Authentication").click()
    token_url = client.get_by_label("Token URL")
    expect(token_url).to_have_attribute("aria-invalid", "true")
    expect(_error(page, "f-auth-oauth2_client_credentials-token_url")).to_contain_text("required")
    expect(client.get_by_label("Client ID")).to_have_value("hookstream")
    # The typed secret is not sent back: it is asked for again.
    assert "typed-client-secret" not in page.content()
    expect(client).to_contain_text("Type it again")
    accessible(page)

    dark = sign_in("admin", theme="dark")
    dark.goto(console.url("/subscriptions/new"))
    dark.get_by_label("Name", exact=True).fill("file-orders")  # a file's name
    dark.get_by_label("Event").select_option("OnNew")
    dark.get_by_role("link", name="Webhook type").click()
    dark.get_by_label("URL", exact=True).fill(console.receiver.url("/form-taken"))
    dark.get_by_role("link", name="Retries").click()
    dark.get_by_role("button", name="Create subscription").click()
    expect(dark.get_by_role("alert")).to_contain_text("1 problem")
    expect(_error(dark, "f-name")).to_contain_text("used by a subscriptions file")
    expect(dark.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    accessible(dark)
    _picture(screenshot, dark, "subscription-form-dark-errors")


def test_edit_keeps_saved_secrets_out_of_the_page_and_what_the_form_does_not_show(
    console: Console, sign_in: SignIn, screenshot: Screenshot
) -> None:
    body: dict[str, Any] = subscription(
        "form-edit",
        console.receiver.url("/form-edit"),
        entity="Tag",
        trigger="OnAdd",
        endpoint={"headers": {"X-Tenant": "acme"}, "public_headers": ["X-Tenant"], "timeout": 7},
        auth={"type": "basic", "username": "crm", "password": "hunter2-stored"},
        description="made by the API",
        fields=["name"],
        log="all",
        retry={"attempts": 4, "interval": "5m"},
    )
    assert console.api("POST", "/subscriptions", body)[0] == 201

    page = sign_in("admin")
    page.get_by_label("Actions for form-edit").click()
    page.get_by_role("row", name="form-edit").get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name="Edit form-edit")).to_be_visible()
    assert "hunter2" not in page.content()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("readonly", "")
    page.get_by_role("link", name="Authentication").click()
    password = page.locator('[data-auth-type="basic"]').get_by_label("Password")
    expect(password).to_have_value("")
    expect(page.locator("#f-auth-basic-password-hint")).to_contain_text("Saved — leave empty to keep it")
    accessible(page)
    _picture(screenshot, page, "subscription-form-edit")
    page.get_by_role("link", name="Retries").click()
    page.get_by_label("Retries after a failed delivery").select_option("1")
    page.get_by_role("button", name="Update subscription").click()

    expect(page.get_by_role("status")).to_contain_text("form-edit is saved")
    config = console.api("GET", "/subscriptions/form-edit")[1]["config"]
    assert config["retry"] == {"attempts": 1, "interval": "5m"}
    assert config["auth"] == {"type": "basic", "username": "crm", "password": "[redacted]"}
    assert config["description"] == "made by the API"
    assert config["fields"] == ["name"]
    assert config["log"] == "all"
    assert config["endpoint"]["headers"] == {"X-Tenant": "acme"}
    assert config["endpoint"]["timeout"] == 7
    # The stored password is still the one typed in at first: the delivery authenticates with it.
    headers = _deliver_one(console, "/form-edit", "Tag", "OnAdd")
    assert headers["authorization"] == _basic("crm", "hunter2-stored")
    assert headers["x-tenant"] == "acme"


def test_a_file_subscription_is_not_edited_here_and_only_an_admin_gets_the_form(
    console: Console, sign_in: SignIn
) -> None:
    page = sign_in("admin")
    response = page.goto(console.url("/subscriptions/file-orders/edit"))
    assert response is not None
    assert response.status == 409
    expect(page.get_by_role("alert")).to_contain_text("comes from a subscriptions file")
    accessible(page)

    operator = sign_in("operator")
    for path in ("/subscriptions/new", "/subscriptions/form-users/edit"):
        response = operator.goto(console.url(path))
        assert response is not None
        assert response.status == 403


def test_the_form_works_without_javascript(console: Console, without_script: Page) -> None:
    page = without_script
    page.goto(console.url("/subscriptions/new"))
    # Every step shows; the trigger's components are there for each of the entity's triggers.
    expect(page.get_by_role("group", name="Retries")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("form-plain")
    page.get_by_label("Event").select_option("OnNewActivity")
    _group(page, 1, "Activity types").get_by_role("checkbox", name="Remark").check()
    page.get_by_role("button", name="Add trigger").click()
    page.get_by_role("button", name="Remove trigger 2").click()
    expect(_trigger(page, 2)).to_have_count(0)
    expect(_group(page, 1, "Activity types").get_by_role("checkbox", name="Remark")).to_be_checked()
    page.get_by_label("URL", exact=True).fill(console.receiver.url("/form-plain"))
    page.get_by_label("URL", exact=True).press("Enter")  # saves; it does not add a trigger

    expect(page.get_by_role("status")).to_contain_text("form-plain is created")
    config = console.api("GET", "/subscriptions/form-plain")[1]["config"]
    assert config["triggers"] == [{"event_type": "OnNewActivity", "activity_types": ["Remark"]}]
    assert config["auth"] == {"type": "none"}
    assert config["retry"] == {"attempts": 3}
