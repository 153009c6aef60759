"""The subscriptions pages: the list (toggle, failed-event warnings, a menu per row) and one's details."""

from __future__ import annotations

from typing import Any

import yaml
from aiohttp import web

from admin.api.schemas import SubscriptionList, SubscriptionListItem, SubscriptionOut
from admin.console.app import Page, page

__all__ = ["ROUTES", "trigger_summary"]


def trigger_summary(trigger: Any) -> str:
    """``OnNewActivity: StatusChange · Resolved`` — a trigger and the components it filters on."""
    if not isinstance(trigger, dict):
        return str(trigger)
    chosen = [
        ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in trigger.items()
        if key != "event_type" and value not in (None, [], "")
    ]
    event_type = str(trigger.get("event_type", "?"))
    return f"{event_type}: {' · '.join(chosen)}" if chosen else event_type


def _endpoint(item: SubscriptionOut) -> dict[str, Any]:
    endpoint = item.config.get("endpoint")
    return endpoint if isinstance(endpoint, dict) else {}


def _url(item: SubscriptionOut) -> str:
    return str(_endpoint(item).get("url", ""))


def _row(item: SubscriptionListItem) -> dict[str, Any]:
    triggers = item.config.get("triggers")
    return {
        "item": item,
        "url": _url(item),
        "triggers": [trigger_summary(t) for t in triggers] if isinstance(triggers, list) else [],
        "type": "SOAP" if _endpoint(item).get("type") == "soap" else "REST",
    }


@page()
async def list_page(view: Page) -> web.StreamResponse:
    listed = await view.call(SubscriptionList, "list_subscriptions")
    rows = [_row(item) for item in listed.items]
    return view.render("subscriptions.html", title="Subscriptions", rows=rows, since=listed.since)


@page()
async def details_page(view: Page) -> web.StreamResponse:
    name = view.request.match_info["name"]
    item = await view.call(SubscriptionOut, "get_subscription", path={"name": name})
    listed = await view.call(SubscriptionList, "list_subscriptions", query={"name_contains": name})
    counts = next((i.counts for i in listed.items if i.name == name), None)
    written = yaml.safe_dump(item.config, sort_keys=False, allow_unicode=True)
    return view.render(
        "subscription.html", title=item.name, item=item, url=_url(item), written=written, counts=counts
    )


@page("operator")
async def toggle(view: Page) -> web.StreamResponse:
    name = view.request.match_info["name"]
    form = await view.form()
    suspend = form.get("to") == "off"
    await view.call(
        SubscriptionOut, "suspend_subscription" if suspend else "resume_subscription", path={"name": name}
    )
    said = f"{name} is suspended: nothing is delivered to it" if suspend else f"{name} delivers again"
    return view.redirect(form.get("back") or "/subscriptions", said)


@page("admin")
async def delete(view: Page) -> web.StreamResponse:
    name = view.request.match_info["name"]
    await view.form()
    await view.act("delete_subscription", path={"name": name})
    return view.redirect("/subscriptions", f"{name} is deleted")


ROUTES = [
    web.get("/subscriptions", list_page),
    web.get("/subscriptions/{name}", details_page),
    web.post("/subscriptions/{name}/toggle", toggle),
    web.post("/subscriptions/{name}/delete", delete),
]
